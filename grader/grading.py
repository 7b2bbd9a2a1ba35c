"""Grading one submission: read, inspect, run in the sandbox, check, report."""
from __future__ import annotations

import time
from pathlib import Path

from . import assignment as assignments
from . import notebook, references, tamper
from .checking import GradingPlugin, run_checks
from .report import Report
from .sandbox.limits import Limits
from .sandbox.session import Sandbox, StepResult, execute_notebook, run_probes


def graded_cells(submission: notebook.Notebook, spec: assignments.Assignment) -> list[dict]:
    """The first cell of each graded grade id, as plain Python, in the release's order."""
    cells = []
    for grade_id in spec.graded:
        found = submission.with_grade_id(grade_id)
        if found and found[0].cell_type == "code":
            cells.append({"grade_id": grade_id, "source": notebook.code_without_magics(found[0].source)})
    return cells


def _unavailable(message: str) -> StepResult:
    return StepResult("missing", None, {"type": "Submission", "message": message, "frames": []})


def grade(path: Path, assignment_id: str | None = None, *, execute: bool = False, limits: Limits = Limits(),
          isolation: str = "auto", threads: int | None = None) -> Report:
    """Grade one notebook; every problem of the submission ends up in the report, not in an exception."""
    started = time.monotonic()
    report = Report(assignment_id, None, executed=execute)
    try:
        submission = notebook.read(path)
    except notebook.NotebookError as exc:
        report.errors.append(f"the notebook could not be read: {exc}")
        return _grade_unreadable(report, assignment_id or Path(path).stem, str(exc))
    report.notebook_sha256 = submission.sha256
    try:
        spec = assignments.load(assignments.detect(submission, assignment_id))
    except assignments.UnknownAssignment as exc:
        report.errors.append(str(exc))
        return report
    report.assignment = spec.id
    ref_probes, ref_experiments, provenance = references.load(spec.id)
    report.reference = provenance

    findings = tamper.inspect(submission, spec)
    with Sandbox(limits=limits, isolation=isolation, threads=threads, probes_file=spec.probes) as sandbox:
        report.sandbox = sandbox.describe()
        report.warnings += sandbox.warnings()
        recorded_from = submission
        if execute:
            executed, problem = execute_notebook(sandbox, submission.text())
            if problem:
                report.warnings.append(f"--execute: {problem}")
            recorded_from = notebook.parse(executed.encode(), submission.path) if executed else None
        run = run_probes(sandbox, setup=spec.setup, cells=graded_cells(submission, spec))
    report.warnings += run.warnings
    findings += tamper.runtime_findings(run.patched, lambda step: step.split(".")[0] if "." in step else None)
    report.tamper = [f.as_dict() for f in findings]

    recorded = notebook.recorded_results(recorded_from) if recorded_from is not None else {}
    plugin = GradingPlugin(run.probes, ref_probes, recorded, ref_experiments, cell_errors=run.cell_errors)
    outcomes = run_checks(spec.checks, plugin)
    report.errors += plugin.errors
    voided = {}
    for finding in findings:
        for function in finding.voids:
            voided.setdefault(function, f"voided by tampering: {finding.kind} in {finding.cell} ({finding.detail})")
    for test in outcomes:
        if test.function in voided and test.points:
            test.points, test.status, test.feedback = 0.0, "failed", voided[test.function]
        report.tests.append(test)
    _check_points(report, spec)
    report.sandbox["seconds"] = round(time.monotonic() - started, 2)
    return report.total()


def _check_points(report: Report, spec: assignments.Assignment) -> None:
    """The hidden tests of a function must be worth what its public test cell says, or totals drift."""
    by_function: dict[str, float] = {}
    for t in report.tests:
        by_function[t.function] = by_function.get(t.function, 0.0) + t.max_points
    for function, points in by_function.items():
        if abs(points - spec.points_of(function)) > 1e-9:
            report.errors.append(f"grader configuration: hidden tests of {function} are worth {points:g}, "
                                 f"its test cell test_{function} {spec.points_of(function):g}")


def _grade_unreadable(report: Report, assignment_id: str, message: str) -> Report:
    """A notebook that cannot be read still gets the assignment's full list of tests, each saying why it failed."""
    if assignment_id not in assignments.known():
        return report
    spec = assignments.load(assignment_id)
    report.assignment = spec.id
    ref_probes, ref_experiments, report.reference = references.load(spec.id)
    plugin = GradingPlugin({}, ref_probes, {}, ref_experiments,
                           fallback=_unavailable(f"the notebook could not be read: {message}"))
    for test in run_checks(spec.checks, plugin):
        test.points, test.status, test.feedback = 0.0, "error", f"the notebook could not be read: {message}"
        report.tests.append(test)
    return report.total()
