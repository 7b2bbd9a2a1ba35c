"""Running student code in the sandbox, from the grader's side.

`run_probes` runs a submission's graded cells and the probes in one worker
process that announces each step before it starts. When a step hangs, crashes
the process, exhausts memory or floods the output, the grader kills the whole
process tree, charges that step alone, and starts a fresh worker for the steps
that remain: one bad function costs its own tests, never the rest of the
submission, and never the grader. `execute_notebook` runs a whole notebook there.
"""
from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import bubblewrap, protocol
from .limits import Limits, control_group, rlimit_prefix
from .probing import decode

HERE = Path(__file__).parent
RUNTIME_FILES = ("worker.py", "executor.py", "protocol.py", "probing.py")


class SandboxUnavailable(RuntimeError):
    pass


@dataclass
class StepResult:
    status: str  # ok, failed, missing, error, timeout
    value: object = None
    error: dict | None = None


@dataclass
class WorkerReport:
    probes: dict[str, StepResult] = field(default_factory=dict)
    cell_errors: dict[str, dict] = field(default_factory=dict)
    patched: dict[str, list[str]] = field(default_factory=dict)  # cell or probe -> functions it replaced
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def isolation_mode(requested: str) -> str:
    """'bubblewrap' or 'none'; 'auto' picks bubblewrap when it is installed."""
    if requested == "auto":
        return "bubblewrap" if bubblewrap.available() else "none"
    if requested == "bubblewrap" and not bubblewrap.available():
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: `apt-get install bubblewrap`, or pass --sandbox none")
    if requested not in ("bubblewrap", "none"):
        raise ValueError(f"unknown sandbox {requested!r}")
    return requested


_CGROUPS: list[bool] = []


def cgroups_available() -> bool:
    """Whether this machine lets the grader create cgroups (checked once per process)."""
    if not _CGROUPS:
        group = control_group(Limits())
        _CGROUPS.append(group is not None)
        if group is not None:
            group.remove()
    return _CGROUPS[0]


NO_ISOLATION_WARNING = ("bubblewrap is not installed: student code ran without filesystem and network isolation, "
                        "under resource limits only")
NOBODY = 65534
# the sandbox mounts resolved paths only: a relative or symlinked way to the venv (../.venv/bin/python)
# would not exist there. The file name stays, so Python still finds the venv's pyvenv.cfg beside it.
INTERPRETER = str(Path(sys.executable).parent.resolve() / Path(sys.executable).name)


def _readable_by_everyone(path: Path) -> bool:
    """Whether another user could run the interpreter at `path`: every folder above it is world-searchable."""
    import stat

    for part in [path, *path.parents]:
        try:
            if not part.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def fallback_user() -> list[str]:
    """Without bubblewrap, root drops to user 'nobody' where the interpreter allows it (setpriv)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return []
    if not _readable_by_everyone(Path(INTERPRETER).resolve().parent):
        return []
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]


class Sandbox:
    """A confinement ready to start processes: runtime files in place, mounts and limits decided."""

    def __init__(self, *, limits: Limits = Limits(), isolation: str = "auto", device: str = "cpu",
                 threads: int | None = None, probes_file: Path | None = None, extra_mounts: list[Path] = (),
                 trusted: bool = False):
        self.limits = limits
        # trusted code (the instructor's solution, building references) runs without resource limits:
        # a CUDA context alone maps more address space than any sensible RLIMIT_AS
        self.trusted = trusted
        self.isolation = isolation_mode(isolation)
        self.device = device
        self.threads = threads or os.cpu_count() or 1
        self.workdir = tempfile.mkdtemp(prefix="grader-")
        runtime = Path(self.workdir) / "runtime"
        runtime.mkdir()
        for name in RUNTIME_FILES:
            shutil.copy(HERE / name, runtime / name)
        if probes_file is not None:
            shutil.copy(probes_file, runtime / "probes.py")
        self.drop_user: list[str] = []
        if self.isolation == "bubblewrap":
            self.runtime = "/grader"
            self.mounts = bubblewrap.Mounts(read_only=bubblewrap.python_mounts() + list(extra_mounts),
                                            placed={"/grader": runtime})
        else:
            self.runtime = str(runtime)
            self.mounts = None
            if not trusted:
                self.drop_user = fallback_user()
                if self.drop_user:
                    for path in (Path(self.workdir), runtime, *runtime.iterdir()):
                        os.chown(path, NOBODY, NOBODY)

    def describe(self) -> dict:
        user = "nobody" if self.drop_user else "the grader's own"
        return {"isolation": self.isolation, "user": user if self.isolation == "none" else "namespaced",
                "limits": self.limits.describe()}

    def warnings(self) -> list[str]:
        if self.trusted:
            return []
        found = []
        if self.isolation == "none":
            user = "as user nobody" if self.drop_user else "as the grader's own user"
            found.append(f"{NO_ISOLATION_WARNING}, {user}")
        if not cgroups_available():
            found.append("no writable cgroup hierarchy: memory was capped per process (address space) and, "
                         + ("as root, the number of processes was not capped" if os.geteuid() == 0
                            else "the number of processes per user"))
        return found

    def environment(self) -> dict[str, str]:
        home = "/tmp" if self.isolation == "bubblewrap" else self.workdir
        return {"PATH": f"{Path(INTERPRETER).parent}:/usr/bin:/bin", "HOME": home, "TMPDIR": home,
                "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/matplotlib", "JUPYTER_RUNTIME_DIR": f"{home}/jupyter",
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "TL_CACHE": os.environ.get("TL_CACHE", f"{home}/cache"), "TL_DEVICE": self.device,
                "OMP_NUM_THREADS": str(self.threads), "PYTHONHASHSEED": "0", "LANG": "C.UTF-8",
                "PYTHONUNBUFFERED": "1"}

    def start(self, script: str, job: dict) -> "Process":
        return Process(self, script, job)

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Process:
    """One sandboxed Python process running a runtime script, with its results pipe."""

    def __init__(self, sandbox: Sandbox, script: str, job: dict):
        self.limits = sandbox.limits
        self.group = None if sandbox.trusted else control_group(self.limits)
        read_fd, write_fd = os.pipe()
        # -E -s: student code ignores PYTHON* variables and the user's site-packages (the script's folder
        # stays importable); trusted runs keep the caller's environment, PYTHONPATH included
        isolate = [] if sandbox.trusted else ["-E", "-s"]
        argv = [INTERPRETER, *isolate, "-B", f"{sandbox.runtime}/{script}"]
        env = {**os.environ, **sandbox.environment()} if sandbox.trusted else sandbox.environment()
        if sandbox.isolation == "bubblewrap":
            argv = bubblewrap.bwrap_command(argv, sandbox.mounts, self.limits, env)
            env = None
        prefix = [] if sandbox.trusted else rlimit_prefix(self.limits, cap_address_space=self.group is None)
        prefix += sandbox.drop_user
        if self.group is not None:
            prefix = self.group.attach_prefix() + prefix
        self.popen = subprocess.Popen(prefix + argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, pass_fds=[write_fd], env=env,
                                      cwd=sandbox.workdir, start_new_session=True)
        os.close(write_fd)
        self.results_fd = read_fd
        try:
            self.popen.stdin.write(json.dumps(dict(job, fd=write_fd)).encode())
            self.popen.stdin.close()
        except BrokenPipeError:
            pass

    def limits_reached(self) -> str:
        """A note on limits that refused something since the last call (a fork bomb fails softly)."""
        if self.group is None:
            return ""
        hits = self.group.task_limit_hits()
        new, self._task_hits = hits - getattr(self, "_task_hits", 0), hits
        return f" (the limit of {self.limits.tasks} processes and threads was reached)" if new else ""

    def kill(self) -> None:
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.group is not None:
            self.group.kill_all()

    def why_it_ended(self, returncode: int) -> str:
        limits, group = self.limits, self.group
        if group is not None and group.out_of_memory():
            return f"it used more than the memory limit of {limits.memory_bytes >> 20} MiB"
        if group is not None and group.task_limit_hits():
            return f"it started more than the limit of {limits.tasks} processes and threads"
        # a signal shows as -N directly, or as 128 + N through bubblewrap's init
        number = -returncode if returncode < 0 else returncode - 128 if 128 < returncode < 128 + 65 else None
        if number == signal.SIGXCPU:
            return f"it used more than the CPU-time limit of {limits.cpu_seconds} s"
        if number == signal.SIGKILL:
            return "the process was killed (out of memory, or by a signal)"
        if number is not None:
            name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
            return f"the process was killed by signal {name}" + (" (a crash)" if name in ("SIGSEGV", "SIGBUS", "SIGABRT") else "")
        return f"the process ended with exit code {returncode} (sys.exit, os._exit or a crash)"

    def finish(self, killed: bool) -> str | None:
        """Reap the process; why it ended, when it was not killed by us."""
        if killed:
            self.kill()
        try:
            returncode = self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            returncode = None
        self.kill()  # also whatever the student's code left running
        if returncode is None:
            returncode = self.popen.wait()
        os.close(self.results_fd)
        self.popen.stdout.close()
        reason = None if killed else self.why_it_ended(returncode)
        if self.group is not None:
            self.group.remove()
        return reason


def follow(process: Process, deadline: float, step_seconds: float, step_name: str, on_message
           ) -> tuple[tuple[str, str], tuple[str, str] | None, bytes]:
    """Read the process's announcements until it finishes, ends or breaks a limit.

    `on_message(message, payload, step)` returns the new current step, a pair
    (kind, name) with kind 'finished' at the end. Returns the last step, why the
    process was stopped or ended (status, reason) unless it finished, and the tail
    of what it printed."""
    limits = process.limits
    decoder = protocol.Decoder(limits.message_bytes)
    selector = selectors.DefaultSelector()
    selector.register(process.results_fd, selectors.EVENT_READ, "results")
    selector.register(process.popen.stdout, selectors.EVENT_READ, "output")
    step = ("startup", "")
    step_deadline = min(deadline, time.monotonic() + step_seconds)
    printed, log, open_streams, stop = 0, bytearray(), 2, None
    try:
        while open_streams and step[0] != "finished" and stop is None:
            remaining = step_deadline - time.monotonic()
            if remaining <= 0:
                if step_deadline >= deadline:
                    limit = f"the time limit of {limits.submission_seconds:.0f} s for the whole submission"
                else:
                    limit = f"the time limit of {step_seconds:.0f} s for one {step_name}"
                stop = ("timeout", f"it ran longer than {limit}")
                break
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fd, 1 << 20)
                if not chunk:
                    selector.unregister(key.fd)
                    open_streams -= 1
                elif key.data == "output":
                    printed += len(chunk)
                    log += chunk
                    del log[:-8000]
                    if printed > limits.output_bytes:
                        stop = ("error", f"it printed more than the output limit of {limits.output_bytes >> 20} MiB")
                else:
                    try:
                        messages = decoder.feed(chunk)
                    except ValueError as exc:
                        stop = ("error", f"it sent the grader malformed or oversized data ({exc})")
                        messages = []
                    for message, payload in messages:
                        previous = step
                        step = on_message(message, payload, step)
                        if step != previous:
                            step_deadline = min(deadline, time.monotonic() + step_seconds)
    finally:
        selector.close()
        finished = step[0] == "finished"
        reason = process.finish(killed=stop is not None)
    if not finished and stop is None:
        stop = ("error", reason)
    return step, stop, bytes(log)


def run_probes(sandbox: Sandbox, *, setup: str, cells: list[dict]) -> WorkerReport:
    """Load the cells and run every probe, restarting the worker after each step that brings it down."""
    report = WorkerReport()
    start = time.monotonic()
    deadline = start + sandbox.limits.submission_seconds
    pending: list[str] | None = None  # the probes module names them when the first worker is ready
    skip_cells: dict[str, str] = {}  # cells that brought a worker down -> why
    attempts = 0
    current: list[Process] = []

    def annotate(error):
        if isinstance(error, dict) and current:
            error = dict(error, message=str(error.get("message", "")) + current[0].limits_reached())
        return error

    def on_message(message: dict, payload: bytes, step):
        nonlocal pending
        event = message.get("event")
        if event == "ready":
            if pending is None and step == ("startup", ""):
                pending = [str(name) for name in message.get("probes") or []]
            return ("ready", "")
        if event in ("cell_start", "probe_start"):
            return (event.split("_")[0], str(message.get("cell") or message.get("probe")))
        if event == "cell_done":
            cell = str(message.get("cell"))
            if isinstance(message.get("error"), dict):
                report.cell_errors[cell] = annotate(message["error"])
            if message.get("patched"):
                report.patched.setdefault(cell, []).extend(map(str, message["patched"]))
            return ("between", cell)
        if event == "probe_done":
            name = str(message.get("probe"))
            if name not in pending or step != ("probe", name):
                report.warnings.append(f"a result for {name!r} arrived out of turn and was ignored")
                return step
            status, error = message.get("status"), message.get("error")
            value = None
            if status == "ok":
                try:
                    value = decode(message.get("value"), payload)
                except Exception as exc:  # corrupt safetensors, dangling tensor references
                    status, error = "error", {"type": "Decode", "message": f"its result could not be read ({exc})"}
            if status not in ("ok", "failed", "missing", "error"):
                status = "error"
            report.probes[name] = StepResult(status, value, annotate(error) if isinstance(error, dict) else None)
            if message.get("patched"):
                report.patched.setdefault(name, []).extend(map(str, message["patched"]))
            pending.remove(name)
            return ("between", name)
        if event == "finished":
            return ("finished", "")
        return step

    while (pending is None or pending) and time.monotonic() < deadline:
        attempts += 1
        if pending is not None and attempts > len(cells) + len(report.probes) + len(pending) + 2:
            break  # every restart retires a cell or a probe; more means the worker dies for no step's fault
        job = {"setup": setup, "cells": cells, "probes_file": f"{sandbox.runtime}/probes.py", "probes": pending,
               "skip_cells": skip_cells, "device": sandbox.device}
        current[:] = [sandbox.start("worker.py", job)]
        step, stop, log = follow(current[0], deadline, sandbox.limits.probe_seconds, "test", on_message)
        if stop is None:
            break
        status, reason = stop
        kind, name = step
        error = {"type": "Limit" if status == "timeout" else "Crash", "message": reason, "frames": []}
        if kind == "startup" or pending is None:
            tail = log[-2000:].decode("utf-8", "replace")
            raise RuntimeError(f"the grader's sandboxed worker could not start ({reason}):\n{tail}")
        if kind == "cell":
            skip_cells[name] = f"loading it stopped the grader's worker: {reason}"
            report.cell_errors[name] = dict(error, message=skip_cells[name])
        elif pending:
            # a probe's own failure, or (between steps) something a cell left running: charge the next probe
            victim = name if kind == "probe" and name in pending else pending[0]
            report.probes[victim] = StepResult(status, None, error)
            pending.remove(victim)
    out_of_time = time.monotonic() >= deadline
    for name in pending or []:
        reason = (f"the submission's time limit of {sandbox.limits.submission_seconds:.0f} s was used up" if out_of_time
                  else "the sandboxed worker kept ending before this test could run")
        report.probes[name] = StepResult("timeout" if out_of_time else "error", None,
                                         {"type": "Limit", "message": reason, "frames": []})
    report.seconds = time.monotonic() - start
    return report


def execute_notebook(sandbox: Sandbox, notebook_json: str) -> tuple[str | None, str | None]:
    """Run a notebook top to bottom in the sandbox: (executed notebook JSON or None, what went wrong)."""
    executed: dict = {}
    deadline = time.monotonic() + sandbox.limits.submission_seconds

    def on_message(message: dict, payload: bytes, step):
        event = message.get("event")
        if event == "ready":
            return ("ready", "")
        if event == "cell_start":
            return ("cell", str(message.get("cell")))
        if event == "executed":
            executed["notebook"] = payload.decode("utf-8", "replace")
            executed["error"] = message.get("error")
            return ("executed", "")
        if event == "finished":
            return ("finished", "")
        return step

    job = {"notebook": notebook_json, "cell_seconds": sandbox.limits.cell_seconds}
    step, stop, log = follow(sandbox.start("executor.py", job), deadline, sandbox.limits.cell_seconds, "cell", on_message)
    if "notebook" in executed:
        return executed["notebook"], executed.get("error")
    where = f" at {step[1]}" if step[0] == "cell" else ""
    return None, f"the notebook could not be run{where}: {stop[1] if stop else 'no result'}"
