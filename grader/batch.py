"""Grading a class: nbgrader's layout submitted/<student>/<assignment>/<notebook>.ipynb.

`grade_all` grades submissions in parallel worker processes (each still runs
student code only in its own sandbox) and writes, per submission, under
autograded/<student>/<assignment>/: report.json, feedback.html and a copy of the
notebook (what formgrader and `nbgrader generate_feedback` read). `merge` then
collects the reports into scores.csv and nbgrader's gradebook.

The grade of record runs each notebook again in the sandbox (`execute`) and grades what that run
recorded; `execute=False` is the quick mode, whose experiment points are provisional (the report,
scores.csv and the status column say so, and the gradebook does not take them).

Resumable: a submission whose notebook is unchanged since its report (same hash, same digest of
everything that grades it, a mode at least as thorough) is not graded again unless forced. One submission the
grader cannot handle gets a row that says so; the batch goes on. For clusters,
`shard=(k, n)` grades every n-th submission from the k-th: a Slurm job array runs
the shards through this same entry point, and one final `merge` follows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from tqdm.auto import tqdm

from . import course
from .feedback import render
from .files import write_atomically
from .report import ExecutionStatus, Report, load_json, write_json
from .sandbox.limits import Limits


class RowStatus(StrEnum):
    GRADED = "graded"
    PROVISIONAL = "provisional"  # quick mode: some points await the grader's own run of the notebook
    UNCHANGED = "unchanged"  # its report is current: not graded again
    STOPPED = "stopped by a limit"  # graded, but --execute did not run the whole notebook
    GRADER_ERROR = "grader error"  # the grader failed on it: the instructor should look
    NOT_GRADED = "not graded"


@dataclass
class Submission:
    student: str
    assignment: str
    notebook: Path


@dataclass
class Row:
    student: str
    assignment: str
    score: float
    max_score: float
    status: RowStatus
    detail: str = ""  # which cell and limit, or what failed
    mode: str = ""  # "executed" (the grade of record) or "quick"
    provisional: float = 0.0  # points of the score that await the grader's own run

    @property
    def percent(self) -> float:
        return 100 * self.score / self.max_score if self.max_score else 0.0

    @property
    def status_text(self) -> str:
        return f"{self.status}: {self.detail}" if self.detail else str(self.status)


def discover(root: Path) -> list[Submission]:
    found = []
    for folder in sorted(Path(root).glob("*/*")):
        if folder.is_dir():
            student, assignment_id = folder.parent.name, folder.name
            preferred = folder / f"{assignment_id}.ipynb"
            notebooks = [preferred] if preferred.exists() else sorted(folder.glob("*.ipynb"))
            found += [Submission(student, assignment_id, notebooks[0])] if notebooks else []
    return found


def output_folder(out: Path, submission: Submission) -> Path:
    return out / submission.student / submission.assignment


def status_of(report: Report | None) -> tuple[RowStatus, str]:
    """What the status column says of a submission, from its report."""
    if report is None:
        return RowStatus.NOT_GRADED, ""
    if report.grader_failure:
        return RowStatus.GRADER_ERROR, report.grader_failure
    execution = report.execution
    if execution is not None and execution.status == ExecutionStatus.STOPPED:
        return RowStatus.STOPPED, f"{execution.cell}, {execution.limit}"
    if report.provisional_points:
        return RowStatus.PROVISIONAL, f"{report.provisional_points:g} points from saved outputs, not run"
    return RowStatus.GRADED, ""


def mode_of(report: Report | None) -> str:
    return "" if report is None else "executed" if report.executed else "quick"


def _unchanged(submission: Submission, out: Path, execute: bool, digests: dict[str, str | None]) -> bool:
    """Whether its report still stands: the same notebook, graded by the same checks, probes, references,
    release and code (their digest), in a mode at least as thorough as the one asked for."""
    report = load_json(output_folder(out, submission) / "report.json")
    if report is None or report.grader_digest is None or (execute and not report.executed):
        return False
    if report.assignment not in digests:
        digests[report.assignment] = (
            course.load(report.assignment).digest() if report.assignment in course.known() else None
        )
    notebook = hashlib.sha256(submission.notebook.read_bytes()).hexdigest()
    return report.notebook_sha256 == notebook and report.grader_digest == digests[report.assignment]


def _grade_one(submission: Submission, out: Path, execute: bool, limits: Limits, isolation: str, threads: int) -> None:
    """Runs in a pool worker: grade one submission and write its files."""
    from .grading import grade

    folder = output_folder(out, submission)
    hint = submission.assignment if submission.assignment in course.known() else None
    try:
        report = grade(submission.notebook, hint, execute=execute, limits=limits, isolation=isolation, threads=threads)
    except Exception as exc:  # the grader failed on this one: record it, keep the batch going
        report = Report(submission.assignment, None, grader_failure=f"{type(exc).__name__}: {exc}")
    _copy_other_files(submission, folder)
    write_json(report, folder / "report.json")
    write_atomically(folder / "feedback.html", render(report, submission.student))
    write_atomically(folder / f"{submission.assignment}.ipynb", _notebook_for_nbgrader(submission.notebook))


OURS = ("report.json", "feedback.html")


def _copy_other_files(submission: Submission, folder: Path) -> None:
    """What nbgrader's autograde carries over beside the notebooks (timestamp.txt, submission_secret.txt,
    the student's other files): `nbgrader generate_feedback` and `release_feedback` read them there."""
    source = submission.notebook.parent
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and not path.is_symlink() and path.suffix != ".ipynb" and str(relative) not in OURS:
            write_atomically(folder / relative, path.read_bytes())


def _notebook_for_nbgrader(path: Path) -> str:
    """What formgrader and `nbgrader generate_feedback` read: the submission as it is or, where it is not a
    notebook one can read, a notebook saying why (the broken file itself would stop generate_feedback)."""
    from .notebook import NotebookError, read

    try:
        read(path)
        return path.read_text(encoding="utf-8")
    except NotebookError as exc:
        import nbformat

        message = f"**This submission could not be graded.** {exc}"
        return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(message)]))


def grade_all(
    root: Path,
    *,
    workers: int = 1,
    out: Path = Path("autograded"),
    force: bool = False,
    execute: bool = True,
    limits: Limits = Limits(),
    isolation: str = "auto",
    shard: tuple[int, int] = (0, 1),
    only: set[tuple[str, str]] | None = None,
    progress: bool = True,
) -> dict[tuple[str, str], RowStatus]:
    """Grade the submissions of shard k of n (of those in `only`, (student, assignment) pairs, when given);
    returns {(student, assignment): UNCHANGED or GRADED}, or GRADER_ERROR where the process grading it died."""
    k, n = shard
    mine = [
        s for i, s in enumerate(discover(root)) if i % n == k and (only is None or (s.student, s.assignment) in only)
    ]
    digests: dict[str, str | None] = {}
    statuses = {
        (s.student, s.assignment): RowStatus.UNCHANGED
        for s in mine
        if not force and _unchanged(s, out, execute, digests)
    }
    todo = [s for s in mine if (s.student, s.assignment) not in statuses]
    for s in mine:
        if (s.student, s.assignment) in statuses:  # the same notebook submitted again: its grade stands, but
            _copy_other_files(s, output_folder(out, s))  # nbgrader keys its feedback by the new timestamp
    threads = max(1, len(os.sched_getaffinity(0)) // max(workers, 1))
    arguments = (out, execute, limits, isolation, threads)
    with tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress or not todo) as bar:
        if workers <= 1:
            for s in todo:
                _grade_one(s, *arguments)
                statuses[(s.student, s.assignment)] = RowStatus.GRADED
                bar.update()
            return statuses
        # spawn: forking a process that already runs torch's thread pools can deadlock
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_grade_one, s, *arguments): s for s in todo}
            for future in as_completed(futures):
                s = futures[future]
                try:
                    future.result()
                    statuses[(s.student, s.assignment)] = RowStatus.GRADED
                except Exception:  # the worker process itself died
                    statuses[(s.student, s.assignment)] = RowStatus.GRADER_ERROR
                bar.update()
    return statuses


def merge(
    root: Path, out: Path = Path("autograded"), db_url: str | None = None, statuses: dict | None = None
) -> list[Row]:
    """Collect every submission's report into scores.csv and the gradebook (None: no gradebook)."""
    from . import gradebook

    rows, graded = [], []
    for s in discover(root):
        report = load_json(output_folder(out, s) / "report.json")
        status, detail = status_of(report)
        if (statuses or {}).get((s.student, s.assignment)) == RowStatus.UNCHANGED and status in (
            RowStatus.GRADED,
            RowStatus.PROVISIONAL,
        ):
            status = RowStatus.UNCHANGED
        elif (statuses or {}).get((s.student, s.assignment)) == RowStatus.GRADER_ERROR:
            status, detail = RowStatus.GRADER_ERROR, "the process grading it died"
        rows.append(
            Row(
                s.student,
                s.assignment,
                report.score if report else 0.0,
                report.max_score if report else 0.0,
                status,
                detail,
                mode_of(report),
                report.provisional_points if report else 0.0,
            )
        )
        if report is not None:
            graded.append((s.student, report, s.notebook.parent))
    rows.sort(key=lambda r: (r.assignment, r.student))
    write_csv(rows, out / "scores.csv")
    if db_url:
        gradebook.record(db_url, graded)
    return rows


def write_csv(rows: list[Row], path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "assignment", "score", "max_score", "percent", "status", "mode", "provisional"])
    for r in rows:
        writer.writerow(
            [
                r.student,
                r.assignment,
                f"{r.score:g}",
                f"{r.max_score:g}",
                f"{r.percent:.1f}",
                r.status_text,
                r.mode,
                f"{r.provisional:g}",
            ]
        )
    write_atomically(path, buffer.getvalue())


def table(rows: list[Row]) -> str:
    lines = [f"{'student':<16} {'assignment':<14} {'score':>9} {'percent':>8}  {'mode':<8}  status"]
    for r in rows:
        lines.append(
            f"{r.student:<16} {r.assignment:<14} {f'{r.score:g}/{r.max_score:g}':>9} {r.percent:>7.0f}%  "
            f"{r.mode:<8}  {r.status_text}"
        )
    if any(r.provisional for r in rows):
        lines.append(
            "provisional: points from experiment results saved in the notebook, which the grader did not produce "
            "(quick mode); grade without --quick for the grade of record"
        )
    return "\n".join(lines)
