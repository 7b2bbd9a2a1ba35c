"""The grading report: the JSON of the contract, and the table people read."""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__

STATUSES = ("passed", "failed", "error", "timeout")


@dataclass
class TestReport:
    name: str
    function: str
    points: float
    max_points: float
    status: str
    feedback: str


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

    def total(self) -> "Report":
        self.score = round(sum(t.points for t in self.tests), 6)
        self.max_score = round(sum(t.max_points for t in self.tests), 6)
        return self

    def as_dict(self) -> dict:
        return asdict(self)


def write_json(report: Report, path: Path) -> None:
    """Write atomically: a reader sees the old report or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(report.as_dict(), f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
            lines.append(f"{_cut(t.name, name_w):<{name_w}}  {pts:>9}  {t.status:<7}  "
                         f"{_cut(t.feedback, max(width - name_w - 24, 30))}")
    for finding in report.tamper:
        voids = f" (voids {', '.join(finding['voids'])})" if finding.get("voids") else ""
        lines.append(f"tamper: {finding['kind']} in {finding['cell']}: {finding['detail']}{voids}")
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    for error in report.errors:
        lines.append(f"error: {error}")
    percent = 100 * report.score / report.max_score if report.max_score else 0.0
    lines.append(f"TOTAL {report.score:g}/{report.max_score:g} ({percent:.0f}%)")
    return "\n".join(lines)


def markdown(report: Report) -> str:
    """The table as GitHub-flavoured Markdown (a CI job summary)."""
    percent = 100 * report.score / report.max_score if report.max_score else 0.0
    lines = [f"### {report.assignment}: {report.score:g}/{report.max_score:g} ({percent:.0f}%)", "",
             "| function | check | points | status | feedback |", "| --- | --- | --- | --- | --- |"]
    for t in report.tests:
        feedback = " ".join(t.feedback.split()).replace("|", "\\|")
        lines.append(f"| `{t.function}` | {t.name} | {t.points:g}/{t.max_points:g} | {t.status} | {feedback} |")
    lines += [f"- error: {e}" for e in report.errors] + [f"- tamper: {f['kind']} in {f['cell']}" for f in report.tamper]
    return "\n".join(lines) + "\n"
