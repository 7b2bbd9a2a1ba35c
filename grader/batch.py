"""Grading a folder of submissions in nbgrader's layout: submitted/<student>/<assignment>/<notebook>.ipynb.

Submissions are graded in parallel worker processes (each still runs student
code only in its own sandbox). A report is written per submission under
autograded/<student>/<assignment>/report.json, then a CSV of scores. A
submission whose notebook is unchanged since its report (same hash, same grader
version) is not graded again unless forced; a submission the grader cannot
handle gets a row that says so, and the batch goes on.
"""
from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from . import __version__
from . import assignment as assignments
from .report import Report, write_json
from .sandbox.limits import Limits


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
    status: str  # graded, unchanged, grader error
    report: str

    @property
    def percent(self) -> float:
        return 100 * self.score / self.max_score if self.max_score else 0.0


def discover(root: Path) -> list[Submission]:
    found = []
    for assignment_dir in sorted(Path(root).glob("*/*")):
        if not assignment_dir.is_dir():
            continue
        student, assignment_id = assignment_dir.parent.name, assignment_dir.name
        preferred = assignment_dir / f"{assignment_id}.ipynb"
        notebooks = [preferred] if preferred.exists() else sorted(assignment_dir.glob("*.ipynb"))
        for notebook in notebooks[:1]:
            found.append(Submission(student, assignment_id, notebook))
    return found


def report_path(out: Path, submission: Submission) -> Path:
    return out / submission.student / submission.assignment / "report.json"


def _unchanged(path: Path, notebook: Path) -> dict | None:
    import hashlib

    try:
        previous = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    digest = hashlib.sha256(notebook.read_bytes()).hexdigest()
    if previous.get("notebook_sha256") == digest and previous.get("grader_version") == __version__:
        return previous
    return None


def _grade_one(submission: Submission, out: Path, execute: bool, limits: Limits, isolation: str,
               threads: int) -> Row:
    """Runs in a pool worker: grade, write the report, return the row."""
    from .grading import grade

    path = report_path(out, submission)
    hint = submission.assignment if submission.assignment in assignments.known() else None
    try:
        report = grade(submission.notebook, hint, execute=execute, limits=limits, isolation=isolation, threads=threads)
    except Exception as exc:  # the grader failed on this one: record it, keep the batch going
        report = Report(submission.assignment, None, errors=[f"grader error: {type(exc).__name__}: {exc}"])
        write_json(report, path)
        return Row(submission.student, submission.assignment, 0.0, 0.0, "grader error", str(path))
    write_json(report, path)
    return Row(submission.student, submission.assignment, report.score, report.max_score, "graded", str(path))


def grade_all(root: Path, *, workers: int = 1, out: Path = Path("autograded"), force: bool = False,
              execute: bool = False, limits: Limits = Limits(), isolation: str = "auto",
              progress: bool = True) -> list[Row]:
    submissions = discover(root)
    rows: list[Row] = []
    todo = []
    for submission in submissions:
        previous = None if force else _unchanged(report_path(out, submission), submission.notebook)
        if previous is not None:
            rows.append(Row(submission.student, submission.assignment, previous["score"], previous["max_score"],
                            "unchanged", str(report_path(out, submission))))
        else:
            todo.append(submission)
    threads = max(1, (os.cpu_count() or 1) // max(workers, 1))
    bar = tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress or not todo)
    if workers <= 1:
        for submission in todo:
            rows.append(_grade_one(submission, out, execute, limits, isolation, threads))
            bar.update()
    else:
        # spawn: forking a process that already runs torch's thread pools can deadlock
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_grade_one, s, out, execute, limits, isolation, threads): s for s in todo}
            for future in as_completed(futures):
                submission = futures[future]
                try:
                    rows.append(future.result())
                except Exception as exc:  # the worker process itself died
                    rows.append(Row(submission.student, submission.assignment, 0.0, 0.0,
                                    f"grader error: {type(exc).__name__}", ""))
                bar.update()
    bar.close()
    rows.sort(key=lambda r: (r.assignment, r.student))
    write_csv(rows, out / "scores.csv")
    return rows


def write_csv(rows: list[Row], path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "assignment", "score", "max_score", "percent", "status"])
    for r in rows:
        writer.writerow([r.student, r.assignment, f"{r.score:g}", f"{r.max_score:g}", f"{r.percent:.1f}", r.status])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".scores.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(buffer.getvalue())
    os.replace(tmp, path)


def table(rows: list[Row]) -> str:
    lines = [f"{'student':<16} {'assignment':<14} {'score':>9} {'percent':>8}  status"]
    for r in rows:
        lines.append(f"{r.student:<16} {r.assignment:<14} {f'{r.score:g}/{r.max_score:g}':>9} {r.percent:>7.0f}%  {r.status}")
    return "\n".join(lines)
