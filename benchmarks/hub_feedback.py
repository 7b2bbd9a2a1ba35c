"""Seconds from Submit to feedback a student can fetch, on the course hub (`make hub`), one submission at a time.

Starts a hub in a scratch folder, releases the assignments, and for each run submits the solution as a
student would (nbgrader submit, what the Assignments panel calls), then fetches feedback every half
second until the page of that submission arrives. Usage: python benchmarks/hub_feedback.py [--runs 3]
[--mode demo|class] (class: system accounts, each server and the autograder as its own; root only).
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import ROOT
from course_hub import Hub

ASSIGNMENTS = ("m1_concepts", "m2_vision")


def checked(done: subprocess.CompletedProcess) -> None:
    if done.returncode:
        raise SystemExit(f"{' '.join(done.args)} failed:\n{done.stderr[-2000:]}")


def submit_to_feedback(hub: Hub, assignment: str, run: int) -> float:
    home = hub.state / "home" / "student1"
    feedback = home / assignment / "feedback"
    before = {p.name for p in feedback.glob("*")}
    # each run a notebook not seen before (the same one again would keep its grade and skip grading)
    notebook = json.loads((ROOT / "submitted" / "solution" / assignment / f"{assignment}.ipynb").read_text())
    notebook["metadata"]["benchmark_run"] = run
    hub.save("student1", f"{assignment}/{assignment}.ipynb", json.dumps(notebook).encode())
    checked(hub.as_user("student1", "nbgrader", "submit", assignment))
    submitted = time.perf_counter()
    while not {p.name for p in feedback.glob("*")} - before:
        time.sleep(0.5)
        hub.as_user("student1", "nbgrader", "fetch_feedback", assignment)  # fails until feedback is released
    return time.perf_counter() - submitted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mode", choices=("demo", "class"), default="demo")
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} cores; {args.mode} mode; Submit to fetched feedback, one submission at a time, "
        f"{args.runs} runs"
    )
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp), students=1, mode=args.mode)
        checked(hub.script("start"))
        try:
            for assignment in ASSIGNMENTS:
                hub.release(assignment)
                checked(hub.as_user("student1", "nbgrader", "fetch_assignment", assignment))
                times = [submit_to_feedback(hub, assignment, run) for run in range(args.runs)]
                print(
                    f"{assignment:<14} median {statistics.median(times):5.1f} s  "
                    f"(runs: {', '.join(f'{t:.1f}' for t in times)})"
                )
        finally:
            hub.script("stop")


if __name__ == "__main__":
    main()
