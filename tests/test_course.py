"""The course's files agree with each other: release, references, points, notebooks."""

import hashlib
import json
import subprocess

import nbformat
import pytest
from conftest import ASSIGNMENTS, EACH_ASSIGNMENT, ROOT, venv_env

from grader import course, references


def nbgrader(*args, cwd):
    return subprocess.run(["nbgrader", *args], cwd=cwd, env=venv_env(), capture_output=True, text=True)


def comparable(path):
    notebook = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, json.dumps(c.metadata, sort_keys=True)) for c in notebook.cells]


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_release_is_up_to_date_with_source(course_copy, assignment_id):
    (course_copy / "release").rename(course_copy / "committed_release")
    done = nbgrader("generate_assignment", assignment_id, "--force", cwd=course_copy)
    assert done.returncode == 0, done.stderr[-2000:]
    fresh = course_copy / "release" / assignment_id / f"{assignment_id}.ipynb"
    committed = course_copy / "committed_release" / assignment_id / f"{assignment_id}.ipynb"
    assert comparable(fresh) == comparable(committed), "release/ is stale: run `make release` and commit it"


# (the source notebooks themselves run end to end in test_execute: graded with --execute, they must
# score full marks with no cell raising, which is what `nbgrader validate` asks of them)
@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_nbgrader_validate_fails_the_release(course_copy, assignment_id):
    release = course_copy / "release" / assignment_id / f"{assignment_id}.ipynb"
    inverted = nbgrader("validate", "--invert", str(release), cwd=course_copy)
    assert inverted.returncode == 0 and "Success" in inverted.stdout, inverted.stdout[-3000:]


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_solution_example_is_current_and_ran_cleanly(assignment_id):
    from grader.examples import answer, cell_of
    from grader.notebook import RESULTS_MIME_TYPE

    source = nbformat.read(ROOT / "source" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    release = nbformat.read(ROOT / "release" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    solved = nbformat.read(ROOT / "submitted" / "solution" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            assert cell_of(solved, meta["grade_id"]).source == answer(cell.source), (
                "`make examples`: submitted/ is stale"
            )
    assert [c.source for c in solved.cells if not c.metadata.get("nbgrader", {}).get("solution")] == [
        c.source for c in release.cells if not c.metadata.get("nbgrader", {}).get("solution")
    ]
    errors = [o for c in solved.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    assert all(c.execution_count for c in solved.cells if c.cell_type == "code"), "every cell ran"
    recorded = [
        o for c in solved.cells if c.cell_type == "code" for o in c.outputs if RESULTS_MIME_TYPE in o.get("data", {})
    ]
    assert recorded or assignment_id == "m1_concepts"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_references_are_built_from_the_current_source(assignment_id):
    _, _, provenance = references.load(assignment_id)
    source = ROOT / "source" / assignment_id / f"{assignment_id}.ipynb"
    assert provenance["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest(), (
        "source/ changed since the references were built: `make references` (on a GPU: DEVICE=cuda)"
    )
    assert {"device", "device_type", "torch", "seed", "built"} <= set(provenance)


@pytest.mark.parametrize("assignment_id", EACH_ASSIGNMENT)
def test_every_graded_cell_is_a_function_with_points(graded_examples, assignment_id):
    spec = course.load(assignment_id)
    report = graded_examples("solution", assignment_id)
    by_function = {}
    for t in report.tests:
        by_function[t.function] = by_function.get(t.function, 0) + t.max_points
    for grade_id in spec.graded:
        assert by_function.get(grade_id, 0) > 0, f"{grade_id} carries no hidden tests"
        assert by_function[grade_id] == spec.points_of(grade_id), f"{grade_id}: hidden points != test cell points"
    assert set(by_function) - set(spec.graded) <= {"experiment"}


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_solution_cells_define_what_their_grade_id_names(assignment_id):
    import ast

    source = nbformat.read(ROOT / "source" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            tree = ast.parse(cell.source)
            names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
            names |= {
                t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
            }
            assert meta["grade_id"] in names, f"cell {meta['grade_id']} does not define {meta['grade_id']}"
