"""Running a whole notebook top to bottom in the sandbox (`grade --execute`).

The executor inside the sandbox limits each cell by CPU time and brings back the
notebook as far as it ran; the grader's own limits here (CPU time for the whole
run, and generous wall-clock backstops) only catch an executor that misbehaves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .confinement import Sandbox
from .pump import Pump, RunLimit, Step, StepKind, StepLimit

# on top of a cell's own wall-clock backstop: the kernel's start, sending the notebook back
MARGIN_SECONDS = 120.0


@dataclass(frozen=True)
class LimitStop:
    """A limit that stopped the run: which cell, which limit, and the sentence for people."""

    cell: str
    limit: str
    reason: str


@dataclass
class NotebookRun:
    notebook: str | None  # the executed notebook's JSON, as far as it ran; None if nothing came back
    stopped: LimitStop | None = None
    problem: str | None = None  # the run failed for another reason (the kernel died, the executor broke)
    cells: list[dict] = field(default_factory=list)  # {"cell", "cpu_seconds", "wall_seconds"} of each cell that ran


def execute_notebook(sandbox: Sandbox, notebook_json: str) -> NotebookRun:
    limits = sandbox.limits
    received: dict = {}

    def on_message(message: dict, payload: bytes, step: Step) -> Step:
        event = message.get("event")
        if event == "cell_start":
            return Step(StepKind.CELL, str(message.get("cell")))
        if event == "executed":
            received.update(message, notebook=payload.decode("utf-8", "replace"))
            return Step(StepKind.BETWEEN, "executed")
        if event == "finished":
            return Step(StepKind.FINISHED)
        return Step(StepKind.READY) if event == "ready" else step

    cell_wall = limits.cell_cpu_seconds * limits.wall_per_cpu_second
    run_wall = limits.execute_cpu_seconds * limits.wall_per_cpu_second
    job = {
        "notebook": notebook_json,
        "cell_cpu_seconds": limits.cell_cpu_seconds,
        "wall_per_cpu_second": limits.wall_per_cpu_second,
    }
    process = sandbox.start("executor.py", job, cpu_seconds=limits.execute_cpu_seconds)
    result = Pump(
        process,
        StepLimit("cell", cell_wall + MARGIN_SECONDS),
        RunLimit("the whole notebook", time.monotonic() + run_wall, run_wall, limits.execute_cpu_seconds),
        on_message,
    ).run()
    if "notebook" in received:
        cells = _cell_usage(received.get("cells"))
        stopped = received.get("stopped")
        if isinstance(stopped, dict):
            stop = LimitStop(str(stopped.get("cell")), str(stopped.get("limit")), str(stopped.get("reason")))
            return NotebookRun(received["notebook"], stop, cells=cells)
        error = received.get("error")
        return NotebookRun(received["notebook"], problem=str(error) if error else None, cells=cells)
    cell = result.step.name if result.step.kind == StepKind.CELL else "the start"
    reason = result.stop.reason if result.stop else "no result"
    if result.stop is not None and result.stop.limit:
        return NotebookRun(None, LimitStop(cell, result.stop.limit, reason))
    return NotebookRun(None, problem=f"the notebook could not be run (at {cell}): {reason}")


def _cell_usage(cells) -> list[dict]:
    """The executor's per-cell figures, kept only where they have the expected shape (they come from the
    sandbox, where student code ran)."""
    if not isinstance(cells, list):
        return []
    kept = []
    for c in cells[:10_000]:
        if isinstance(c, dict) and isinstance(c.get("cell"), str):
            numbers = [c.get("cpu_seconds"), c.get("wall_seconds")]
            if all(isinstance(v, int | float) and v >= 0 for v in numbers):
                kept.append(
                    {"cell": c["cell"][:40], "cpu_seconds": round(numbers[0], 2), "wall_seconds": round(numbers[1], 2)}
                )
    return kept
