"""What the grader knows of the course and its assignments, read from trusted files only.

The course folder (`root()`) holds source/ and release/. The released notebook
(release/<id>/<id>.ipynb) fixes the graded cells, the points of each test cell,
the locked cells and the setup code. The hidden checks
and the probes live in grader/assignments/<id>/, the reference results in
grader/references/. A submission's own copy of any of this is never trusted.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from . import notebook

GRADER_DIR = Path(__file__).parent
ASSIGNMENTS_DIR = GRADER_DIR / "assignments"
REFERENCES_DIR = GRADER_DIR / "references"


def root() -> Path:
    """The course folder (source/, release/); TL_COURSE_ROOT overrides it for deployed graders."""
    return Path(os.environ.get("TL_COURSE_ROOT", GRADER_DIR.parent))


class UnknownAssignment(ValueError):
    pass


@dataclass
class Assignment:
    id: str
    release: notebook.Notebook
    setup: str
    graded: list[str]  # grade ids of the solution cells, in notebook order
    test_points: dict[str, float]  # grade id of each autograded test cell -> its points
    locked: dict[str, notebook.Cell]

    @property
    def directory(self) -> Path:
        return ASSIGNMENTS_DIR / self.id

    @property
    def checks(self) -> Path:
        return self.directory / "checks.py"

    @property
    def probes(self) -> Path:
        return self.directory / "probes.py"

    @property
    def source_notebook(self) -> Path:
        return root() / "source" / self.id / f"{self.id}.ipynb"

    @property
    def release_notebook(self) -> Path:
        return root() / "release" / self.id / f"{self.id}.ipynb"

    def grading_files(self) -> list[Path]:
        """Every file whose content can change this assignment's grades: the grader's code (less the other
        assignments' checks), this assignment's checks and probes, its references, the released notebook
        and the helper package that the notebook and the probes run."""
        from .sandbox.confinement import helper_package

        code = [
            p
            for p in GRADER_DIR.rglob("*")
            if p.suffix in (".py", ".ini") and ASSIGNMENTS_DIR not in p.parents and "__pycache__" not in p.parts
        ]
        return sorted(code) + [
            self.checks,
            self.probes,
            REFERENCES_DIR / f"{self.id}.json",
            REFERENCES_DIR / f"{self.id}.safetensors",
            self.release_notebook,
            *sorted(helper_package().rglob("*.py")),
        ]

    def digest(self) -> str:
        """sha256 over `grading_files`, names and contents: a report made under another digest is stale."""
        digest = hashlib.sha256()
        for path in self.grading_files():
            digest.update(f"{path.name}\0{path.stat().st_size}\0".encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def points_of(self, function: str) -> float:
        """Points nbgrader gives the function's public test cell: the hidden tests must add up to it."""
        return self.test_points.get(test_cell_id(function), 0.0)

    def graded_cells(self, submitted: notebook.Notebook, *, require_all: bool = False) -> list[dict]:
        """The first cell of each graded grade id, as plain Python, in the release's order.

        A submission may lack some (they then count as missing); the source notebook must not."""
        cells = []
        for grade_id in self.graded:
            found = submitted.with_grade_id(grade_id)
            if found and found[0].cell_type == "code":
                cells.append({"grade_id": grade_id, "source": notebook.code_without_magics(found[0].source)})
            elif require_all:
                raise ValueError(f"{submitted.path} has no code cell {grade_id!r}")
        return cells


def test_cell_id(function: str) -> str:
    """The grade id of a graded function's public test cell, where nbgrader keeps its points."""
    return f"test_{function}"


def known() -> list[str]:
    return sorted(p.name for p in ASSIGNMENTS_DIR.iterdir() if (p / "checks.py").exists())


def load(assignment_id: str) -> Assignment:
    if assignment_id not in known():
        raise UnknownAssignment(f"unknown assignment {assignment_id!r}; known: {', '.join(known())}")
    path = root() / "release" / assignment_id / f"{assignment_id}.ipynb"
    release = notebook.read(path)
    graded, test_points, locked, setup = [], {}, {}, []
    for cell in release.cells:
        meta, grade_id = cell.nbgrader, cell.grade_id
        if grade_id is None:
            continue
        if meta.get("solution"):
            graded.append(grade_id)
        if meta.get("grade") and not meta.get("solution"):
            test_points[grade_id] = float(meta.get("points", 0))
        if meta.get("locked"):
            locked[grade_id] = cell
        if grade_id.startswith("setup") and cell.cell_type == "code":
            setup.append(cell.source)
    return Assignment(assignment_id, release, "\n\n".join(setup), graded, test_points, locked)


def detect(submission: notebook.Notebook, hint: str | None = None) -> str:
    """Which assignment a submission is: the --assignment flag, else its file name, else its grade ids."""
    if hint:
        if hint not in known():
            raise UnknownAssignment(f"unknown assignment {hint!r}; known: {', '.join(known())}")
        return hint
    if submission.path.stem in known():
        return submission.path.stem
    ids = {c.grade_id for c in submission.cells if c.grade_id}
    scores = {a: len(ids & set(load(a).graded)) for a in known()}
    best = max(scores, key=scores.get, default=None)
    if best is None or scores[best] == 0:
        raise UnknownAssignment("cannot tell which assignment this notebook is: pass --assignment")
    return best
