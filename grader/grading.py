"""Grading one submission: a pipeline of stages, each with one job, run in order on a shared `Grading`.

    read -> identify -> inspect -> run in the sandbox -> check -> void tampered -> verify points

A stage that finds the submission unusable (unreadable file, unknown assignment)
says why in the report and ends the pipeline; every problem of the submission ends
up in the report, not in an exception.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import course, notebook, references, tamper
from .checking import GradingPlugin, run_checks
from .report import Execution, ExecutionStatus, Report, TestStatus, unreproduced
from .sandbox.confinement import Sandbox
from .sandbox.limits import Limits
from .sandbox.notebook_run import NotebookRun, execute_notebook
from .sandbox.probe_run import run_probes
from .sandbox.steps import ErrorRecord, ErrorType, ProbeReport, StepResult, StepStatus


@dataclass
class Options:
    execute: bool = False
    limits: Limits = field(default_factory=Limits)
    isolation: str = "auto"
    threads: int | None = None


@dataclass
class Grading:
    """What the stages know so far about one submission."""

    path: Path
    hint: str | None
    options: Options
    report: Report
    submission: notebook.Notebook | None = None
    spec: course.Assignment | None = None
    findings: list[tamper.Finding] = field(default_factory=list)
    recorded_from: notebook.Notebook | None = None  # the notebook whose recorded experiment results count
    probes: ProbeReport = field(default_factory=ProbeReport)
    done: bool = False


def read(g: Grading) -> None:
    try:
        g.submission = notebook.read(g.path)
    except notebook.NotebookError as exc:
        g.report.errors.append(f"the notebook could not be read: {exc}")
        _grade_unreadable(g.report, g.hint or Path(g.path).stem, str(exc))
        g.done = True
        return
    g.report.notebook_sha256 = g.submission.sha256
    g.recorded_from = g.submission


def identify(g: Grading) -> None:
    try:
        g.spec = course.load(course.detect(g.submission, g.hint))
    except course.UnknownAssignment as exc:
        g.report.errors.append(str(exc))
        g.done = True
        return
    g.report.assignment = g.spec.id
    g.report.reference = references.load(g.spec.id)[2]
    g.report.grader_digest = g.spec.digest()


def inspect(g: Grading) -> None:
    g.findings = tamper.inspect(g.submission, g.spec)


def run_in_sandbox(g: Grading) -> None:
    options = g.options
    with Sandbox(limits=options.limits, isolation=options.isolation, threads=options.threads) as sandbox:
        g.report.sandbox = sandbox.describe()
        g.report.warnings += sandbox.warnings()
        if options.execute:
            _record_execution(g, execute_notebook(sandbox, g.submission.text()))
        g.probes = run_probes(
            sandbox, setup=g.spec.setup, cells=g.spec.graded_cells(g.submission), probes=g.spec.probes
        )
    g.report.warnings += g.probes.warnings
    g.findings += tamper.runtime_findings(g.probes.patched, g.probes.out_of_turn)


def _record_execution(g: Grading, run: NotebookRun) -> None:
    """Grade what the fresh run recorded, and say in the report how the run ended."""
    executed = notebook.parse(run.notebook.encode(), g.submission.path) if run.notebook else None
    raised = notebook.raised_errors(executed) if executed else []
    if run.stopped:
        execution = Execution(ExecutionStatus.STOPPED, run.stopped.cell, run.stopped.limit, run.stopped.reason, raised)
        g.report.warnings.append(
            f"--execute: {run.stopped.cell} was stopped: {run.stopped.reason}; the cells after it did not run"
        )
    elif run.problem:
        execution = Execution(ExecutionStatus.FAILED, reason=run.problem, raised=raised)
        g.report.warnings.append(f"--execute: {run.problem}")
    else:
        execution = Execution(ExecutionStatus.COMPLETED, raised=raised)
    execution.cells, execution.cell_cpu_limit = run.cells, g.options.limits.cell_cpu_seconds
    g.report.warnings += [f"--execute: {line}" for line in raised]
    g.report.execution = execution
    g.recorded_from = executed
    ran = notebook.recorded_results(executed) if executed else {}
    execution.unreproduced = sorted(set(notebook.recorded_results(g.submission)) - set(ran))
    if execution.unreproduced:
        g.report.warnings.append(f"--execute: {unreproduced(execution)}")


def check(g: Grading) -> None:
    ref_probes, ref_experiments, _ = references.load(g.spec.id)
    recorded = notebook.recorded_results(g.recorded_from) if g.recorded_from is not None else {}
    plugin = GradingPlugin(g.probes.probes, ref_probes, recorded, ref_experiments, cell_errors=g.probes.cell_errors)
    g.report.tests = run_checks(g.spec.checks, plugin)
    for test in g.report.tests:  # results the grader did not produce itself cannot be a grade of record
        test.provisional = test.function == tamper.EXPERIMENT and not g.options.execute
    if plugin.errors:
        g.report.errors += plugin.errors
        g.report.grader_failure = f"{len(plugin.errors)} check(s) could not run: {plugin.errors[0]}"


def void_tampered(g: Grading) -> None:
    g.report.tamper = [f.as_dict() for f in g.findings]
    voided = {}
    for finding in g.findings:
        for function in finding.voids:
            voided.setdefault(function, f"voided by tampering: {finding.kind} in {finding.cell} ({finding.detail})")
    for test in g.report.tests:
        if test.function in voided and test.points:
            test.points, test.status, test.feedback = 0.0, TestStatus.FAILED, voided[test.function]


def verify_points(g: Grading) -> None:
    """The hidden tests of a function must be worth what its public test cell says, or totals drift."""
    for function, (_, points) in g.report.points_by_function().items():
        if abs(points - g.spec.points_of(function)) > 1e-9:
            g.report.errors.append(
                f"grader configuration: hidden tests of {function} are worth {points:g}, "
                f"its test cell {course.test_cell_id(function)} {g.spec.points_of(function):g}"
            )
            g.report.grader_failure = "the hidden tests' points do not match the notebook's test cells"


PIPELINE = [read, identify, inspect, run_in_sandbox, check, void_tampered, verify_points]


def grade(
    path: Path,
    assignment_id: str | None = None,
    *,
    execute: bool = False,
    limits: Limits = Limits(),
    isolation: str = "auto",
    threads: int | None = None,
) -> Report:
    """Grade one notebook."""
    started = time.monotonic()
    g = Grading(
        Path(path),
        assignment_id,
        Options(execute, limits, isolation, threads),
        Report(assignment_id, None, executed=execute),
    )
    for stage in PIPELINE:
        stage(g)
        if g.done:
            return g.report
    g.report.sandbox["seconds"] = round(time.monotonic() - started, 2)
    return g.report.total()


def _grade_unreadable(report: Report, assignment_id: str, message: str) -> Report:
    """A notebook that cannot be read still gets the assignment's full list of tests, each saying why it failed."""
    if assignment_id not in course.known():
        return report
    spec = course.load(assignment_id)
    report.assignment = spec.id
    ref_probes, ref_experiments, report.reference = references.load(spec.id)
    unavailable = StepResult(
        StepStatus.MISSING, None, ErrorRecord(ErrorType.SUBMISSION, f"the notebook could not be read: {message}")
    )
    for test in run_checks(spec.checks, GradingPlugin({}, ref_probes, {}, ref_experiments, fallback=unavailable)):
        test.points, test.status, test.feedback = 0.0, TestStatus.ERROR, f"the notebook could not be read: {message}"
        report.tests.append(test)
    return report.total()
