"""The hidden tests' side of grading: a pytest plugin, and what check modules import.

A check module (grader/assignments/<id>/checks.py) is a pytest file whose tests
carry `@graded(function, points)` and use the fixtures `student` (what the
submission's code produced in the sandbox), `reference` (what the solution
produced), `recorded` and `recorded_reference` (experiment results). A failed
`assert cond, "feedback"` gives the student that feedback; when the student's
code raised, hung or crashed, the test reports that instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pytest

from .report import TestReport, TestStatus
from .sandbox.steps import ErrorRecord, ErrorType, StepResult, StepStatus

MARK = "graded"


def graded(function: str, points: float):
    """Mark a check as worth `points`, earned by the graded function (grade id) `function`."""
    return pytest.mark.graded(function=function, points=points)


class StudentCodeProblem(Exception):
    """The student's code raised, was missing, hung or crashed: the test cannot pass."""

    def __init__(self, status: TestStatus, feedback: str):
        super().__init__(feedback)
        self.status = status
        self.feedback = feedback


class GraderBug(Exception):
    pass


NOT_IMPLEMENTED = "`{}` is not implemented yet: replace `raise NotImplementedError()` in its cell with your code"


def feedback_for(function: str, result: StepResult, cell_error: ErrorRecord | None = None) -> str:
    """What to tell the student when a probe of `function` did not produce a value."""
    if result.status == StepStatus.MISSING and cell_error is not None:
        if cell_error.type == ErrorType.NOT_IMPLEMENTED:
            return NOT_IMPLEMENTED.format(function)
        if cell_error.type in (ErrorType.LIMIT, ErrorType.CRASH):
            return f"`{function}` could not be defined: {cell_error.message}"
        return (
            f"`{function}` could not be defined: its cell raised {cell_error.type}: "
            f"{cell_error.message}{cell_error.where()}"
        )
    error = result.error or ErrorRecord("", "")
    if error.type == ErrorType.NOT_IMPLEMENTED:
        return NOT_IMPLEMENTED.format(function)
    if result.status in (StepStatus.FAILED, StepStatus.MISSING):
        return error.message
    if result.status == StepStatus.TIMEOUT:
        return f"`{function}` did not finish: {error.message}; look for an endless loop or far too much work"
    return f"`{function}` raised {error.type}: {error.message}{error.where()}{_known_pitfall(error.message)}"


# errors whose message does not say what to do: PyTorch's wording -> the usual cause
PITFALLS = {
    "Expected more than 1 value per channel when training": (
        "a BatchNorm layer in training mode cannot normalise a batch of one: call model.eval() before "
        "evaluating or extracting features"
    ),
    "element 0 of tensors does not require grad": (
        "nothing in the computation requires a gradient: check what is frozen, and do not detach or use .item()"
    ),
}


def _known_pitfall(message: str) -> str:
    return next((f"; {advice}" for text, advice in PITFALLS.items() if text in message), "")


class Recorded(Mapping):
    """Results a notebook recorded, read the way the reference results are laid out.

    A student's run can record anything: a key missing, a list where a table belongs, NaN for an
    accuracy. Reading through this view turns each of those into a failed check whose feedback names
    the entry, never into a grader error: a missing key fails like an assert, and a value is
    checked against the reference value at the same place (a finite number where the reference has a
    number, a non-empty list of such where it has a list, a table where it has a table)."""

    def __init__(self, values: dict, like, path: tuple[str, ...] = ()):
        self._values, self._like, self._path = values, like if isinstance(like, dict) else {}, path

    def __getitem__(self, key):
        path = (*self._path, str(key))
        assert key in self._values, (
            f"the recorded results have no entry {_named(path)}: the cell that records it did not run to the end "
            "or records something else; run the experiment cells as released, then the whole notebook, and save"
        )
        value, like = self._values[key], self._like.get(key)
        problem = _unlike(value, like)
        assert problem is None, (
            f"the recorded results hold {problem} at {_named(path)}, where a run records {_kind(like)}"
        )
        return Recorded(value, like, path) if isinstance(value, dict) else value

    def get(self, key, default=None):
        return self[key] if key in self._values else default

    def __contains__(self, key) -> bool:
        return key in self._values

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _named(path: tuple[str, ...]) -> str:
    return " → ".join(repr(p) for p in path)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(like) -> str:
    if isinstance(like, dict):
        return "a table"
    if isinstance(like, list):
        return f"a non-empty list of {_kind(like[0])}s" if like else "a list"
    return "a finite number" if _number(like) else type(like).__name__


def _unlike(value, like) -> str | None:
    """What is wrong with a recorded value where the reference has `like` (None: nothing to compare with)."""
    if like is None:
        return None
    if isinstance(like, dict):
        return None if isinstance(value, dict) else f"a {type(value).__name__}"
    if isinstance(like, list):
        if not isinstance(value, list):
            return f"a {type(value).__name__}"
        if like and not value:
            return "an empty list"
        return next((p for v in value if (p := _unlike(v, like[0] if like else None))), None)
    if _number(like):
        if not _number(value):
            return f"a {type(value).__name__} ({str(value)[:20]!r})"
        return None if math.isfinite(value) else f"{value} (not a finite number)"
    return None if isinstance(value, type(like)) else f"a {type(value).__name__}"


def recorded_experiment(recorded: Mapping, name: str) -> Mapping:
    """The values a notebook recorded under `name`, or a failed check telling the student to run it."""
    values = recorded.get(name)
    assert isinstance(values, Mapping), (
        f"the '{name}' results are not recorded: run the whole notebook (Run > Run All Cells) and save it "
        "before submitting; the cells that record them need every function they call to work"
    )
    return values


def recorded_mean(results: dict, key: str, made_by: str) -> float:
    """A recorded number, or the mean of the numbers recorded for it, one per seed; a failed check naming
    what produces it when it is missing."""
    value = results.get(key)
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
        value = sum(value) / len(value)
    assert _number(value) and math.isfinite(value), (
        f"the '{key}' result is missing or not a finite number ({str(value)[:20]}): it comes from {made_by}; "
        "implement it and run the whole notebook again"
    )
    return value


def fractions_per_seed(values) -> bool:
    """Whether a recorded result is a non-empty list of fractions, one per seed."""
    return isinstance(values, list) and bool(values) and all(isinstance(v, int | float) and 0 <= v <= 1 for v in values)


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

    def __init__(
        self,
        probes: dict[str, StepResult],
        references: dict,
        recorded: dict,
        recorded_reference: dict,
        fallback: StepResult | None = None,
        cell_errors: dict[str, ErrorRecord] | None = None,
    ):
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
            if result.status == StepStatus.OK:
                return result.value
            status = {StepStatus.FAILED: TestStatus.FAILED, StepStatus.TIMEOUT: TestStatus.TIMEOUT}.get(
                result.status, TestStatus.ERROR
            )
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
        return Recorded(self.recorded_results, self.recorded_references)

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
                self.outcomes.append(TestReport(name, function, points, points, TestStatus.PASSED, ""))
                return
            error = call.excinfo.value if call.excinfo else None
            if isinstance(error, StudentCodeProblem):
                status, feedback = error.status, error.feedback
            elif isinstance(error, AssertionError):
                status = TestStatus.FAILED
                feedback = str(error).strip() or (item.function.__doc__ or "this check failed").strip()
            else:
                status = TestStatus.ERROR
                feedback = f"the grader could not check this ({type(error).__name__}: {error}); tell your instructor"
                self.errors.append(f"{item.name}: {type(error).__name__}: {error}")
            self.outcomes.append(TestReport(name, function, 0.0, points, status, feedback))


def run_checks(checks: Path, plugin: GradingPlugin) -> list[TestReport]:
    args = [
        str(checks),
        "-p",
        "no:cacheprovider",
        "--assert=plain",
        "--import-mode=importlib",
        "-p",
        "no:terminal",
        "--rootdir",
        str(checks.parent.parent),
        "-c",
        str(Path(__file__).parent / "checks.ini"),
        "-W",
        "ignore::DeprecationWarning",
    ]
    code = pytest.main(args, plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise GraderBug(f"the hidden checks of {checks.parent.name} could not run (pytest exit code {int(code)})")
    return plugin.outcomes
