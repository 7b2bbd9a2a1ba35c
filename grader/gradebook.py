"""Scores into nbgrader's gradebook, so that formgrader, `nbgrader export` and
`nbgrader generate_feedback` work on them.

Each graded function's points go to the auto score of its test cell
(`test_<function>`), whose maximum is the same by construction. Provisional points (experiment
results the grader did not produce itself, quick mode) never do: the gradebook is a grade of record. The assignment,
its notebook and cells are taken from the released notebook when the gradebook
does not know them yet (no `nbgrader generate_assignment` run against it).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

from . import course
from .report import Report


def default_url() -> str:
    return f"sqlite:///{course.root() / 'gradebook.db'}"


def _ensure_assignment(gradebook, spec: course.Assignment) -> None:
    from nbgrader.api import MissingEntry

    notebook = spec.id
    try:
        gradebook.find_notebook(notebook, spec.id)
        return
    except MissingEntry:
        pass
    gradebook.update_or_create_assignment(spec.id)
    gradebook.update_or_create_notebook(notebook, spec.id)
    for grade_id, points in spec.test_points.items():
        gradebook.update_or_create_grade_cell(grade_id, notebook, spec.id, max_score=points, cell_type="code")
    for grade_id in spec.graded:
        gradebook.update_or_create_solution_cell(grade_id, notebook, spec.id)


@contextmanager
def _alembic_on_path():
    """nbgrader migrates a new gradebook by running `alembic`, found on PATH: make it the one beside
    this interpreter while the gradebook is open, so that an unactivated virtual environment works too."""
    here = os.path.dirname(sys.executable)
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = here + os.pathsep + before
    try:
        yield
    finally:
        os.environ["PATH"] = before


def submission_time(folder: Path):
    """When nbgrader says the submission in `folder` was made (its timestamp.txt, as nbgrader reads it), or None."""
    from nbgrader.utils import parse_utc

    try:
        return parse_utc((folder / "timestamp.txt").read_text().strip())
    except (OSError, ValueError):
        return None


def record(url: str, results: list[tuple[str, Report, Path]]) -> int:
    """Write (student, report, submission folder) scores; returns how many submissions were recorded."""
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    recorded = 0
    # nbgrader's update_or_create_submission trips SQLAlchemy's autoflush warnings; the rows are right
    with warnings.catch_warnings(), _alembic_on_path(), Gradebook(url) as gradebook:
        warnings.simplefilter("ignore", SAWarning)
        for student, report, folder in results:
            if not report.assignment or not report.tests:
                continue
            spec = course.load(report.assignment)
            _ensure_assignment(gradebook, spec)
            gradebook.update_or_create_student(student)
            # formgrader counts a submission as autograded when the gradebook's time is the submission's own
            gradebook.update_or_create_submission(spec.id, student, timestamp=submission_time(folder))
            for function, (score, _) in report.points_by_function(of_record=True).items():
                grade = gradebook.find_grade(course.test_cell_id(function), spec.id, spec.id, student)
                grade.auto_score = score
                grade.needs_manual_grade = grade.manual_score is not None
            gradebook.db.commit()
            recorded += 1
    return recorded
