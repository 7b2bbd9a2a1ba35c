"""The hidden tests' side of grading: a pytest plugin, and what check modules import.

A check module (grader/assignments/<id>/checks.py) is a pytest file whose tests
carry `@graded(function, points)` and use the fixtures `student` (what the
submission's code produced in the sandbox), `reference` (what the solution
produced), `recorded` and `recorded_reference` (experiment results). A failed
`assert cond, "feedback"` gives the student that feedback; when the student's
code raised, hung or crashed, the test reports that instead.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .report import TestReport
from .sandbox.session import StepResult

MARK = "graded"


def graded(function: str, points: float):
    """Mark a check as worth `points`, earned by the graded function (grade id) `function`."""
    return pytest.mark.graded(function=function, points=points)


class StudentCodeProblem(Exception):
    """The student's code raised, was missing, hung or crashed: the test cannot pass."""

    def __init__(self, status: str, feedback: str):
        super().__init__(feedback)
        self.status = status
        self.feedback = feedback


class GraderBug(Exception):
    pass


def _where(error: dict) -> str:
    for frame in (error.get("frames") or [])[-1:]:
        return f" at line {frame.get('line')} of cell `{frame.get('cell')}`: `{frame.get('text')}`"
    return ""


def feedback_for(function: str, result: StepResult, cell_error: dict | None = None) -> str:
    """What to tell the student when a probe of `function` did not produce a value."""
    if result.status == "missing" and cell_error:
        if cell_error.get("type") == "NotImplementedError":
            return f"`{function}` is not implemented yet: replace `raise NotImplementedError()` in its cell with your code"
        if cell_error.get("type") in ("Limit", "Crash"):
            return f"`{function}` could not be defined: {cell_error.get('message', '')}"
        return (f"`{function}` could not be defined: its cell raised {cell_error.get('type')}: "
                f"{cell_error.get('message', '')}{_where(cell_error)}")
    error = result.error or {}
    kind, message = error.get("type", ""), error.get("message", "")
    if kind == "NotImplementedError":
        return f"`{function}` is not implemented yet: replace `raise NotImplementedError()` in its cell with your code"
    if result.status in ("failed", "missing"):
        return message
    if result.status == "timeout":
        return f"`{function}` did not finish: {message}; look for an endless loop or far too much work"
    return f"`{function}` raised {kind}: {message}{_where(error)}"


def close(got, want, *, rtol: float, atol: float) -> bool:
    """Element-wise |got - want| <= atol + rtol * |want|, shapes equal. Each caller states why its tolerance."""
    import torch  # here, not at the top: grading a quiz should not pay for importing torch

    got, want = torch.as_tensor(got).double(), torch.as_tensor(want).double()
    return got.shape == want.shape and bool(torch.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True))


def per_model(student, reference, case: str, check) -> None:
    """Run check(got, want, model name) for each model a probe case covers."""
    got, want = student(case), reference(case)
    for model in want:
        check(got[model], want[model], model)


class GradingPlugin:
    """Supplies the fixtures and turns each test's result into a TestReport."""

    def __init__(self, probes: dict[str, StepResult], references: dict, recorded: dict, recorded_reference: dict,
                 fallback: StepResult | None = None, cell_errors: dict[str, dict] | None = None):
        self.probes = probes
        self.cell_errors = cell_errors or {}
        self.fallback = fallback  # what every probe gives when none could run (an unreadable notebook)
        self.references = references
        self.recorded_results = recorded
        self.recorded_references = recorded_reference
        self.outcomes: list[TestReport] = []
        self.errors: list[str] = []
        self._marks: dict[str, tuple[str, float]] = {}

    @pytest.fixture
    def student(self):
        def get(name: str):
            function = name.split(".")[0]
            result = self.probes.get(name, self.fallback)
            if result is None:
                raise GraderBug(f"no probe named {name!r} ran")
            if result.status == "ok":
                return result.value
            status = {"failed": "failed", "timeout": "timeout"}.get(result.status, "error")
            raise StudentCodeProblem(status, feedback_for(function, result, self.cell_errors.get(function)))
        return get

    @pytest.fixture
    def reference(self):
        def get(name: str):
            if name not in self.references:
                raise GraderBug(f"no reference result for {name!r}: run `python -m grader references build`")
            return self.references[name]
        return get

    @pytest.fixture
    def recorded(self):
        return self.recorded_results

    @pytest.fixture
    def recorded_reference(self):
        return self.recorded_references

    def pytest_collection_modifyitems(self, items):
        for item in items:
            mark = item.get_closest_marker(MARK)
            if mark is None:
                raise GraderBug(f"{item.name} has no @graded(function, points) mark")
            self._marks[item.nodeid] = (mark.kwargs["function"], float(mark.kwargs["points"]))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and report.failed):
            function, points = self._marks[item.nodeid]
            name = item.name.removeprefix("test_")
            if report.passed:
                self.outcomes.append(TestReport(name, function, points, points, "passed", ""))
                return
            error = call.excinfo.value if call.excinfo else None
            if isinstance(error, StudentCodeProblem):
                status, feedback = error.status, error.feedback
            elif isinstance(error, AssertionError):
                status = "failed"
                feedback = str(error).strip() or (item.function.__doc__ or "this check failed").strip()
            else:
                status = "error"
                feedback = f"the grader could not check this ({type(error).__name__}: {error}); tell your instructor"
                self.errors.append(f"{item.name}: {type(error).__name__}: {error}")
            self.outcomes.append(TestReport(name, function, 0.0, points, status, feedback))


def run_checks(checks: Path, plugin: GradingPlugin) -> list[TestReport]:
    args = [str(checks), "-p", "no:cacheprovider", "--assert=plain", "--import-mode=importlib",
            "-p", "no:terminal", "--rootdir", str(checks.parent.parent), "-c", str(Path(__file__).parent / "checks.ini"),
            "-W", "ignore::DeprecationWarning"]
    code = pytest.main(args, plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise GraderBug(f"the hidden checks of {checks.parent.name} could not run (pytest exit code {int(code)})")
    return plugin.outcomes
