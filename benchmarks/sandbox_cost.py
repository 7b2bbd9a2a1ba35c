"""What the sandbox costs per submission: the same grading with bubblewrap and without, same session.

Usage: python benchmarks/sandbox_cost.py [--runs 5]
"""

import argparse
import statistics
import time

from common import ROOT


def seconds(assignment: str, isolation: str, runs: int) -> list[float]:
    from grader.grading import grade

    notebook = ROOT / "submitted" / "solution" / assignment / f"{assignment}.ipynb"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        report = grade(notebook, assignment, isolation=isolation)
        times.append(time.perf_counter() - start)
        assert report.score == report.max_score, report.errors
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    seconds("m1_concepts", "none", 1)  # warm the page cache and imports before timing
    print(f"{'assignment':<14} {'bubblewrap':>11} {'no sandbox':>11} {'cost':>8}")
    for assignment in ("m1_concepts", "m2_vision"):
        # interleaved so that drift in machine load hits both alike
        confined, bare = [], []
        for _ in range(args.runs):
            confined += seconds(assignment, "bubblewrap", 1)
            bare += seconds(assignment, "none", 1)
        a, b = statistics.median(confined), statistics.median(bare)
        print(f"{assignment:<14} {a:>10.2f}s {b:>10.2f}s {a - b:>+7.2f}s  (medians of {args.runs}, in-process grade())")


if __name__ == "__main__":
    main()
