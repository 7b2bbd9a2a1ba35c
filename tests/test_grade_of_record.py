"""The grade of record (issue 22): experiment points only from a run the grader did, and a report that
stands only while nothing that graded it has changed."""

import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import example, pasted

from grader import batch, course

pytestmark = pytest.mark.slow  # grades classes; one runs a notebook in the sandbox


def class_of(tmp_path: Path, notebooks: dict) -> Path:
    submitted = tmp_path / "submitted"
    for (student, assignment_id), notebook in notebooks.items():
        folder = submitted / student / assignment_id
        folder.mkdir(parents=True)
        path = folder / f"{assignment_id}.ipynb"
        if isinstance(notebook, nbformat.NotebookNode):
            nbformat.write(notebook, path)
        else:
            shutil.copy(notebook, path)
    return submitted


def report_of(out, student, assignment_id):
    from grader.report import Report

    return Report.from_dict(json.loads((out / student / assignment_id / "report.json").read_text()))


def csv_rows(out):
    with open(out / "scores.csv") as f:
        return {(r["student"], r["assignment"]): r for r in csv.DictReader(f)}


def test_pasted_results_earn_nothing_of_record(tmp_path):
    from nbgrader.api import Gradebook

    submitted = class_of(tmp_path, {("copier", "m2_vision"): pasted("m2_vision")})
    out, db = tmp_path / "autograded", f"sqlite:///{tmp_path / 'gradebook.db'}"

    # quick mode: the pasted outputs pass the experiment checks, and every one of those points is provisional
    batch.merge(submitted, out, db, batch.grade_all(submitted, out=out, execute=False, progress=False))
    quick = report_of(out, "copier", "m2_vision")
    experiment = [t for t in quick.tests if t.function == "experiment"]
    assert experiment and all(t.provisional for t in experiment)
    assert quick.provisional_points == quick.score > 0 and quick.score_of_record == 0
    row = csv_rows(out)[("copier", "m2_vision")]
    assert (row["mode"], row["provisional"]) == ("quick", f"{quick.score:g}")
    assert row["status"].startswith("provisional")
    assert "provisional" in (out / "copier" / "m2_vision" / "feedback.html").read_text()
    with Gradebook(db) as gradebook:
        assert gradebook.find_submission("m2_vision", "copier").score == 0  # the gradebook is a grade of record

    # the default, the grade of record: the notebook runs again, records nothing, earns nothing
    statuses = batch.grade_all(submitted, out=out, progress=False)
    assert statuses[("copier", "m2_vision")] == "graded", "a quick report must not stand for the grade of record"
    batch.merge(submitted, out, db, statuses)
    record = report_of(out, "copier", "m2_vision")
    assert record.executed and record.score == 0 and record.provisional_points == 0
    assert not any(t.provisional for t in record.tests)
    assert any("did not record" in w and "strategies" in w for w in record.warnings), record.warnings
    assert csv_rows(out)[("copier", "m2_vision")]["mode"] == "executed"
    # an executed report stands for a later quick pass over the same notebook
    assert batch.grade_all(submitted, out=out, execute=False, progress=False)[("copier", "m2_vision")] == "unchanged"


def test_a_change_to_what_grades_regrades(tmp_path, monkeypatch):
    """Any file in the digest (checks, probes, references, release, grader code, helper package) changing
    makes every report of that assignment stale; here a stand-in file joins the list and changes."""
    submitted = class_of(tmp_path, {("ada", "m1_concepts"): example("solution", "m1_concepts")})
    out, check = tmp_path / "autograded", tmp_path / "checks_fixed.py"
    check.write_text("# a check as it was\n")
    files = course.Assignment.grading_files
    monkeypatch.setattr(course.Assignment, "grading_files", lambda self: [*files(self), check])

    assert batch.grade_all(submitted, out=out, execute=False, progress=False)[("ada", "m1_concepts")] == "graded"
    assert batch.grade_all(submitted, out=out, execute=False, progress=False)[("ada", "m1_concepts")] == "unchanged"
    check.write_text("# the instructor fixed a check\n")
    assert batch.grade_all(submitted, out=out, execute=False, progress=False)[("ada", "m1_concepts")] == "graded"
    assert report_of(out, "ada", "m1_concepts").grader_digest == course.load("m1_concepts").digest()


def test_the_digest_covers_what_grades():
    spec = course.load("m2_vision")
    files = set(spec.grading_files())
    assert {spec.checks, spec.probes, spec.release_notebook} <= files
    assert {course.REFERENCES_DIR / "m2_vision.json", course.REFERENCES_DIR / "m2_vision.safetensors"} <= files
    assert {course.GRADER_DIR / "grading.py", course.GRADER_DIR / "sandbox" / "runtime" / "worker.py"} <= files
    assert any(p.name == "training.py" and p.parent.name == "transfer_course" for p in files)
    assert course.load("m1_concepts").checks not in files  # another assignment's fix regrades only that one
