"""`grade --execute` of each source notebook quiet and under load: the score must not move, and the heaviest
cell's CPU time (what the per-cell limit holds) must stay where it is quiet, far below the limit.

Loads, each beside the grading: CPU hogs (two `while True: pass` per core, each in its own session as
other users' programs are); torch jobs (one endless EfficientNet training loop per core, each with a
thread per core and OpenMP's default spinning, machine_load.torch_jobs). The clock is what load costs.

Usage: python benchmarks/execute_under_load.py [assignment ...]   (default: m2_vision)
"""

import os
import sys
from contextlib import nullcontext

from common import ROOT, grade_executed, heaviest_cell
from machine_load import busy_machine, torch_jobs

LOADS = {"quiet": nullcontext, "CPU hogs": busy_machine, "torch jobs": torch_jobs}


def main() -> None:
    assignments = sys.argv[1:] or ["m2_vision"]
    print(f"{os.cpu_count()} cores; python -m grader grade source/<id>/<id>.ipynb --execute")
    print(f"{'assignment':<14} {'load':<11} {'score':>7} {'wall s':>7}  heaviest cell: CPU s / limit (headroom)")
    for a in assignments:
        notebook = ROOT / "source" / a / f"{a}.ipynb"
        for load, context in LOADS.items():
            with context():
                report, seconds = grade_executed(notebook)
            print(
                f"{a:<14} {load:<11} {report['score']:g}/{report['max_score']:g} {seconds:7.1f}  "
                f"{heaviest_cell(report)}, {report['execution']['status']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
