"""The confinement: a bubblewrap (bwrap) command line, or a weaker fallback.

Inside the sandbox the student's process sees a read-only system (/usr, the
Python installation, the virtual environment, the course helper package), its
own empty /tmp of limited size, no network, no other processes, no capabilities,
and of the grader only its runtime files (the worker and what it imports). The
probes arrive over a pipe and exist only in memory; the grader's references,
answer keys, other submissions and the repository are not mounted, so they do
not exist there.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

from .limits import Limits

# /etc is not mounted whole: as (namespaced) root the student could read /etc/shadow.
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "nsswitch.conf",
    "passwd",
    "group",
    "fonts",
    "ssl/openssl.cnf",
    "mime.types",
    "os-release",
)


@dataclass
class Mounts:
    """Host paths mounted read-only at the same place, plus extra files mounted at chosen places."""

    read_only: list[Path] = field(default_factory=list)
    placed: dict[str, Path] = field(default_factory=dict)  # sandbox path -> host path


def python_mounts() -> list[Path]:
    """What the interpreter needs: its installation and the virtual environment (with the weights
    prepared at set-up under share/)."""
    paths = {Path(sys.base_prefix), Path(sys.prefix)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(Path(sysconfig.get_paths()[key]))
    resolved = sorted({p.resolve() for p in paths if p.exists()})
    # a path under another one comes with it
    return [p for p in resolved if not any(p != q and q in p.parents for q in resolved)]


def available() -> str | None:
    return shutil.which("bwrap")


def bwrap_command(argv: list[str], options_fd: int) -> list[str]:
    """bubblewrap reading its options from `options_fd` (see `options_file`): its command line stays
    visible inside as /proc/1/cmdline, and the mounts would tell a student where the course lies."""
    return [available(), "--args", str(options_fd), "--", *argv]


def options_file(mounts: Mounts, limits: Limits, env: dict[str, str]) -> int:
    """A file descriptor (in memory, at its start) holding bubblewrap's options, as `--args` reads them;
    bubblewrap closes it once read, so the sandbox never sees it."""
    fd = os.memfd_create("bwrap-options")
    os.write(fd, b"".join(option.encode() + b"\0" for option in options(mounts, limits, env)))
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def options(mounts: Mounts, limits: Limits, env: dict[str, str]) -> list[str]:
    cmd = [
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        "sandbox",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(limits.tmp_bytes),
        "--tmpfs",
        "/tmp",
    ]
    for name in ("usr", "bin", "lib", "lib32", "lib64", "sbin"):
        host = Path("/") / name
        if host.is_symlink():
            cmd += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            cmd += ["--ro-bind", str(host), f"/{name}"]
    for name in ETC_FILES:
        if (Path("/etc") / name).exists():
            cmd += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    for path in mounts.read_only:
        cmd += ["--ro-bind", str(path), str(path)]
    for inside, host in mounts.placed.items():
        cmd += ["--ro-bind", str(host), inside]
    cmd += ["--clearenv"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    return cmd + ["--chdir", "/tmp"]
