"""Example submissions for the demo and the grader's own tests, made from the source notebook.

- `solved`: the released notebook with every graded cell answered as the source does;
- `mutated`: a solved notebook with realistic bugs planted (see assignments/<id>/mutants.py);
- `build`: writes submitted/{solution,untouched,partial}/<id>/<id>.ipynb, executed
  as a student would have left them, for `make demo`.
"""

from __future__ import annotations

import copy
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import course

SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


@dataclass(frozen=True)
class Mutant:
    """A realistic bug: in the cell `function`, `old` becomes `new`; the checks named in `fails` must catch
    it, and their feedback must name the mistake: `says` holds a text for each check in `fails` (or one
    text for all of them) that its feedback must contain."""

    name: str
    function: str
    old: str
    new: str
    fails: tuple[str, ...]
    says: tuple[str, ...] = ()

    def expected_feedback(self) -> dict[str, str]:
        """check -> text its feedback must contain."""
        if len(self.says) == 1:
            return dict.fromkeys(self.fails, self.says[0])
        return dict(zip(self.fails, self.says, strict=True))


@dataclass(frozen=True)
class Partial:
    """A plausible half-done student: some bugs, some functions not attempted."""

    mutants: tuple[str, ...]
    unimplemented: tuple[str, ...] = field(default_factory=tuple)


def catalogue(assignment_id: str):
    """(mutants, partial student) declared for an assignment."""
    module = importlib.import_module(f"grader.assignments.{assignment_id}.mutants")
    return module.MUTANTS, module.PARTIAL


def calls(assignment_id: str) -> dict[str, tuple[str, ...]]:
    """Graded functions that call other graded functions (a bug in the callee shows in the caller's checks)."""
    return getattr(importlib.import_module(f"grader.assignments.{assignment_id}.mutants"), "CALLS", {})


def answer(source_cell_text: str) -> str:
    return SOLUTION_MARKERS.sub("", source_cell_text)


def solved(assignment_id: str) -> nbformat.NotebookNode:
    spec = course.load(assignment_id)
    source = nbformat.read(spec.source_notebook, as_version=4)
    answers = {
        c.metadata.get("nbgrader", {}).get("grade_id"): answer(c.source)
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    notebook = nbformat.read(spec.release_notebook, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def cell_of(notebook: nbformat.NotebookNode, grade_id: str):
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(f"no cell {grade_id!r}")


def mutated(notebook: nbformat.NotebookNode, mutants) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(notebook)
    for mutant in mutants:
        cell = cell_of(notebook, mutant.function)
        if mutant.old not in cell.source:
            raise ValueError(f"mutant {mutant.name}: {mutant.old!r} is not in the cell {mutant.function}")
        cell.source = cell.source.replace(mutant.old, mutant.new, 1)
    return notebook


def unanswered(notebook: nbformat.NotebookNode, functions, release: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Put the released stubs back in these cells."""
    notebook = copy.deepcopy(notebook)
    for function in functions:
        cell_of(notebook, function).source = cell_of(release, function).source
    return notebook


def execute(notebook: nbformat.NotebookNode, directory: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    notebook = copy.deepcopy(notebook)
    NotebookClient(
        notebook,
        timeout=900,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(directory)}},
    ).execute()
    return notebook


STUDENTS = ("solution", "untouched", "partial")


def build(assignment_id: str, root: Path, students=STUDENTS) -> list[Path]:
    """Write the example submissions of one assignment under root/submitted/."""
    spec = course.load(assignment_id)
    release = nbformat.read(spec.release_notebook, as_version=4)
    solution = solved(assignment_id)
    mutants, partial = catalogue(assignment_id)
    by_name = {m.name: m for m in mutants}
    half_done = unanswered(mutated(solution, [by_name[n] for n in partial.mutants]), partial.unimplemented, release)
    written = []
    for student, notebook, run in (
        ("solution", solution, True),
        ("untouched", release, False),
        ("partial", half_done, True),
    ):
        if student not in students:
            continue
        out = root / "submitted" / student / assignment_id / f"{assignment_id}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(execute(notebook, spec.source_notebook.parent) if run else notebook, out)
        written.append(out)
    return written
