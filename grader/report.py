"""The grading report: the JSON of the contract, and the table people read."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from . import __version__
from .files import write_atomically


class TestStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"


STATUSES = tuple(TestStatus)


@dataclass
class TestReport:
    name: str
    function: str
    points: float
    max_points: float
    status: TestStatus
    feedback: str


class ExecutionStatus(StrEnum):
    COMPLETED = "completed"
    STOPPED = "stopped by a limit"
    FAILED = "failed"


@dataclass
class Execution:
    """How a run of the whole notebook (`--execute`) ended."""

    status: ExecutionStatus
    cell: str | None = None  # where a limit stopped it
    limit: str | None = None  # which limit ("CPU time per cell", ...)
    reason: str | None = None
    raised: list[str] = field(default_factory=list)  # "cell 12: NameError: ..." for every cell that raised


@dataclass
class Report:
    assignment: str | None
    notebook_sha256: str | None
    score: float = 0.0
    max_score: float = 0.0
    tests: list[TestReport] = field(default_factory=list)
    tamper: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    grader_version: str = __version__
    reference: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    sandbox: dict = field(default_factory=dict)
    executed: bool = False
    execution: Execution | None = None
    grader_failure: str | None = None  # the grader itself failed on this submission: not the student's fault

    def total(self) -> Report:
        self.score = round(sum(t.points for t in self.tests), 6)
        self.max_score = round(sum(t.max_points for t in self.tests), 6)
        return self

    def points_by_function(self) -> dict[str, tuple[float, float]]:
        """function -> (points earned, points possible), in the order of the tests."""
        found: dict[str, tuple[float, float]] = {}
        for t in self.tests:
            earned, possible = found.get(t.function, (0.0, 0.0))
            found[t.function] = (earned + t.points, possible + t.max_points)
        return found

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        data = dict(data)
        tests = [TestReport(**{k: t[k] for k in TestReport.__dataclass_fields__}) for t in data.pop("tests", [])]
        execution = data.pop("execution", None)
        execution = (
            Execution(**{k: v for k, v in execution.items() if k in Execution.__dataclass_fields__})
            if isinstance(execution, dict)
            else None
        )
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__}, tests=tests, execution=execution)


def write_json(report: Report, path: Path) -> None:
    write_atomically(path, json.dumps(report.as_dict(), indent=1) + "\n")


def load_json(path: Path) -> Report | None:
    """A report written by `write_json`, or None when it is missing or unreadable."""
    try:
        return Report.from_dict(json.loads(Path(path).read_text()))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def percent(report: Report) -> float:
    return 100 * report.score / report.max_score if report.max_score else 0.0


def notes(report: Report) -> list[str]:
    """Everything besides the tests that a reader should know, one line each."""
    lines = []
    for finding in report.tamper:
        voids = f" (voids {', '.join(finding['voids'])})" if finding.get("voids") else ""
        lines.append(f"tamper: {finding['kind']} in {finding['cell']}: {finding['detail']}{voids}")
    lines += [f"warning: {w}" for w in report.warnings] + [f"error: {e}" for e in report.errors]
    if report.grader_failure:
        lines.append(f"grader failure: {report.grader_failure}")
    return lines


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(report: Report, width: int = 110) -> str:
    lines = [f"{report.assignment or 'unknown assignment'}  (notebook sha256 {str(report.notebook_sha256)[:12]})"]
    if report.tests:
        name_w = min(max(len(t.name) for t in report.tests), 44)
        lines.append(f"{'test':<{name_w}}  {'points':>9}  {'status':<7}  feedback")
        for t in report.tests:
            pts = f"{t.points:g}/{t.max_points:g}"
            lines.append(
                f"{_cut(t.name, name_w):<{name_w}}  {pts:>9}  {t.status:<7}  "
                f"{_cut(t.feedback, max(width - name_w - 24, 30))}"
            )
    lines += notes(report)
    lines.append(f"TOTAL {report.score:g}/{report.max_score:g} ({percent(report):.0f}%)")
    return "\n".join(lines)


def markdown(report: Report) -> str:
    """The table as GitHub-flavoured Markdown (a CI job summary)."""
    lines = [
        f"### {report.assignment}: {report.score:g}/{report.max_score:g} ({percent(report):.0f}%)",
        "",
        "| function | check | points | status | feedback |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in report.tests:
        feedback = " ".join(t.feedback.split()).replace("|", "\\|")
        lines.append(f"| `{t.function}` | {t.name} | {t.points:g}/{t.max_points:g} | {t.status} | {feedback} |")
    lines += [f"- {line}" for line in notes(report)]
    return "\n".join(lines) + "\n"
