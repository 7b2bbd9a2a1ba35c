"""Running a submission's graded cells and the hidden probes in the sandbox, one step at a time.

One worker process loads the cells, then runs each probe, announcing every step.
When a step hangs, crashes the process, exhausts memory or floods the output, the
grader kills the whole process tree, charges that step alone, and starts a fresh
worker for the steps that remain: one bad function costs its own tests, never the
rest of the submission, and never the grader.
"""

from __future__ import annotations

import time
from pathlib import Path

from .confinement import Sandbox
from .pump import STARTUP, Pump, PumpResult, RunLimit, Step, StepKind, StepLimit
from .runtime.probing import decode
from .steps import ErrorRecord, ErrorType, ProbeReport, StepResult, StepStatus


class WorkerCannotStart(RuntimeError):
    """The worker died before loading any student code: the grader's fault, not the submission's."""


class ProbeRun:
    """The state of one submission's probe run across worker restarts."""

    def __init__(self, sandbox: Sandbox, *, setup: str, cells: list[dict], probes: Path):
        self.sandbox = sandbox
        self.setup, self.cells = setup, cells
        self.probes_source = probes.read_text(encoding="utf-8")
        self.report = ProbeReport()
        self.pending: list[str] | None = None  # the probes module names them when the first worker is ready
        self.skip_cells: dict[str, str] = {}  # cells that brought a worker down -> why
        self.process = None

    def run(self) -> ProbeReport:
        limits = self.sandbox.limits
        run_limit = RunLimit(
            "the whole submission", time.monotonic() + limits.submission_seconds, limits.submission_seconds
        )
        attempts = 0
        while (self.pending is None or self.pending) and time.monotonic() < run_limit.deadline:
            attempts += 1
            if self.pending is not None and attempts > self._most_attempts():
                break  # every restart retires a cell or a probe; more means the worker dies for no step's fault
            result = self._one_worker(run_limit)
            if result.stop is None:
                break
            self._charge(result)
        self._give_up_on_pending(out_of_time=time.monotonic() >= run_limit.deadline)
        return self.report

    def _most_attempts(self) -> int:
        return len(self.cells) + len(self.report.probes) + len(self.pending or []) + 2

    def _one_worker(self, run_limit: RunLimit) -> PumpResult:
        job = {
            "setup": self.setup,
            "cells": self.cells,
            "probes_source": self.probes_source,
            "probes": self.pending,
            "skip_cells": self.skip_cells,
            "device": self.sandbox.device,
            "library": self.sandbox.library_path,
        }
        self.process = self.sandbox.start("worker.py", job)
        step_limit = StepLimit("test", self.sandbox.limits.probe_seconds)
        return Pump(self.process, step_limit, run_limit, self.on_message).run()

    def _charge(self, result: PumpResult) -> None:
        """Put the failure on the step that caused it."""
        stop, step = result.stop, result.step
        error = ErrorRecord(ErrorType.LIMIT if stop.status == StepStatus.TIMEOUT else ErrorType.CRASH, stop.reason)
        if step.kind == StepKind.STARTUP or self.pending is None:
            tail = result.output[-2000:].decode("utf-8", "replace")
            raise WorkerCannotStart(f"the grader's sandboxed worker could not start ({stop.reason}):\n{tail}")
        if step.kind == StepKind.CELL:
            self.skip_cells[step.name] = f"loading it stopped the grader's worker: {stop.reason}"
            self.report.cell_errors[step.name] = ErrorRecord(error.type, self.skip_cells[step.name])
        elif self.pending:
            # a probe's own failure, or (between steps) something a cell left running: charge the next probe
            victim = step.name if step.kind == StepKind.PROBE and step.name in self.pending else self.pending[0]
            self.report.probes[victim] = StepResult(stop.status, None, error)
            self.pending.remove(victim)

    def _give_up_on_pending(self, out_of_time: bool) -> None:
        limits = self.sandbox.limits
        for name in self.pending or []:
            if out_of_time:
                reason = f"the submission's time limit of {limits.submission_seconds:.0f} s was used up"
            else:
                reason = "the sandboxed worker kept ending before this test could run"
            self.report.probes[name] = StepResult(
                StepStatus.TIMEOUT if out_of_time else StepStatus.ERROR, None, ErrorRecord(ErrorType.LIMIT, reason)
            )

    # --- what the worker says -------------------------------------------------------------------
    def on_message(self, message: dict, payload: bytes, step: Step) -> Step:
        handler = {
            "ready": self._ready,
            "cell_start": self._started,
            "probe_start": self._started,
            "cell_done": self._cell_done,
            "probe_done": self._probe_done,
        }.get(message.get("event"))
        if message.get("event") == "finished":
            return Step(StepKind.FINISHED)
        return handler(message, payload, step) if handler else step

    def _ready(self, message: dict, payload: bytes, step: Step) -> Step:
        if self.pending is None and step == STARTUP:
            self.pending = [str(name) for name in message.get("probes") or []]
        return Step(StepKind.READY)

    def _started(self, message: dict, payload: bytes, step: Step) -> Step:
        if message["event"] == "cell_start":
            return Step(StepKind.CELL, str(message.get("cell")))
        return Step(StepKind.PROBE, str(message.get("probe")))

    def _note(self, error: ErrorRecord | None) -> ErrorRecord | None:
        return error.with_note(self.process.task_limit_note()) if error is not None else None

    def _patched(self, step_name: str, message: dict) -> None:
        if message.get("patched"):
            self.report.patched.setdefault(step_name, []).extend(map(str, message["patched"]))

    def _cell_done(self, message: dict, payload: bytes, step: Step) -> Step:
        cell = str(message.get("cell"))
        error = ErrorRecord.parse(message.get("error"))
        if error is not None:
            self.report.cell_errors[cell] = self._note(error)
        self._patched(cell, message)
        return Step(StepKind.BETWEEN, cell)

    def _probe_done(self, message: dict, payload: bytes, step: Step) -> Step:
        name = str(message.get("probe"))
        if self.pending is None or name not in self.pending or step != Step(StepKind.PROBE, name):
            # one answer per request: the worker sends each result once, in its turn
            name = name[:80]  # the sender's words: keep them short, and few
            claimed = self.report.out_of_turn.setdefault(step.name or name, [])
            if name not in claimed and len(claimed) < 10:
                claimed.append(name)
            return step
        status, error, value = StepStatus.parse(message.get("status")), ErrorRecord.parse(message.get("error")), None
        if status == StepStatus.OK:
            try:
                value = decode(message.get("value"), payload)
            except Exception as exc:  # corrupt safetensors, dangling tensor references
                status, error = StepStatus.ERROR, ErrorRecord(ErrorType.DECODE, f"its result could not be read ({exc})")
        self.report.probes[name] = StepResult(status, value, self._note(error))
        self._patched(name, message)
        self.pending.remove(name)
        return Step(StepKind.BETWEEN, name)


def run_probes(sandbox: Sandbox, *, setup: str, cells: list[dict], probes: Path) -> ProbeReport:
    """Load the cells and run every probe, restarting the worker after each step that brings it down."""
    return ProbeRun(sandbox, setup=setup, cells=cells, probes=probes).run()
