"""The event pump: read what a sandboxed process announces, and stop it when it breaks a limit.

The process says which step it starts before it starts it (a cell, a probe), so
when it hangs, floods its output or dies, the step at fault is known. Each step
has its own time limit; the run as a whole has a deadline (and, for whole
notebooks, a CPU-time budget).
"""

from __future__ import annotations

import os
import selectors
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from .process import Process
from .runtime import protocol
from .steps import StepStatus

CPU_POLL_SECONDS = 0.5


class StepKind(StrEnum):
    STARTUP = "startup"
    READY = "ready"
    CELL = "cell"
    PROBE = "probe"
    BETWEEN = "between"  # after a step, before the next one announced itself
    FINISHED = "finished"


@dataclass(frozen=True)
class Step:
    kind: StepKind
    name: str = ""


STARTUP = Step(StepKind.STARTUP)


@dataclass(frozen=True)
class StepLimit:
    """What one step may use: wall seconds, and where given, CPU seconds of the whole process tree."""

    what: str  # "test" or "cell", for messages
    wall_seconds: float
    cpu_seconds: float | None = None


@dataclass(frozen=True)
class RunLimit:
    """What the whole run may use: a wall-clock deadline, and where given, CPU seconds."""

    what: str  # "the whole submission", "the whole notebook"
    deadline: float  # time.monotonic()
    wall_seconds: float
    cpu_seconds: float | None = None


@dataclass(frozen=True)
class Stop:
    """Why the grader stopped the process, or why it ended on its own before finishing."""

    status: StepStatus
    reason: str
    limit: str | None = None  # the limit it broke, named for people ("CPU time per cell"), if any


@dataclass
class PumpResult:
    step: Step  # the last step announced
    stop: Stop | None  # None: the process finished
    output: bytes  # the tail of what it printed


OnMessage = Callable[[dict, bytes, Step], Step]


@dataclass
class Pump:
    process: Process
    step_limit: StepLimit
    run_limit: RunLimit
    on_message: OnMessage
    step: Step = STARTUP
    stop: Stop | None = None
    printed: int = 0
    output: bytearray = field(default_factory=bytearray)

    def run(self) -> PumpResult:
        limits = self.process.limits
        self.decoder = protocol.Decoder(limits.message_bytes)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.process.results_fd, selectors.EVENT_READ, "results")
        self.selector.register(self.process.popen.stdout, selectors.EVENT_READ, "output")
        self.open_streams = 2
        self._begin_step()
        try:
            while self.open_streams and self.step.kind != StepKind.FINISHED and self.stop is None:
                timeout = self._time_left()
                if self.stop is None:
                    for key, _ in self.selector.select(timeout):
                        self._read(key)
        finally:
            self.selector.close()
            reason = self.process.finish(killed=self.stop is not None)
        if self.step.kind != StepKind.FINISHED and self.stop is None:
            self.stop = Stop(StepStatus.ERROR, reason)
        return PumpResult(self.step, self.stop, bytes(self.output))

    def _begin_step(self) -> None:
        if self.step.kind == StepKind.STARTUP:
            self.step_wall, self.step_what = self.process.limits.startup_seconds, "start of the worker"
        else:
            self.step_wall, self.step_what = self.step_limit.wall_seconds, self.step_limit.what
        self.step_deadline = min(self.run_limit.deadline, time.monotonic() + self.step_wall)
        self.step_cpu_start = self.process.cpu_seconds() if self._counts_cpu() else 0.0

    def _counts_cpu(self) -> bool:
        return self.step_limit.cpu_seconds is not None or self.run_limit.cpu_seconds is not None

    def _time_left(self) -> float:
        """Seconds until the next look at the clocks; sets `stop` when a limit is broken."""
        left = self.step_deadline - time.monotonic()
        if left <= 0:
            if self.step_deadline >= self.run_limit.deadline:
                self._timeout(
                    f"the time limit of {self.run_limit.wall_seconds:.0f} s for {self.run_limit.what}",
                    f"wall time for {self.run_limit.what}",
                )
            else:
                self._timeout(
                    f"the time limit of {self.step_wall:.0f} s for one {self.step_what}",
                    f"wall time per {self.step_what}",
                )
            return 0.0
        if not self._counts_cpu():
            return left
        used = self.process.cpu_seconds()
        step_cpu, run_cpu = self.step_limit.cpu_seconds, self.run_limit.cpu_seconds
        if step_cpu is not None and used - self.step_cpu_start > step_cpu:
            self._timeout(
                f"the CPU-time limit of {step_cpu:.0f} s for one {self.step_limit.what}",
                f"CPU time per {self.step_limit.what}",
                verb="used more than",
            )
        elif run_cpu is not None and used > run_cpu:
            self._timeout(
                f"the CPU-time limit of {run_cpu:.0f} s for {self.run_limit.what}",
                f"CPU time for {self.run_limit.what}",
                verb="used more than",
            )
        return min(left, CPU_POLL_SECONDS)

    def _timeout(self, limit: str, name: str, verb: str = "ran longer than") -> None:
        self.stop = Stop(StepStatus.TIMEOUT, f"it {verb} {limit}", name)

    def _read(self, key) -> None:
        chunk = os.read(key.fd, 1 << 20)
        if not chunk:
            self.selector.unregister(key.fd)
            self.open_streams -= 1
        elif key.data == "output":
            self._printed(chunk)
        else:
            self._messages(chunk)

    def _printed(self, chunk: bytes) -> None:
        limit = self.process.limits.output_bytes
        self.printed += len(chunk)
        self.output += chunk
        del self.output[:-8000]
        if self.printed > limit:
            self.stop = Stop(StepStatus.ERROR, f"it printed more than the output limit of {limit >> 20} MiB", "output")

    def _messages(self, chunk: bytes) -> None:
        try:
            messages = self.decoder.feed(chunk)
        except ValueError as exc:
            self.stop = Stop(
                StepStatus.ERROR, f"it sent the grader malformed or oversized data ({exc})", "message size"
            )
            return
        for message, payload in messages:
            previous = self.step
            self.step = self.on_message(message, payload, self.step)
            if self.step != previous:
                self._begin_step()
