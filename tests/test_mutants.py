"""Each realistic bug loses exactly the points of the checks that should catch it.

Bugs are planted in the executed solution submission (so the recorded experiment
stays valid) and graded like any student's notebook."""

import nbformat
import pytest
from conftest import ASSIGNMENTS, example

from grader.examples import catalogue, cell_of, mutated

pytestmark = pytest.mark.slow  # about 80 gradings of whole submissions

CASES = [(a, m) for a in ASSIGNMENTS for m in catalogue(a)[0]]


@pytest.mark.parametrize("assignment_id, mutant", CASES, ids=[f"{a}-{m.name}" for a, m in CASES])
def test_mutant_loses_exactly_its_checks(tmp_path, assignment_id, mutant):
    from grader.grading import grade

    solution = nbformat.read(example("solution", assignment_id), as_version=4)
    path = tmp_path / f"{assignment_id}.ipynb"
    nbformat.write(mutated(solution, [mutant]), path)
    report = grade(path, assignment_id)
    lost = {t.name: t for t in report.tests if t.status != "passed"}
    assert set(lost) == set(mutant.fails), {n: t.feedback for n, t in lost.items()}
    assert report.score == report.max_score - sum(t.max_points for t in lost.values())
    assert all(t.feedback and t.function == mutant.function for t in lost.values())
    assert report.errors == []


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_every_check_of_a_function_is_caught_by_some_mutant(graded_examples, assignment_id):
    """A check that no realistic bug fails may be a check that cannot fail."""
    mutants, _ = catalogue(assignment_id)
    caught = {name for m in mutants for name in m.fails}
    checks = {t.name for t in graded_examples("solution", assignment_id).tests if t.function != "experiment"}
    assert checks - caught == set()
    assert caught <= checks, "a mutant names a check that does not exist"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_mutants_apply_to_the_current_solution(assignment_id):
    solution = nbformat.read(example("solution", assignment_id), as_version=4)
    for mutant in catalogue(assignment_id)[0]:
        assert mutant.old in cell_of(solution, mutant.function).source, mutant.name
