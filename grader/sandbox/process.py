"""One sandboxed process tree, from start to reaping: its pipes, its limits, why it ended."""

from __future__ import annotations

import json
import os
import signal
import subprocess

from . import bubblewrap
from .confinement import INTERPRETER, Isolation, Sandbox
from .limits import control_group, rlimit_prefix
from .runtime.accounting import tree_cpu_seconds


class Process:
    """A Python process running a runtime script in a sandbox, with its results pipe.

    The job goes in on stdin as JSON (the worker reads all of it before any student
    code runs); the process announces its steps on the results pipe; everything it
    prints arrives on `popen.stdout`."""

    def __init__(self, sandbox: Sandbox, script: str, job: dict, *, cpu_seconds: float):
        self.limits = sandbox.limits
        self.group = None if sandbox.trusted else control_group(self.limits)
        read_fd, write_fd = os.pipe()
        options_fd = None
        if sandbox.isolation == Isolation.BUBBLEWRAP:
            options_fd = bubblewrap.options_file(sandbox.mounts, self.limits, self._sandbox_environment(sandbox))
        self.popen = subprocess.Popen(
            self._command(sandbox, script, cpu_seconds, options_fd),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=[write_fd] + ([options_fd] if options_fd is not None else []),
            env=self._environment(sandbox),
            cwd=sandbox.workdir,
            start_new_session=True,
        )
        os.close(write_fd)
        if options_fd is not None:
            os.close(options_fd)
        self.results_fd = read_fd
        try:
            self.popen.stdin.write(json.dumps(dict(job, fd=write_fd)).encode())
            self.popen.stdin.close()
        except BrokenPipeError:
            pass

    def _command(self, sandbox: Sandbox, script: str, cpu_seconds: float, options_fd: int | None) -> list[str]:
        # -E -s: student code ignores PYTHON* variables and the user's site-packages (the script's folder
        # stays importable); trusted runs keep the caller's environment, PYTHONPATH included
        isolate = [] if sandbox.trusted else ["-E", "-s"]
        argv = [INTERPRETER, *isolate, "-B", f"{sandbox.runtime}/{script}"]
        if options_fd is not None:
            argv = bubblewrap.bwrap_command(argv, options_fd)
        prefix = (
            []
            if sandbox.trusted
            else rlimit_prefix(self.limits, cpu_seconds=cpu_seconds, cap_address_space=self.group is None)
        )
        prefix += sandbox.drop_user
        if self.group is not None:
            prefix = self.group.attach_prefix() + prefix
        return prefix + argv

    @staticmethod
    def _sandbox_environment(sandbox: Sandbox) -> dict[str, str]:
        env = sandbox.environment()
        if sandbox.trusted:
            inherited = os.environ.get("PYTHONPATH")
            env = {**os.environ, **env, "PYTHONPATH": env["PYTHONPATH"] + (f":{inherited}" if inherited else "")}
        return env

    def _environment(self, sandbox: Sandbox) -> dict[str, str]:
        # bubblewrap sets the sandbox's environment itself (--clearenv, --setenv); its own process stays
        # inside as pid 1, whose environment a student can read: it gets nothing of the grader's (on the
        # hub that would be the service's, its API token included), only where its helpers (sh, prlimit) are
        if sandbox.isolation == Isolation.BUBBLEWRAP:
            return {"PATH": "/usr/bin:/bin"}
        return self._sandbox_environment(sandbox)

    def task_limit_note(self) -> str:
        """A note for an error message when the task limit refused a fork or thread since the last note."""
        if self.group is not None and self.group.new_task_limit_hits():
            return f" (the limit of {self.limits.tasks} processes and threads was reached)"
        return ""

    def cpu_seconds(self) -> float:
        """CPU time the whole tree has used so far."""
        if self.group is not None:
            used = self.group.cpu_seconds()
            if used is not None:
                return used
        return tree_cpu_seconds(self.popen.pid)

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
            return "it used more than its CPU-time limit"
        if number == signal.SIGKILL:
            return "the process was killed (out of memory, or by a signal)"
        if number is not None:
            name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
            return f"the process was killed by signal {name}" + (
                " (a crash)" if name in ("SIGSEGV", "SIGBUS", "SIGABRT") else ""
            )
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
