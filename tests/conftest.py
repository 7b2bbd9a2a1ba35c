"""Shared fixtures: the course root, the assignments, graded example submissions."""

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "grader" / "assignments").iterdir() if (p / "checks.py").exists())
# every assignment, the ones that take seconds to grade marked slow: the fast tier keeps the quick m1_concepts
EACH_ASSIGNMENT = [pytest.param(a, marks=() if a == "m1_concepts" else pytest.mark.slow) for a in ASSIGNMENTS]


def venv_env(**extra: str) -> dict[str, str]:
    """The environment with the course's venv first on PATH: nbgrader shells out to its tools (alembic)."""
    return {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}", **extra}


def prose(assignment_id: str) -> str:
    """The markdown of a source notebook, cells joined by blank lines: what its sentences are checked against."""
    import nbformat

    notebook = nbformat.read(ROOT / "source" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def example(student: str, assignment_id: str) -> Path:
    return ROOT / "submitted" / student / assignment_id / f"{assignment_id}.ipynb"


def pasted(assignment_id: str):
    """The untouched release with the solution's recorded-result outputs pasted into one extra cell:
    copying a classmate's outputs, with no function implemented."""
    import nbformat

    from grader.notebook import RESULTS_MIME_TYPE

    release = nbformat.read(ROOT / "release" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    solution = nbformat.read(example("solution", assignment_id), as_version=4)
    outputs = [o for c in solution.cells for o in c.get("outputs", []) if RESULTS_MIME_TYPE in o.get("data", {})]
    assert outputs, "the solution example records no results"
    cell = nbformat.v4.new_code_cell("# my results")
    cell.outputs = outputs
    release.cells.append(cell)
    return release


@pytest.fixture(scope="session")
def graded_examples():
    """Reports of the committed example submissions, graded once per session."""
    from grader.grading import grade

    cache = {}

    def get(student: str, assignment_id: str):
        key = (student, assignment_id)
        if key not in cache:
            cache[key] = grade(example(student, assignment_id), assignment_id)
        return cache[key]

    return get


@pytest.fixture
def course_copy(tmp_path):
    """A scratch copy of the course's notebooks, for tools that write next to them."""
    for name in ("source", "release", "nbgrader_config.py"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    return tmp_path
