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
    # a check of experiment results the grader did not produce itself (no --execute): its points show the
    # student where they stand, and no grade of record (gradebook, Gradescope) takes them
    provisional: bool = False


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
    # what each cell that ran used, in notebook order: {"cell", "cpu_seconds", "wall_seconds"}, and the
    # limit they were held to, so that an instructor sees how close an honest notebook came to it
    cells: list[dict] = field(default_factory=list)
    cell_cpu_limit: float | None = None
    # names of results the submitted notebook's saved outputs hold and this run did not record (pasted ones)
    unreproduced: list[str] = field(default_factory=list)

    def heaviest(self) -> dict | None:
        return max(self.cells, key=lambda c: c.get("cpu_seconds", 0.0), default=None)


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
    grader_digest: str | None = None  # course.Assignment.digest(): what graded it; another digest makes it stale
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

    @property
    def provisional_points(self) -> float:
        """Points that stand only once the grader's own run of the notebook confirms them."""
        return round(sum(t.points for t in self.tests if t.provisional), 6)

    @property
    def score_of_record(self) -> float:
        return round(self.score - self.provisional_points, 6)

    def points_by_function(self, *, of_record: bool = False) -> dict[str, tuple[float, float]]:
        """function -> (points earned, points possible), in the order of the tests; `of_record` leaves out
        provisional points (what a gradebook may hold)."""
        found: dict[str, tuple[float, float]] = {}
        for t in self.tests:
            earned, possible = found.get(t.function, (0.0, 0.0))
            found[t.function] = (earned + (0.0 if of_record and t.provisional else t.points), possible + t.max_points)
        return found

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        data = dict(data)
        tests = [
            TestReport(**{k: t[k] for k in TestReport.__dataclass_fields__ if k in t}) for t in data.pop("tests", [])
        ]
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


PROVISIONAL = (
    "{points:g} of these points are provisional: they come from the experiment results saved in the notebook, "
    "which the grader did not produce itself; the grade of record runs the notebook again (--execute) and "
    "grades what that run records"
)


def unreproduced(execution: Execution) -> str:
    return (
        f"the notebook's saved outputs hold results for {', '.join(execution.unreproduced)}, which the grader's "
        "run of the notebook did not record: only results that this run recorded earn points"
    )


def execution_margin(execution: Execution) -> str | None:
    """'cell 40 used 212 s of its 900 s CPU-time limit': how close the heaviest cell came."""
    heaviest = execution.heaviest()
    if heaviest is None or not execution.cell_cpu_limit:
        return None
    return (
        f"{heaviest['cell']} used {heaviest['cpu_seconds']:.0f} s of its {execution.cell_cpu_limit:.0f} s CPU-time "
        "limit, the most of any cell"
    )


def notes(report: Report) -> list[str]:
    """Everything besides the tests that a reader should know, one line each."""
    lines = []
    if report.provisional_points:
        lines.append("provisional (*): " + PROVISIONAL.format(points=report.provisional_points))
    if report.execution is not None and (margin := execution_margin(report.execution)):
        lines.append(f"execution: {margin}")
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
            status = f"{t.status}*" if t.provisional else t.status
            lines.append(
                f"{_cut(t.name, name_w):<{name_w}}  {pts:>9}  {status:<7}  "
                f"{_cut(t.feedback, max(width - name_w - 24, 30))}"
            )
    lines += notes(report)
    pending = f", {report.provisional_points:g} of them provisional" if report.provisional_points else ""
    lines.append(f"TOTAL {report.score:g}/{report.max_score:g} ({percent(report):.0f}%{pending})")
    return "\n".join(lines)


def markdown(report: Report) -> str:
    """The table as GitHub-flavoured Markdown (a CI job summary)."""
    lines = [
        f"### {report.assignment}: {report.score:g}/{report.max_score:g} ({percent(report):.0f}%)"
        + (f", {report.provisional_points:g} provisional" if report.provisional_points else ""),
        "",
        "| function | check | points | status | feedback |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in report.tests:
        feedback = " ".join(t.feedback.split()).replace("|", "\\|")
        status = f"{t.status} (provisional)" if t.provisional else t.status
        lines.append(f"| `{t.function}` | {t.name} | {t.points:g}/{t.max_points:g} | {status} | {feedback} |")
    lines += [f"- {line}" for line in notes(report)]
    return "\n".join(lines) + "\n"
