"""Seconds from Submit to feedback a student can fetch, on the course hub (`make hub`), one submission at a time.

Starts a hub in a scratch folder, releases the assignments, and for each run submits the solution as a
student would (nbgrader submit, what the Assignments panel calls), then fetches feedback every half
second until the page of that submission arrives. Usage: python benchmarks/hub_feedback.py [--runs 3]
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import BIN, ENV, ROOT

ASSIGNMENTS = ("m1_concepts", "m2_vision")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    def __init__(self, state: Path):
        self.state = state
        self.env = {
            **ENV,
            "HUB_STATE": str(state),
            "HUB_PORT": str(free_port()),
            "HUB_STUDENTS": "1",
            "HUB_BIN": str(BIN),
        }

    def script(self, action: str) -> None:
        subprocess.run(
            [str(ROOT / "deploy" / "jupyterhub" / "hub.sh"), action], env=self.env, check=True, capture_output=True
        )

    def as_user(self, user: str, *command: str, cwd: Path | None = None, check: bool = True) -> None:
        env = {
            **self.env,
            "JUPYTER_CONFIG_PATH": str(ROOT / "deploy" / "jupyterhub" / "user-config"),
            "JUPYTERHUB_USER": user,
            "TL_COURSE_ID": "transfer-learning",
            "TL_INSTRUCTOR": "instructor",
            "TL_COURSE_ROOT": str(self.state / "course"),
            "TL_EXCHANGE": str(self.state / "exchange"),
            "HOME": str(self.state / "home" / user),
        }
        (self.state / "home" / user).mkdir(parents=True, exist_ok=True)
        subprocess.run(command, env=env, cwd=cwd or self.state / "home" / user, check=check, capture_output=True)


def submit_to_feedback(hub: Hub, assignment: str) -> float:
    home = hub.state / "home" / "student1"
    feedback = home / assignment / "feedback"
    before = {p.name for p in feedback.glob("*")}
    shutil.copy(ROOT / "submitted" / "solution" / assignment / f"{assignment}.ipynb", home / assignment)
    hub.as_user("student1", "nbgrader", "submit", assignment)
    submitted = time.perf_counter()
    while not {p.name for p in feedback.glob("*")} - before:
        time.sleep(0.5)
        hub.as_user("student1", "nbgrader", "fetch_feedback", assignment, check=False)  # none released yet: fails
    return time.perf_counter() - submitted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; Submit to fetched feedback, one submission at a time, {args.runs} runs")
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp))
        hub.script("start")
        try:
            for assignment in ASSIGNMENTS:
                hub.as_user("instructor", "nbgrader", "release_assignment", assignment, cwd=hub.state / "course")
                hub.as_user("student1", "nbgrader", "fetch_assignment", assignment)
                times = [submit_to_feedback(hub, assignment) for _ in range(args.runs)]
                print(
                    f"{assignment:<14} median {statistics.median(times):5.1f} s  "
                    f"(runs: {', '.join(f'{t:.1f}' for t in times)})"
                )
        finally:
            hub.script("stop")


if __name__ == "__main__":
    main()
