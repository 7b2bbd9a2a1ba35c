"""Fair grading: correct implementations written another way get full marks; public and hidden tests agree.

The variants live in fairness.py. Each is graded like a student's notebook (the solution's executed
notebook with the variant's cells in place), and run against the release's public test cells: a
function that passes its hidden checks must pass its public cell too, or a student would be told
"wrong" by the notebook and "right" by the grader (or the other way round).
"""

import ast
import json
import re
import subprocess
import sys

import nbformat
import pytest
from conftest import ASSIGNMENTS, ROOT, example, venv_env
from fairness import ALTERNATIVES, m1_variants

from grader.examples import cell_of

pytestmark = pytest.mark.slow  # two gradings per assignment, and its public tests run three times


def solution_cells(assignment_id: str) -> dict[str, str]:
    notebook = nbformat.read(example("solution", assignment_id), as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def variants(assignment_id: str) -> dict[str, dict[str, str]]:
    if assignment_id == "m1_concepts":
        return m1_variants(solution_cells(assignment_id))
    return ALTERNATIVES[assignment_id]


CASES = [(a, v) for a in ASSIGNMENTS for v in ("A", "B")]


def test_every_graded_function_has_two_other_correct_implementations():
    for assignment_id in ASSIGNMENTS:
        graded = set(solution_cells(assignment_id))
        for name, cells in variants(assignment_id).items():
            assert set(cells) == graded, (assignment_id, name, graded ^ set(cells))
            solution = solution_cells(assignment_id)
            assert all(cells[g].strip() != solution[g].strip() for g in graded), (assignment_id, name)


@pytest.mark.parametrize("assignment_id, variant", CASES, ids=[f"{a}-{v}" for a, v in CASES])
def test_a_correct_variant_gets_full_marks(tmp_path, assignment_id, variant):
    from grader.grading import grade

    notebook = nbformat.read(example("solution", assignment_id), as_version=4)
    for grade_id, source in variants(assignment_id)[variant].items():
        cell_of(notebook, grade_id).source = source
    path = tmp_path / f"{assignment_id}.ipynb"
    nbformat.write(notebook, path)
    report = grade(path, assignment_id)
    lost = {t.name: t.feedback for t in report.tests if t.status != "passed"}
    assert lost == {}, lost
    assert report.score == report.max_score and report.errors == [] and report.tamper == []


# What runs the public tests: the release's cells in order, each graded cell replaced by an implementation,
# each public test cell of a graded function run and its outcome kept; of the other cells only those that
# define what a public test uses (the data, a loaded model), never the experiments.
RUNNER = r"""
import json, sys, traceback
job = json.load(open(sys.argv[1]))
outcomes = {}
for label, cells in job["implementations"].items():
    namespace = {"__name__": "__main__"}
    outcomes[label] = {}
    for kind, name, source in cells:
        try:
            exec(compile(source, f"<{name}>", "exec"), namespace)
            if kind == "test":
                outcomes[label][name] = None
        except BaseException as exc:
            if kind != "test":
                raise
            outcomes[label][name] = f"{type(exc).__name__}: {exc}"
json.dump(outcomes, open(sys.argv[2], "w"))
"""


def names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell reads, names it binds)."""
    tree = ast.parse(source)
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    return read, bound


def public_test_plan(assignment_id: str, implementation: dict[str, str]) -> list[tuple[str, str, str]]:
    from grader.notebook import code_without_magics

    release = nbformat.read(ROOT / "release" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    graded = set(implementation)
    tests = {f"test_{g}" for g in graded}
    wanted, given = set(), set()  # names the public tests read without binding them; names the rest binds
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        read, bound = names(code_without_magics(cell.source)) if cell.cell_type == "code" else (set(), set())
        if grade_id in tests:
            wanted |= read - bound - given
            given |= bound
        elif grade_id == "setup" or grade_id in graded:
            given |= bound
    plan = []
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        source = code_without_magics(cell.source)
        if cell.cell_type != "code":
            continue
        if grade_id == "setup" or (grade_id is None and names(source)[1] & wanted):
            plan.append(("setup", grade_id or "data", source))
        elif grade_id in graded:
            plan.append(("function", grade_id, implementation[grade_id]))
        elif grade_id in tests:
            plan.append(("test", grade_id, source))
    return plan


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_public_tests_pass_for_every_correct_implementation(tmp_path, assignment_id):
    implementations = {"solution": solution_cells(assignment_id), **variants(assignment_id)}
    job = {
        "implementations": {label: public_test_plan(assignment_id, cells) for label, cells in implementations.items()}
    }
    (tmp_path / "job.json").write_text(json.dumps(job))
    (tmp_path / "runner.py").write_text(RUNNER)
    done = subprocess.run(
        [sys.executable, str(tmp_path / "runner.py"), str(tmp_path / "job.json"), str(tmp_path / "out.json")],
        cwd=tmp_path,
        env=venv_env(MPLBACKEND="Agg"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = json.loads((tmp_path / "out.json").read_text())
    failed = {label: {t: e for t, e in tests.items() if e} for label, tests in outcomes.items()}
    assert not any(failed.values()), failed
    assert all(len(tests) == len(implementations["solution"]) for tests in outcomes.values()), outcomes


# Thresholds a public test cell quotes and the hidden check that decides: the same claim in both.
CLAIMS = [
    ("m2_lora", r'< 0\.01 \* lora\["total_parameters"\]', r'< 0\.01 \* lora\["total_parameters"\]'),
    (
        "m2_vision",
        r'accuracy\["feature_extraction"\] > accuracy\["scratch"\]',
        r'accuracy\["feature_extraction"\] > accuracy\["scratch"\]',
    ),
    ("m3_evaluation", r'\["frozen source"\]\["gap"\] > 0', r'\["frozen source"\]\["gap"\] > 0'),
    (
        "m3_evaluation",
        r'all\(f == 0 for f in \w+\["frozen"\]\["forgetting"\]\)',
        r'all\(f == 0 for f in \w+\["frozen"\]\["forgetting"\]\)',
    ),
    (
        "m3_evaluation",
        r'mean\(domain_shift\["UCI \+ AdaBN"\]\) > mean\(domain_shift\["UCI as is"\]\)',
        r'adapted > recorded_mean\(shift, "UCI as is"',
    ),
]


@pytest.mark.parametrize("assignment_id, public, hidden", CLAIMS)
def test_public_cells_quote_the_hidden_thresholds(assignment_id, public, hidden):
    release = nbformat.read(ROOT / "release" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    public_code = "\n".join(c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("grade"))
    checks = (ROOT / "grader" / "assignments" / assignment_id / "checks.py").read_text()
    assert re.search(public, public_code), f"the public tests no longer say {public}"
    assert re.search(hidden, checks), f"the hidden checks no longer say {hidden}"
