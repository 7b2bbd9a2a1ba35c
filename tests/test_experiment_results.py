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
