"""Each realistic bug loses exactly the points of the checks that should catch it.

Bugs are planted in the executed solution submission (so the recorded experiment stays valid) and
graded like any student's notebook. Bugs in functions that do not depend on each other are planted
together, one per function, and graded in one run: each function's checks see only that function
(a graded function that calls another is declared in the mutants module's CALLS, and its bugs then
go to separate runs), so the run must lose exactly the union of their checks, each with the
feedback of its own bug."""

import nbformat
import pytest
from conftest import ASSIGNMENTS, example

from grader.examples import calls, catalogue, cell_of, mutated

pytestmark = pytest.mark.slow  # about 20 gradings of whole submissions


def rounds(assignment_id: str) -> list[list]:
    """The mutants split into groups that can be graded together: no two in one group touch the same
    function, or functions one of which calls the other."""
    related = calls(assignment_id)
    groups: list[list] = []
    for mutant in catalogue(assignment_id)[0]:
        touched = {mutant.function, *related.get(mutant.function, ())}
        for group in groups:
            if not any(m.function in touched or mutant.function in related.get(m.function, ()) for m in group):
                group.append(mutant)
                break
        else:
            groups.append([mutant])
    return groups


ROUNDS = [(a, group) for a in ASSIGNMENTS for group in rounds(a)]


@pytest.mark.parametrize(
    "assignment_id, mutants", ROUNDS, ids=[f"{a}-{'+'.join(m.name for m in g)}" for a, g in ROUNDS]
)
def test_mutants_lose_exactly_their_checks(tmp_path, assignment_id, mutants):
    from grader.grading import grade

    solution = nbformat.read(example("solution", assignment_id), as_version=4)
    path = tmp_path / f"{assignment_id}.ipynb"
    nbformat.write(mutated(solution, mutants), path)
    report = grade(path, assignment_id)
    lost = {t.name: t for t in report.tests if t.status != "passed"}
    expected = {check: m for m in mutants for check in m.fails}
    assert set(lost) == set(expected), {n: t.feedback for n, t in lost.items() if n not in expected} or sorted(
        set(expected) - set(lost)
    )
    assert report.score == report.max_score - sum(t.max_points for t in lost.values())
    for m in mutants:
        for check, text in m.expected_feedback().items():  # the hint names this bug, not another one
            assert lost[check].function == m.function and text in lost[check].feedback, (m.name, lost[check].feedback)
    assert report.errors == []


def test_grouping_plants_each_mutant_once():
    for assignment_id in ASSIGNMENTS:
        planted = [m.name for group in rounds(assignment_id) for m in group]
        assert sorted(planted) == sorted(m.name for m in catalogue(assignment_id)[0])
        for group in rounds(assignment_id):
            functions = [m.function for m in group]
            assert len(functions) == len(set(functions)), functions


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_every_mutant_names_the_feedback_it_must_get(assignment_id):
    missing = [m.name for m in catalogue(assignment_id)[0] if not m.says]
    assert not missing, f"mutants without the feedback they must receive: {missing}"


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
