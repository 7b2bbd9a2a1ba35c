"""Grading time of each assignment: the solution submission, graded without --execute, median of runs.

Usage: python benchmarks/grading_time.py [--runs 3]
"""

import argparse
import os

from common import BIN, ROOT, median_of


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; python -m grader grade <solution> --quiet, median of {args.runs}")
    for a in sorted(p.name for p in (ROOT / "release").iterdir() if p.is_dir()):
        notebook = ROOT / "submitted" / "solution" / a / f"{a}.ipynb"
        median, times, peak = median_of(
            [str(BIN / "python"), "-m", "grader", "grade", str(notebook), "--quiet"], args.runs
        )
        print(
            f"{a:<14} {median:6.1f} s  (runs: {', '.join(f'{t:.1f}' for t in times)}), "
            f"peak memory {peak / 2**20:.0f} MiB"
        )


if __name__ == "__main__":
    main()
