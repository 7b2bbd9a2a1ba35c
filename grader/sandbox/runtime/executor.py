"""Runs a whole notebook with nbclient inside the sandbox (`grade --execute`).

Announces each cell before it runs, like the worker, and sends the executed
notebook back as JSON. A cell may use `cell_cpu_seconds` of CPU time (its kernel
and everything the kernel started), and `cell_cpu_seconds * wall_per_cpu_second`
seconds of wall time for code that waits without computing: CPU time is what
the cell costs, whatever else the machine is doing. A cell past a limit stops
the run; the notebook comes back as far as it ran, saying which cell and limit, with what each cell
used.
Job (JSON on stdin): notebook (its JSON text), cell_cpu_seconds, wall_per_cpu_second, fd.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import protocol
from accounting import tree_cpu_seconds


class Watchdog(threading.Thread):
    """Kills the kernel when the running cell passes its CPU-time or wall-time limit."""

    def __init__(self, cpu_seconds: float, wall_seconds: float):
        super().__init__(daemon=True)
        self.cpu_limit, self.wall_limit = cpu_seconds, wall_seconds
        self.kernel_pid = None  # once the kernel runs
        self.cell = None
        self.stopped: dict | None = None
        self.done = threading.Event()
        self.lock = threading.Lock()

    def kernel_started(self, pid: int) -> None:
        self.kernel_pid = pid

        self.cells: list[dict] = []  # what each cell used, sent back with the notebook

    def cell_started(self, name: str) -> None:
        with self.lock:
            self.cell, self.cell_cpu, self.cell_wall = name, self.cpu(), time.monotonic()

    def cell_finished(self) -> None:
        with self.lock:
            self._record_cell()
            self.cell = None

    def _record_cell(self) -> None:
        if self.cell is not None:
            cpu, wall = self.cpu() - self.cell_cpu, time.monotonic() - self.cell_wall
            self.cells.append({"cell": self.cell, "cpu_seconds": round(cpu, 2), "wall_seconds": round(wall, 2)})

    def cpu(self) -> float:
        return tree_cpu_seconds(self.kernel_pid) if self.kernel_pid is not None else 0.0

    def run(self) -> None:
        while not self.done.wait(0.5):
            with self.lock:
                if self.cell is None:
                    continue
                used, waited = self.cpu() - self.cell_cpu, time.monotonic() - self.cell_wall
                if used > self.cpu_limit:
                    self.stop(
                        "CPU time per cell",
                        self.cpu_limit,
                        f"it used more than the CPU-time limit of {self.cpu_limit:.0f} s for one cell",
                    )
                elif waited > self.wall_limit:
                    self.stop(
                        "wall time per cell",
                        self.wall_limit,
                        f"it ran longer than the time limit of "
                        f"{self.wall_limit:.0f} s for one cell (waiting, not computing)",
                    )

    def stop(self, limit: str, seconds: float, reason: str) -> None:
        self.stopped = {"cell": self.cell, "limit": limit, "seconds": seconds, "reason": reason}
        self._record_cell()
        self.done.set()
        try:
            os.killpg(os.getpgid(self.kernel_pid), signal.SIGKILL)
        except OSError:  # not a group leader, or gone already
            try:
                os.kill(self.kernel_pid, signal.SIGKILL)
            except OSError:
                pass


def main() -> None:
    job = json.loads(sys.stdin.read())
    fd = job["fd"]
    sys.stdin = open(os.devnull)
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.reads(job["notebook"], as_version=4)
    protocol.send(fd, {"event": "ready"})
    watchdog = Watchdog(job["cell_cpu_seconds"], job["cell_cpu_seconds"] * job["wall_per_cpu_second"])

    def kernel_started(**_):
        watchdog.kernel_started(client.km.provisioner.pid)
        watchdog.start()

    def announce(cell, cell_index, **_):
        name = f"cell {cell_index + 1}"
        watchdog.cell_started(name)
        protocol.send(fd, {"event": "cell_start", "cell": name})

    def executed(**_):
        watchdog.cell_finished()

    workdir = os.path.join(os.environ.get("TMPDIR", "/tmp"), "notebook")
    os.makedirs(workdir, exist_ok=True)
    client = NotebookClient(
        notebook,
        timeout=None,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": workdir}},
        on_notebook_start=kernel_started,
        on_cell_execute=announce,
        on_cell_executed=executed,
    )
    error = None
    try:
        client.execute()
    except Exception as exc:  # a dead kernel (killed by the watchdog, or crashed): keep what ran
        error = f"{type(exc).__name__}: {str(exc)[:500]}"
    watchdog.done.set()
    stopped = watchdog.stopped
    protocol.send(
        fd,
        {"event": "executed", "error": None if stopped else error, "stopped": stopped, "cells": watchdog.cells},
        nbformat.writes(notebook).encode(),
    )
    protocol.send(fd, {"event": "finished"})


if __name__ == "__main__":
    main()
