"""What the grade of record costs over the notebook itself: `grade --execute` of each source notebook
against the same notebook run top to bottom by `jupyter execute`, one after the other in one session.
The difference is the grader's own work (starting the sandbox, the probes, the checks) and the sandbox's
(bubblewrap, its limits, passive OpenMP waiting). It also prints the heaviest cell's CPU time in the
grader's run next to the per-cell CPU limit, the margin an honest notebook has.

A class's grade of record costs about its number of correct submissions times the graded time (untouched
and broken notebooks stop early); the class figure printed is that product for 40 correct submissions,
an upper bound, not a run of 40.

Usage: python benchmarks/record_cost.py [assignment ...]   (default: m2_vision m3_evaluation m2_lora)
"""

import os
import sys

from common import BIN, ROOT, grade_executed, heaviest_cell, run


def main() -> None:
    assignments = sys.argv[1:] or ["m2_vision", "m3_evaluation", "m2_lora"]
    print(f"{os.cpu_count()} cores")
    print(
        f"{'assignment':<14} {'notebook s':>10} {'graded s':>9} {'overhead':>9}  {'40 correct':>10}  "
        "heaviest cell: CPU s / limit (headroom)"
    )
    for a in assignments:
        folder = ROOT / "source" / a
        notebook, _ = run([str(BIN / "jupyter"), "execute", "--output", os.devnull, f"{a}.ipynb"], cwd=folder)
        report, graded = grade_executed(folder / f"{a}.ipynb")
        print(
            f"{a:<14} {notebook:10.1f} {graded:9.1f} {graded / notebook - 1:9.1%}  {40 * graded / 3600:8.1f} h  "
            f"{heaviest_cell(report)}, {report['score']:g}/{report['max_score']:g}",
            flush=True,
        )


if __name__ == "__main__":
    main()
