"""The grader tested by grading: full marks, zero, in between, and the report's contract."""

import json
import os
import subprocess
import sys

import pytest
from conftest import EACH_ASSIGNMENT, ROOT, example

from grader.report import STATUSES

REPORT_KEYS = {
    "assignment",
    "notebook_sha256",
    "score",
    "max_score",
    "tests",
    "tamper",
    "errors",
    "grader_version",
    "grader_digest",
    "reference",
}
TEST_KEYS = {"name", "function", "points", "max_points", "status", "feedback", "provisional"}


@pytest.mark.parametrize("assignment_id", EACH_ASSIGNMENT)
def test_solution_gets_full_marks(graded_examples, assignment_id):
    report = graded_examples("solution", assignment_id)
    failing = [(t.name, t.feedback) for t in report.tests if t.status != "passed"]
    assert not failing, failing
    assert report.score == report.max_score > 0
    assert report.tamper == [] and report.errors == []


@pytest.mark.parametrize("assignment_id", EACH_ASSIGNMENT)
def test_untouched_release_gets_zero_with_feedback(graded_examples, assignment_id):
    report = graded_examples("untouched", assignment_id)
    assert report.score == 0 and report.max_score > 0
    for t in report.tests:
        assert t.status in ("error", "failed")
        if t.function == "experiment":
            assert "run the whole notebook" in t.feedback
        else:
            assert "not implemented yet" in t.feedback and f"`{t.function}`" in t.feedback, t.feedback
    assert report.tamper == []


@pytest.mark.parametrize("assignment_id", EACH_ASSIGNMENT)
def test_partial_student_lands_between(graded_examples, assignment_id):
    from grader.examples import catalogue

    report = graded_examples("partial", assignment_id)
    mutants, partial = catalogue(assignment_id)
    expected_failures = {name for m in mutants if m.name in partial.mutants for name in m.fails}
    # experiments run the student's functions: one left unimplemented may cost experiment checks too
    lost = {t.name for t in report.tests if t.status != "passed" and t.function != "experiment"}
    unimplemented = {t.name for t in report.tests if t.function in partial.unimplemented}
    assert lost == expected_failures | unimplemented
    assert 0 < report.score < report.max_score


def test_report_json_follows_the_contract(tmp_path):
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(example("partial", "m2_vision")), "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert REPORT_KEYS <= set(report)
    assert report["assignment"] == "m2_vision" and len(report["notebook_sha256"]) == 64
    assert report["reference"]["device"] and report["reference"]["torch"]
    for test in report["tests"]:
        assert set(test) >= TEST_KEYS and test["status"] in STATUSES
        assert 0 <= test["points"] <= test["max_points"]
        assert test["status"] == "passed" or test["feedback"], test
    assert report["score"] == sum(t["points"] for t in report["tests"])
    # the printed table names every test and ends with the total
    assert "TOTAL" in done.stdout.splitlines()[-1] and all(t["name"][:20] in done.stdout for t in report["tests"])


@pytest.mark.parametrize(
    "content, says",
    [
        (b"\xff\xfe not utf-8 \x80", "not UTF-8"),
        (b'{"cells": [', "not valid JSON"),
        (b"", "empty"),
        (b'{"hello": "world"}', "not a Jupyter notebook"),
    ],
)
def test_malformed_notebook_gets_a_clear_report(tmp_path, content, says):
    from grader.grading import grade

    path = tmp_path / "m2_vision.ipynb"
    path.write_bytes(content)
    report = grade(path)
    assert report.score == 0 and report.max_score > 0
    assert any(says in e for e in report.errors), report.errors
    assert all(t.status == "error" and says in t.feedback for t in report.tests)


def test_cli_exit_status_is_zero_for_a_bad_notebook_and_nonzero_when_the_grader_cannot_run(tmp_path):
    bad = tmp_path / "m2_vision.ipynb"
    bad.write_text("not json")
    graded = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(bad)], capture_output=True, text=True, cwd=ROOT
    )
    assert graded.returncode == 0 and "not valid JSON" in graded.stdout
    absent = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(tmp_path / "absent.ipynb"), "--assignment", "m2_vision"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert absent.returncode == 0 and "cannot read" in absent.stdout
    # a course directory without release/ leaves the grader nothing to grade against
    broken = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(example("solution", "m2_vision"))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, TL_COURSE_ROOT=str(tmp_path)),
    )
    assert broken.returncode == 1 and "grader error" in broken.stderr
    unknown = subprocess.run(
        [sys.executable, "-m", "grader", "grade", str(bad), "--assignment", "nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr


def test_grader_started_through_a_relative_interpreter_path_still_sandboxes(tmp_path):
    # benchmarks/ runs ../.venv/bin/python: the sandbox must not depend on how the interpreter was named
    interpreter = os.path.relpath(sys.executable, ROOT / "benchmarks")
    done = subprocess.run(
        [
            str(interpreter),
            "-m",
            "grader",
            "grade",
            str(example("solution", "m1_concepts")),
            "--json",
            str(tmp_path / "report.json"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT / "benchmarks",
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert done.returncode == 0 and report["score"] == report["max_score"], (report["errors"], done.stderr[-1000:])
