"""Resource limits for one sandboxed process tree.

Kernel-enforced where possible: a cgroup caps memory and the number of tasks for
the whole tree (a fork bomb or a memory bomb hits the cap, not the machine), and
rlimits cap CPU time, file size and open files per process. Without a writable
cgroup hierarchy the fallback is rlimits alone, with the address space capped
instead of memory; as root that fallback cannot cap the number of processes,
and the grader says so in the report.

Time: a probe is short, so it gets a wall-clock limit. A whole notebook run
(`--execute`) trains models for minutes, and wall time would then depend on what
else the machine is doing; its cells are limited by the CPU time the tree uses,
with a wall-clock backstop only for code that waits without computing.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    probe_seconds: float = 60.0  # wall time of one probe or of loading one cell (one test)
    # wall time of the worker's own start, before any student code: the interpreter, torch and the trusted
    # setup cell, slow on a cold disk or a busy machine, and no test's fault
    startup_seconds: float = 180.0
    submission_seconds: float = 900.0  # wall time of all the probes of one submission
    cell_cpu_seconds: float = 900.0  # CPU time of one notebook cell under --execute (all threads, all processes)
    execute_cpu_seconds: float = 3600.0  # CPU time of a whole notebook run under --execute
    # A computing cell gets at least a third of a core even with two busy processes per core beside it,
    # so three wall seconds per CPU second only stop code that sleeps or waits.
    wall_per_cpu_second: float = 3.0
    cpu_seconds: int = 1200  # CPU time of one probe worker process (rlimit)
    memory_bytes: int = 6 * GiB  # resident memory of the whole process tree
    tasks: int = 256  # processes and threads of the whole tree
    file_bytes: int = 64 * MiB  # largest file the student may write (in its private /tmp)
    tmp_bytes: int = 256 * MiB  # size of the private /tmp
    open_files: int = 512
    output_bytes: int = 4 * MiB  # what the process may print before it is stopped
    message_bytes: int = 256 * MiB  # largest probe result or executed notebook sent back

    def describe(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("open_files", "message_bytes")}


def rlimit_prefix(limits: Limits, *, cpu_seconds: float, cap_address_space: bool) -> list[str]:
    """`prlimit` arguments applied to the sandbox's first process and inherited by all it starts."""
    args = [
        "prlimit",
        f"--cpu={int(cpu_seconds)}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        "--core=0",
    ]
    if cap_address_space:
        # torch maps several GiB of libraries it never touches: leave room above the memory cap
        args.append(f"--as={limits.memory_bytes + 6 * GiB}")
    if os.geteuid() != 0:
        args.append(f"--nproc={limits.tasks}")  # root is exempt from RLIMIT_NPROC
    return args + ["--"]


class ControlGroup:
    """A cgroup (v2 unified, or v1 memory + pids + cpuacct) holding one sandbox's process tree."""

    def __init__(self, limits: Limits):
        self.name = f"transfer-course-grader/{uuid.uuid4().hex[:12]}"
        self.paths: dict[str, Path] = {}
        self._task_hits_seen = 0
        if (CGROUP_ROOT / "cgroup.controllers").exists():
            self._create_v2(limits)
        else:
            self._create_v1(limits)

    def _create_v2(self, limits: Limits) -> None:
        path = CGROUP_ROOT / self.name
        path.mkdir(parents=True)
        (path.parent / "cgroup.subtree_control").write_text("+memory +pids")
        (path / "memory.max").write_text(str(limits.memory_bytes))
        (path / "memory.swap.max").write_text("0")
        (path / "pids.max").write_text(str(limits.tasks))
        self.paths = {"unified": path}

    def _create_v1(self, limits: Limits) -> None:
        memory, pids = CGROUP_ROOT / "memory" / self.name, CGROUP_ROOT / "pids" / self.name
        memory.mkdir(parents=True)
        pids.mkdir(parents=True)
        (memory / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
        swap = memory / "memory.memsw.limit_in_bytes"
        if swap.exists():
            swap.write_text(str(limits.memory_bytes))
        (pids / "pids.max").write_text(str(limits.tasks))
        self.paths = {"memory": memory, "pids": pids}
        if (CGROUP_ROOT / "cpuacct").is_dir():
            cpu = CGROUP_ROOT / "cpuacct" / self.name
            cpu.mkdir(parents=True)
            self.paths["cpuacct"] = cpu

    def attach_prefix(self) -> list[str]:
        """A shell prefix that moves itself into the cgroup, then execs the rest of the command."""
        writes = " && ".join(f"echo $$ > {p}/cgroup.procs" for p in self.paths.values())
        return ["sh", "-c", f'{writes} && exec "$@"', "sandbox"]

    def out_of_memory(self) -> bool:
        if "unified" in self.paths:
            events = (self.paths["unified"] / "memory.events").read_text()
            return any(
                line.split()[0] in ("oom", "oom_kill") and int(line.split()[1]) > 0 for line in events.splitlines()
            )
        fields = dict(line.split() for line in (self.paths["memory"] / "memory.oom_control").read_text().splitlines())
        return int(fields.get("oom_kill", 0)) > 0

    def task_limit_hits(self) -> int:
        """How often a fork or a new thread was refused for the task limit."""
        events = (self.paths.get("pids") or self.paths["unified"]) / "pids.events"
        if not events.exists():
            return 0
        return sum(int(line.split()[1]) for line in events.read_text().splitlines() if line.startswith("max"))

    def new_task_limit_hits(self) -> bool:
        """Whether the task limit refused something since the last call (a fork bomb fails softly)."""
        hits = self.task_limit_hits()
        new, self._task_hits_seen = hits > self._task_hits_seen, hits
        return new

    def cpu_seconds(self) -> float | None:
        """CPU time used by every process that was ever in the group; None where not accounted."""
        if "unified" in self.paths:
            for line in (self.paths["unified"] / "cpu.stat").read_text().splitlines():
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) / 1e6
        if "cpuacct" in self.paths:
            return int((self.paths["cpuacct"] / "cpuacct.usage").read_text()) / 1e9
        return None

    def kill_all(self) -> None:
        for path in self.paths.values():
            for pid in (path / "cgroup.procs").read_text().split():
                try:
                    os.kill(int(pid), 9)
                except ProcessLookupError:
                    pass

    def remove(self) -> None:
        for path in self.paths.values():
            for attempt in range(200):  # killed tasks take a moment to leave
                try:
                    path.rmdir()
                    break
                except OSError:
                    self.kill_all()
                    time.sleep(0.001 * min(attempt + 1, 20))


def control_group(limits: Limits) -> ControlGroup | None:
    """A fresh cgroup, or None where this machine does not let us create one."""
    try:
        return ControlGroup(limits)
    except OSError:
        return None
