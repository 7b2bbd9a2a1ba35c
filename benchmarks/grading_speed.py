"""Grading one submission: this grader (no --execute) against `nbgrader autograde`, same session.

Also the peak memory of grading (grader plus sandbox, summed over the process tree). What a student
waits for, the notebook's own runtime, is notebook_runtime.py.
Usage: python benchmarks/grading_speed.py [--assignment m2_vision] [--runs 5]
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

from common import BIN, ROOT, median_of, nbgrader_autograde, scratch_course


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assignment", default="m2_vision")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    a = args.assignment
    submission = ROOT / "submitted" / "solution" / a / f"{a}.ipynb"
    print(f"{a}: {os.cpu_count()} cores, submission {submission.relative_to(ROOT)}")

    grade = [str(BIN / "python"), "-m", "grader", "grade", str(submission), "--quiet"]
    median, times, peak = median_of(grade, args.runs)
    print(
        f"grader, no --execute: median {median:.1f} s over {args.runs} runs "
        f"({', '.join(f'{t:.1f}' for t in times)}), peak memory {peak / 2**20:.0f} MiB"
    )

    with tempfile.TemporaryDirectory() as tmp:
        nbgrader_seconds = nbgrader_autograde(scratch_course(Path(tmp)), a, {"bench": submission})
    print(f"nbgrader autograde, same notebook: {nbgrader_seconds:.1f} s")
    print(f"speed-up over nbgrader autograde: {nbgrader_seconds / median:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
