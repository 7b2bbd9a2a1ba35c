"""The course hub's autograder: grades every submission that arrives in nbgrader's exchange and
releases its feedback, with no instructor in the loop. JupyterHub starts it as a managed service
(and starts it again if it dies).

Two passes per submission, so that a student hears back in seconds and the gradebook only ever holds
a grade the grader can defend:
1. Preview, each round, for whatever arrived (called in this process: each command's start-up would
   cost seconds a round):
       nbgrader collect ASSIGNMENT --update         (the latest submission of each student)
       python -m grader grade-all submitted --quick (graded from the saved outputs, in seconds)
       nbgrader generate_feedback / release_feedback for each student who submitted
   Experiment points on that page are marked provisional, and the gradebook does not take them.
2. The grade of record, one submission at a time in a child process beside the previews:
       python -m grader grade-all submitted --only STUDENT/ASSIGNMENT   (the notebook run again in the sandbox)
   then the scores into the gradebook (`merge`) and the feedback released again, replacing the preview.
   A submission whose preview has nothing provisional (no experiments: m1_concepts) is final at once.

A submission is recorded as previewed, then done, only after its feedback was released. A crash loses
nothing: the next start finds it not done and does that pass again (every step is idempotent). A
resubmission is a new inbound entry, so it is graded again and the gradebook keeps the latest score.

Environment: TL_COURSE_ROOT (the course folder, where the service also keeps its state), TL_EXCHANGE,
TL_COURSE_ID.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
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
    """Which inbound entries have had their preview released, which their final grade (done), and how
    often a pass failed on an entry, kept in a file written atomically."""

    def __init__(self, path: Path):
        self.path = path
        try:
            data = json.loads(path.read_text())
            self.done, self.failures = set(data["done"]), dict(data.get("failures", {}))
            self.previewed = set(data.get("previewed", []))
        except (OSError, ValueError, KeyError):
            self.done, self.previewed, self.failures = set(), set(), {}

    def record(self, *, previewed: list[str] = (), done: list[str] = (), failed: list[str] = ()) -> None:
        self.previewed |= set(previewed)
        self.done |= set(done)
        for entry in failed:
            self.failures[entry] = self.failures.get(entry, 0) + 1
            if self.failures[entry] >= MOST_ATTEMPTS:
                log(f"giving up on {entry} after {MOST_ATTEMPTS} failed passes: the instructor should look")
                self.done.add(entry)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".state.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump({"done": sorted(self.done), "previewed": sorted(self.previewed), "failures": self.failures}, f)
        os.replace(tmp, self.path)


def who(entry: str) -> tuple[str, str]:
    """(student, assignment) of an inbound entry."""
    student, assignment = entry.split("+")[:2]
    return student, assignment


def _die_with_the_service() -> None:
    """In the child, before exec: the kernel kills it when the service dies, so that a restarted service
    never has two runs writing one report."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class FinalRun:
    """The grade of record of one (student, assignment), graded in a child process."""

    def __init__(self, course: Path, student: str, assignment: str, entries: list[str]):
        self.student, self.assignment, self.entries = student, assignment, entries
        self.started = time.monotonic()
        command = [sys.executable, "-m", "grader", "grade-all", str(course / "submitted"), "--workers", "1"]
        command += ["--out", str(course / "autograded"), "--only", f"{student}/{assignment}", "--no-gradebook"]
        self.errors = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would stop the child
        self.process = subprocess.Popen(
            command, cwd=course, stdout=subprocess.DEVNULL, stderr=self.errors, preexec_fn=_die_with_the_service
        )

    def finished(self) -> bool:
        return self.process.poll() is not None

    def error_output(self) -> str:
        self.errors.seek(0)
        return self.errors.read().decode(errors="replace")[-1500:]


class Autograder:
    def __init__(self, course: Path, exchange: Path, course_id: str, state: State):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader

        self.course, self.state = course, state
        self.final: FinalRun | None = None  # the grade of record being run now
        self.inbound = exchange / course_id / "inbound"
        self.released_feedback = exchange / course_id / "feedback"
        # the instructor's nbgrader settings for this course (its nbgrader_config.py), whoever runs the service
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        config.Exchange.root, config.CourseDirectory.course_id = str(exchange), course_id
        config.CourseDirectory.root = str(course)
        self.nbgrader = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def step(self, name: str, result: dict) -> bool:
        if not result.get("success"):
            log(f"{name} failed: {(result.get('error') or result.get('log') or '')[-1500:]}")
        return bool(result.get("success"))

    def grade(self, *extra: str) -> bool:
        from grader.cli import main as grader

        arguments = ["grade-all", str(self.course / "submitted"), "--workers", "1"]
        return grader([*arguments, "--out", str(self.course / "autograded"), *extra]) == 0

    def release(self, student: str, assignment: str) -> bool:
        api = self.nbgrader
        return self.step(
            f"generate_feedback {assignment} {student}", api.generate_feedback(assignment, student, force=True)
        ) and self.step(f"release_feedback {assignment} {student}", api.release_feedback(assignment, student))

    def report(self, student: str, assignment: str):
        from grader.report import load_json

        return load_json(self.course / "autograded" / student / assignment / "report.json")

    def round(self) -> bool:
        """Preview whatever arrived, and move the grades of record along; returns whether there was
        anything to preview."""
        self.finish_final_run()
        self.open_feedback()
        new = [e for e in submissions(self.inbound) if e not in self.state.done and e not in self.state.previewed]
        if new:
            self.preview(new)
        if self.final is None:
            self.start_final_run()
        return bool(new)

    def open_feedback(self) -> None:
        """The exchange's feedback folder, made as nbgrader's release_feedback makes it (0711: enter, not
        list), as soon as the course is released: until it exists, a student's Fetch Feedback fails with
        a traceback in the server's log instead of finding nothing yet."""
        if self.inbound.is_dir() and not self.released_feedback.is_dir():
            self.released_feedback.mkdir(exist_ok=True)
            self.released_feedback.chmod(0o711)

    def preview(self, new: list[str]) -> None:
        started = time.monotonic()
        pairs = sorted({who(e) for e in new})
        log(f"{len(new)} new submission(s): {', '.join(f'{s}/{a}' for s, a in pairs)}")
        api = self.nbgrader
        collected = {a: self.step(f"collect {a}", api.collect(a, update=True)) for a in sorted({a for _, a in pairs})}
        graded = self.grade("--quick")
        released = {(s, a): collected[a] and graded and self.release(s, a) for s, a in pairs}
        ok = [e for e in new if released[who(e)]]
        final = [e for e in ok if not self._provisional(*who(e))]
        self.state.record(previewed=ok, done=final, failed=[e for e in new if e not in ok])
        log(
            f"released {len(ok)} of {len(new)} in {time.monotonic() - started:.1f} s "
            f"({len(ok) - len(final)} provisional)"
        )

    def _provisional(self, student: str, assignment: str) -> bool:
        report = self.report(student, assignment)
        return report is not None and any(t.provisional for t in report.tests)

    def start_final_run(self) -> None:
        waiting = [e for e in submissions(self.inbound) if e in self.state.previewed and e not in self.state.done]
        if waiting:
            student, assignment = who(waiting[0])
            entries = [e for e in waiting if who(e) == (student, assignment)]
            self.final = FinalRun(self.course, student, assignment, entries)
            log(f"grade of record: running {student}/{assignment} in the sandbox")

    def finish_final_run(self) -> None:
        run = self.final
        if run is None or not run.finished():
            return
        self.final = None
        student, assignment = run.student, run.assignment
        failed = run.process.returncode != 0
        output = run.error_output() if failed else ""
        run.errors.close()
        if failed:
            log(f"grade of record {student}/{assignment} failed: {output}")
            self.state.record(failed=run.entries)
            return
        from grader.batch import discover
        from grader.cli import main as grader

        report = self.report(student, assignment)
        current = next(
            (
                s.notebook
                for s in discover(self.course / "submitted")
                if (s.student, s.assignment) == (student, assignment)
            ),
            None,
        )
        # a resubmission's preview may have replaced the report meanwhile: its own grade of record comes next
        if report is None or not report.executed or current is None or report.notebook_sha256 != _sha256(current):
            log(f"grade of record {student}/{assignment}: resubmitted meanwhile, graded again next")
            return
        ok = grader(["merge", str(self.course / "submitted"), "--out", str(self.course / "autograded")]) == 0
        ok = ok and self.release(student, assignment)
        self.state.record(done=run.entries if ok else [], failed=[] if ok else run.entries)
        log(
            f"grade of record {student}/{assignment}: {report.score:g}/{report.max_score:g}, released "
            f"{time.monotonic() - run.started:.1f} s after its run started"
        )


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    import grader.grading  # noqa: F401 (torch, pytest and the checks: loaded now, not in the first student's round)

    course = Path(os.environ["TL_COURSE_ROOT"])
    state = State(course / ".autograder-state.json")  # the service's own: in class mode it may write nowhere else
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
