"""Grading of recorded experiment results: plausible values pass, others lose the right points."""

import copy

import nbformat
import pytest
from conftest import example

from grader.notebook import RESULTS_MIME_TYPE

pytestmark = pytest.mark.slow  # each test grades the m2_vision solution (about 10 s)


def with_recorded(notebook, edit):
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(RESULTS_MIME_TYPE)
            if payload:
                edit(payload["values"])
    return notebook


@pytest.fixture(scope="module")
def solution():
    return nbformat.read(example("solution", "m2_vision"), as_version=4)


def grade_notebook(notebook, tmp_path):
    from grader.grading import grade

    path = tmp_path / "m2_vision.ipynb"
    nbformat.write(notebook, path)
    return grade(path)


def lost(report):
    return {t.name for t in report.tests if t.status != "passed"}


def test_accuracy_far_from_reference_loses_those_points(solution, tmp_path):
    def edit(values):
        values["fine_tuning"]["accuracy"] = [0.2, 0.2, 0.2]

    report = grade_notebook(with_recorded(solution, edit), tmp_path)
    assert lost(report) == {"accuracies_match_reference", "pretraining_beats_scratch"}
    assert report.score == report.max_score - 3


def test_wrong_parameter_count_is_caught(solution, tmp_path):
    def edit(values):
        values["feature_extraction"]["trainable_parameters"] = 3383818

    assert lost(grade_notebook(with_recorded(solution, edit), tmp_path)) == {"trainable_parameter_counts"}


def test_edited_experiment_cell_voids_the_experiment(solution, tmp_path):
    notebook = copy.deepcopy(solution)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "experiment":
            cell.source = cell.source.replace('[runs[strategy, seed][2]["accuracy"] for seed in SEEDS]', "[0.99] * 3")
    report = grade_notebook(notebook, tmp_path)
    assert {f["kind"] for f in report.tamper} == {"locked_cell_modified"}
    assert lost(report) == {t.name for t in report.tests if t.function == "experiment"}
    assert all("voided by tampering" in t.feedback for t in report.tests if t.function == "experiment")


# A student's run can record anything; the checks must say what is wrong with it, never that the grader failed.
MALFORMED = {
    "a list that holds a word": (
        lambda v: v["fine_tuning"].__setitem__("accuracy", "high"),
        {"results_recorded", "accuracies_match_reference", "pretraining_beats_scratch"},
        "'strategies' → 'fine_tuning' → 'accuracy'",
    ),
    "NaN for an accuracy": (
        lambda v: v["scratch"].__setitem__("accuracy", [float("nan"), 0.3, 0.3]),
        {"results_recorded", "pretraining_beats_scratch"},
        "nan (not a finite number) at 'strategies' → 'scratch' → 'accuracy'",
    ),
    "a strategy missing": (
        lambda v: v.pop("feature_extraction"),
        {"results_recorded", "accuracies_match_reference", "pretraining_beats_scratch", "trainable_parameter_counts"},
        "feature_extraction",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_results_are_the_students_feedback_not_a_grader_failure(solution, tmp_path, case):
    edit, expected, named = MALFORMED[case]
    report = grade_notebook(with_recorded(solution, edit), tmp_path)
    assert report.grader_failure is None and report.errors == [], report.errors
    assert lost(report) == expected
    assert all(t.status == "failed" for t in report.tests if t.name in expected)
    assert any(named in t.feedback for t in report.tests if t.name in expected), [t.feedback for t in report.tests]


def test_m3_missing_learning_curve_entry_is_feedback(tmp_path):
    """The case issue 22 found: a check indexing got["scratch"]["5"] raised KeyError, and the report blamed
    the grader."""
    from grader.grading import grade

    def edit(values):
        if "scratch" in values and "5" in values["scratch"]:
            del values["scratch"]["5"]

    notebook = with_recorded(nbformat.read(example("solution", "m3_evaluation"), as_version=4), edit)
    path = tmp_path / "m3_evaluation.ipynb"
    nbformat.write(notebook, path)
    report = grade(path)
    assert report.grader_failure is None and report.errors == []
    assert lost(report) == {"learning_curves_match_reference", "pretraining_wins_with_five_labels"}
    wins = next(t for t in report.tests if t.name == "pretraining_wins_with_five_labels")
    assert "'learning_curves' → 'scratch' → '5'" in wins.feedback and "run" in wins.feedback
