"""Finding what a submission changed that it should not have.

Grading never relies on the submission's own test cells, points or metadata, so
most tampering cannot raise a score; it is still reported, for the instructor.
Where tampering could have changed what was measured, the finding names the
graded functions whose tests it voids:
- any locked cell edited or deleted voids the experiment results (they were
  produced by code that is not the released code);
- a cell outside a function's graded cell that redefines it voids the experiment;
- replacing functions of torch, numpy or builtins (monkeypatching) voids the tests
  of the function whose cell does it, or the experiment when another cell does;
- replacing what the grader's worker uses to run probes and send results back
  voids the tests of the function during whose cell or probe it happened.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import asdict, dataclass, field

from .course import Assignment
from .notebook import Notebook

EXPERIMENT = "experiment"
PROTECTED_MODULES = {
    "torch",
    "numpy",
    "builtins",
    "timm",
    "torchvision",
    "transformers",
    "peft",
    "sklearn",
    "transfer_course",
    "math",
    "random",
    "os",
    "sys",
}
METADATA_KEYS = ("grade", "solution", "locked", "points", "task")
GRADER_PREFIX = "grader: "  # how the worker names its own machinery in what it reports replaced


@dataclass
class Finding:
    kind: str
    cell: str
    detail: str
    voids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _normalise(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _module_aliases(tree: ast.AST) -> set[str]:
    """Names bound to protected modules (or things imported from them) by import statements."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PROTECTED_MODULES:
                    names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PROTECTED_MODULES:
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def monkeypatches(source: str, aliases: set[str]) -> list[str]:
    """Statements that replace attributes of protected modules or their classes."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and _root_name(target) in aliases:
                found.append(f"line {node.lineno}: assigns {ast.unparse(target)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            if node.args and _root_name(node.args[0]) in aliases | {"__builtins__"}:
                found.append(f"line {node.lineno}: {node.func.id}({ast.unparse(node.args[0])}, ...)")
        if isinstance(node, ast.Name) and node.id == "__builtins__":
            found.append(f"line {node.lineno}: touches __builtins__")
    return found


def _defined_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def duplicate_grade_ids(submission: Notebook, assignment: Assignment) -> list[Finding]:
    counts = Counter(c.grade_id for c in submission.cells if c.grade_id)
    return [
        Finding("duplicate_grade_id", grade_id, f"{count} cells carry grade id {grade_id!r}; only the first is graded")
        for grade_id, count in counts.items()
        if count > 1
    ]


def unknown_grade_ids(submission: Notebook, assignment: Assignment) -> list[Finding]:
    known = {c.grade_id for c in assignment.release.cells if c.grade_id}
    found = dict.fromkeys(c.grade_id for c in submission.cells if c.grade_id and c.grade_id not in known)
    return [
        Finding("unknown_grade_id", grade_id, f"grade id {grade_id!r} is not in the released notebook")
        for grade_id in found
    ]


def edited_locked_cells(submission: Notebook, assignment: Assignment) -> list[Finding]:
    findings = []
    for grade_id, released in assignment.locked.items():
        cells = submission.with_grade_id(grade_id)
        voids = [] if grade_id in assignment.test_points else [EXPERIMENT]
        if not cells:
            findings.append(Finding("locked_cell_deleted", grade_id, "a locked cell of the release is missing", voids))
        elif _normalise(cells[0].source) != _normalise(released.source):
            findings.append(Finding("locked_cell_modified", grade_id, "a locked cell differs from the release", voids))
    return findings


def changed_metadata(submission: Notebook, assignment: Assignment) -> list[Finding]:
    findings = []
    for cell in assignment.release.cells:
        for submitted in submission.with_grade_id(cell.grade_id)[:1] if cell.grade_id else []:
            changed = [k for k in METADATA_KEYS if submitted.nbgrader.get(k) != cell.nbgrader.get(k)]
            if changed:
                detail = ", ".join(f"{k} {cell.nbgrader.get(k)!r} -> {submitted.nbgrader.get(k)!r}" for k in changed)
                findings.append(Finding("metadata_changed", cell.grade_id, f"nbgrader metadata changed: {detail}"))
    return findings


def _code_cells_with_owner(submission: Notebook, graded: set[str]):
    """Each code cell, with the graded function it is the (first) cell of, if any, and a name for it."""
    first = {gid: submission.with_grade_id(gid)[0].index for gid in graded if submission.with_grade_id(gid)}
    for cell in submission.cells:
        if cell.cell_type == "code":
            own = cell.grade_id if cell.grade_id in graded and first.get(cell.grade_id) == cell.index else None
            yield cell, own, own or cell.grade_id or f"cell {cell.index + 1}"


def shadowing_cells(submission: Notebook, assignment: Assignment) -> list[Finding]:
    graded = set(assignment.graded)
    return [
        Finding(
            "shadowed_function",
            where,
            f"redefines `{name}` outside its graded cell; the experiment may not have used the graded code",
            [EXPERIMENT],
        )
        for cell, own, where in _code_cells_with_owner(submission, graded)
        for name in sorted(_defined_names(cell.source) & graded - {own})
    ]


def monkeypatching_cells(submission: Notebook, assignment: Assignment) -> list[Finding]:
    aliases = set()
    for cell in submission.cells:
        if cell.cell_type == "code":
            try:
                aliases |= _module_aliases(ast.parse(cell.source))
            except SyntaxError:
                pass
    return [
        Finding("monkeypatch", where, f"replaces library code ({patch})", [own] if own else [EXPERIMENT])
        for cell, own, where in _code_cells_with_owner(submission, set(assignment.graded))
        for patch in monkeypatches(cell.source, aliases)
    ]


# What `inspect` looks for, in order: each entry one kind of change, (submission, assignment) -> findings.
INSPECTIONS = [
    duplicate_grade_ids,
    unknown_grade_ids,
    edited_locked_cells,
    changed_metadata,
    shadowing_cells,
    monkeypatching_cells,
]


def inspect(submission: Notebook, assignment: Assignment) -> list[Finding]:
    return [finding for inspection in INSPECTIONS for finding in inspection(submission, assignment)]


def runtime_findings(patched: dict[str, list[str]], out_of_turn: dict[str, list[str]]) -> list[Finding]:
    """Replacements the worker saw happen while cells loaded (step = grade id) or probes ran
    (step = function.case): library code (monkeypatch) or the worker's own machinery; and results
    written to the grader out of turn, which void the function that ran and the one they claimed."""
    findings = [
        Finding(
            "grader_tampering",
            step,
            f"wrote the grader a result out of turn (for {', '.join(sorted(set(claimed)))})",
            sorted({step.split(".")[0], *(name.split(".")[0] for name in claimed)}),
        )
        for step, claimed in out_of_turn.items()
    ]
    for step, names in patched.items():
        function = step.split(".")[0]
        ours = sorted({n.removeprefix(GRADER_PREFIX) for n in names if n.startswith(GRADER_PREFIX)})
        libraries = sorted({n for n in names if not n.startswith(GRADER_PREFIX)})
        if ours:
            findings.append(
                Finding("grader_tampering", step, f"replaced the grader's own code: {', '.join(ours)}", [function])
            )
        if libraries:
            findings.append(Finding("monkeypatch", step, f"replaced at run time: {', '.join(libraries)}", [function]))
    return findings
