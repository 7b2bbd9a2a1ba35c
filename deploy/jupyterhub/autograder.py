"""The course hub's autograder: grades every submission that arrives in nbgrader's exchange and
releases its feedback, with no instructor in the loop. JupyterHub starts it as a managed service
(and starts it again if it dies).

Each round: find submissions in the exchange's inbound folder that are not yet done, then, with
the same entry points an instructor would use (called in this process: each command's start-up
would cost seconds a round),
    nbgrader collect ASSIGNMENT --update         (the latest submission of each student)
    python -m grader grade-all submitted         (grades what changed; scores into the gradebook)
    nbgrader generate_feedback / release_feedback for each student who submitted
and only then record those submissions as done. A crash loses nothing: the next start finds
them not done and does the round again (every step is idempotent). A resubmission is a new
inbound entry, so it is graded again and the gradebook keeps the latest score.

Environment: TL_COURSE_ROOT (the course folder), TL_EXCHANGE, TL_COURSE_ID, HUB_STATE.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

POLL_SECONDS = 2.0
MOST_ATTEMPTS = 5  # rounds that failed on one submission before the service stops retrying it


def log(message: str) -> None:
    print(f"[autograder {time.strftime('%H:%M:%S')}] {message}", flush=True)


def submissions(inbound: Path) -> list[str]:
    """Inbound entries: student+assignment+timestamp(+random), as `nbgrader submit` names them."""
    if not inbound.is_dir():
        return []
    return sorted(p.name for p in inbound.iterdir() if p.is_dir() and p.name.count("+") >= 2)


class State:
    """What has been graded and released (inbound entries), and how often a round failed on an entry,
    kept in a file written atomically."""

    def __init__(self, path: Path):
        self.path = path
        try:
            data = json.loads(path.read_text())
            self.done, self.failures = set(data["done"]), dict(data.get("failures", {}))
        except (OSError, ValueError, KeyError):
            self.done, self.failures = set(), {}

    def record(self, done: list[str], failed: list[str]) -> None:
        self.done |= set(done)
        for entry in failed:
            self.failures[entry] = self.failures.get(entry, 0) + 1
            if self.failures[entry] >= MOST_ATTEMPTS:
                log(f"giving up on {entry} after {MOST_ATTEMPTS} failed rounds: the instructor should look")
                self.done.add(entry)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".state.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump({"done": sorted(self.done), "failures": self.failures}, f)
        os.replace(tmp, self.path)


class Autograder:
    def __init__(self, course: Path, exchange: Path, course_id: str, state: State):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader

        self.course, self.state = course, state
        self.inbound = exchange / course_id / "inbound"
        # the instructor's nbgrader settings for this course (its nbgrader_config.py), whoever runs the service
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        config.Exchange.root, config.CourseDirectory.course_id = str(exchange), course_id
        config.CourseDirectory.root = str(course)
        self.nbgrader = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def step(self, name: str, result: dict) -> bool:
        if not result.get("success"):
            log(f"{name} failed: {(result.get('error') or result.get('log') or '')[-1500:]}")
        return bool(result.get("success"))

    def grade(self) -> bool:
        from grader.cli import main as grader

        return (
            grader(
                [
                    "grade-all",
                    str(self.course / "submitted"),
                    "--workers",
                    "1",
                    "--out",
                    str(self.course / "autograded"),
                ]
            )
            == 0
        )

    def round(self) -> bool:
        """Grade and release whatever arrived; returns whether there was anything."""
        new = [entry for entry in submissions(self.inbound) if entry not in self.state.done]
        if not new:
            return False
        started = time.monotonic()
        who = sorted({(entry.split("+")[0], entry.split("+")[1]) for entry in new})
        log(f"{len(new)} new submission(s): {', '.join(f'{s}/{a}' for s, a in who)}")
        api = self.nbgrader
        collected = {a: self.step(f"collect {a}", api.collect(a, update=True)) for a in sorted({a for _, a in who})}
        graded = self.grade()
        released = {
            (s, a): collected[a]
            and graded
            and self.step(f"generate_feedback {a} {s}", api.generate_feedback(a, s, force=True))
            and self.step(f"release_feedback {a} {s}", api.release_feedback(a, s))
            for s, a in who
        }
        ok = [e for e in new if released[(e.split("+")[0], e.split("+")[1])]]
        self.state.record(done=ok, failed=[e for e in new if e not in ok])
        log(f"released {len(ok)} of {len(new)} in {time.monotonic() - started:.1f} s")
        return len(ok) == len(new)


def main() -> None:
    import grader.grading  # noqa: F401 (torch, pytest and the checks: loaded now, not in the first student's round)

    course = Path(os.environ["TL_COURSE_ROOT"])
    state = State(Path(os.environ["HUB_STATE"]) / "autograder-state.json")
    service = Autograder(course, Path(os.environ["TL_EXCHANGE"]), os.environ["TL_COURSE_ID"], state)
    log(f"watching {service.inbound}")
    try:
        while True:
            if not service.round():
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:  # the hub stops its services with SIGINT
        log("stopped")


if __name__ == "__main__":
    main()
