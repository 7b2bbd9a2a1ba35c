"""What one step in the sandbox (loading a cell, running a probe) came to, in named types.

Everything here is built from messages a hostile process may have written, so the
constructors take any JSON value and keep only what has the expected shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


class StepStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"  # the student's code returned something unusable (ProbeFailure)
    MISSING = "missing"  # the graded function is not defined
    ERROR = "error"  # it raised, crashed or broke a limit other than time
    TIMEOUT = "timeout"

    @classmethod
    def parse(cls, value: object) -> StepStatus:
        return cls(value) if value in cls._value2member_map_ else cls.ERROR


class ErrorType(StrEnum):
    """Error types the grader itself assigns; a student's own exception keeps its class name."""

    LIMIT = "Limit"
    CRASH = "Crash"
    DECODE = "Decode"
    SUBMISSION = "Submission"
    NOT_IMPLEMENTED = "NotImplementedError"


@dataclass(frozen=True)
class Frame:
    """A line of a student's cell that an exception passed through."""

    cell: str
    line: int | None
    text: str


@dataclass(frozen=True)
class ErrorRecord:
    type: str
    message: str
    frames: tuple[Frame, ...] = ()

    @classmethod
    def parse(cls, data: object) -> ErrorRecord | None:
        if not isinstance(data, dict):
            return None
        frames = tuple(
            Frame(
                str(f.get("cell", "")),
                f.get("line") if isinstance(f.get("line"), int) else None,
                str(f.get("text", ""))[:200],
            )
            for f in data.get("frames") or []
            if isinstance(f, dict)
        )
        return cls(str(data.get("type", "")), str(data.get("message", "")), frames[-5:])

    def with_note(self, note: str) -> ErrorRecord:
        return replace(self, message=self.message + note) if note else self

    def where(self) -> str:
        """Where in the student's cells it happened, for feedback."""
        if not self.frames:
            return ""
        last = self.frames[-1]
        return f" at line {last.line} of cell `{last.cell}`: `{last.text}`"


@dataclass
class StepResult:
    status: StepStatus
    value: object = None
    error: ErrorRecord | None = None


@dataclass
class ProbeReport:
    """What a probe run found: a result per probe, errors of cells that failed to load, library or
    grader functions that student code replaced (step -> names), and results that arrived out of turn
    (step running then -> probes they claimed to be): only student code writes those."""

    probes: dict[str, StepResult] = field(default_factory=dict)
    cell_errors: dict[str, ErrorRecord] = field(default_factory=dict)
    patched: dict[str, list[str]] = field(default_factory=dict)
    out_of_turn: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
