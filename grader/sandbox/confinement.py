"""Where student code runs: the confinement chosen for this machine, ready to start processes.

A `Sandbox` holds a private working folder with the runtime files (the only grader
code that runs beside student code), decides the mounts, the environment, the user
and the limits, and starts `Process`es in it. Bubblewrap when installed; otherwise
resource limits alone, as user `nobody` where possible, and every report says so.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from enum import StrEnum
from pathlib import Path

from . import bubblewrap
from .limits import Limits, control_group

RUNTIME = Path(__file__).parent / "runtime"
NOBODY = 65534
# the sandbox mounts resolved paths only: a relative or symlinked way to the venv (../.venv/bin/python)
# would not exist there. The file name stays, so Python still finds the venv's pyvenv.cfg beside it.
INTERPRETER = str(Path(sys.executable).parent.resolve() / Path(sys.executable).name)
NO_ISOLATION_WARNING = (
    "bubblewrap is not installed: student code ran without filesystem and network isolation, under resource limits only"
)


class SandboxUnavailable(RuntimeError):
    pass


class Isolation(StrEnum):
    BUBBLEWRAP = "bubblewrap"
    NONE = "none"


def isolation_mode(requested: str) -> Isolation:
    """What `auto`, `bubblewrap` or `none` means on this machine."""
    if requested == "auto":
        return Isolation.BUBBLEWRAP if bubblewrap.available() else Isolation.NONE
    if requested not in Isolation._value2member_map_:
        raise ValueError(f"unknown sandbox {requested!r}")
    if requested == Isolation.BUBBLEWRAP and not bubblewrap.available():
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed: `apt-get install bubblewrap`, or pass --sandbox none"
        )
    return Isolation(requested)


def cgroups_available() -> bool:
    """Whether this machine lets the grader create cgroups (tried afresh: it takes a millisecond)."""
    group = control_group(Limits())
    if group is None:
        return False
    group.remove()
    return True


def helper_package() -> Path:
    """The course helper package the grader itself imported: the sandbox gets that very one, wherever
    it lies (an editable install from another checkout, a hub's shared environment)."""
    import transfer_course

    return Path(transfer_course.__file__).parent.resolve()


def _readable_by_everyone(path: Path) -> bool:
    """Whether another user could run the interpreter at `path`: every folder above it is world-searchable."""
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

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        isolation: str = "auto",
        device: str = "cpu",
        threads: int | None = None,
        trusted: bool = False,
    ):
        self.limits = limits or Limits()
        # trusted code (the instructor's solution, building references) runs without resource limits:
        # a CUDA context alone maps more address space than any sensible RLIMIT_AS
        self.trusted = trusted
        self.isolation = isolation_mode(isolation)
        self.device = device
        self.threads = threads or len(os.sched_getaffinity(0)) or 1
        self.workdir = tempfile.mkdtemp(prefix="grader-")
        runtime = Path(self.workdir) / "runtime"
        shutil.copytree(RUNTIME, runtime, ignore=shutil.ignore_patterns("__pycache__"))
        (runtime / "lib").mkdir()
        self.drop_user: list[str] = []
        self.mounts = None
        if self.isolation == Isolation.BUBBLEWRAP:
            self.runtime = "/grader"
            (runtime / "lib" / "transfer_course").mkdir()  # the mount point of the helper package
            self.mounts = bubblewrap.Mounts(
                read_only=bubblewrap.python_mounts(),
                placed={"/grader": runtime, "/grader/lib/transfer_course": helper_package()},
            )
        else:
            self.runtime = str(runtime)
            (runtime / "lib" / "transfer_course").symlink_to(helper_package())
            if not trusted:
                self._hand_to_nobody(runtime)

    def _hand_to_nobody(self, runtime: Path) -> None:
        self.drop_user = fallback_user()
        if self.drop_user:
            for path in (Path(self.workdir), *runtime.rglob("*"), runtime):
                os.chown(path, NOBODY, NOBODY, follow_symlinks=False)

    @property
    def library_path(self) -> str:
        """Where the helper package is importable from inside the sandbox."""
        return f"{self.runtime}/lib"

    def describe(self) -> dict:
        if self.isolation == Isolation.BUBBLEWRAP:
            user = "namespaced"
        else:
            user = "nobody" if self.drop_user else "the grader's own"
        return {"isolation": str(self.isolation), "user": user, "limits": self.limits.describe()}

    def warnings(self) -> list[str]:
        if self.trusted:
            return []
        found = []
        if self.isolation == Isolation.NONE:
            user = "as user nobody" if self.drop_user else "as the grader's own user"
            found.append(f"{NO_ISOLATION_WARNING}, {user}")
        if not cgroups_available():
            found.append(
                "no writable cgroup hierarchy: memory was capped per process (address space) and, "
                + (
                    "as root, the number of processes was not capped"
                    if os.geteuid() == 0
                    else "the number of processes per user"
                )
            )
        return found

    def environment(self) -> dict[str, str]:
        home = "/tmp" if self.isolation == Isolation.BUBBLEWRAP else self.workdir
        return {
            "PATH": f"{Path(INTERPRETER).parent}:/usr/bin:/bin",
            "HOME": home,
            "TMPDIR": home,
            # the kernel that --execute starts finds the helper package here; the worker adds it itself
            "PYTHONPATH": self.library_path,
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{home}/matplotlib",
            "JUPYTER_RUNTIME_DIR": f"{home}/jupyter",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TL_CACHE": f"{home}/cache",
            "TL_DEVICE": self.device,
            # One thread per CPU this process may use, and threads that spin only briefly before they sleep.
            # OpenMP (torch's libgomp) lets a waiting thread spin for 300,000 rounds by default, so on a busy
            # machine a thread spins while the one it waits for is off the CPU, and a cell's CPU time grew
            # with the load beside it: 3 to 5 times (benchmarks/cell_cpu_under_load.py, issue 22: an honest
            # cell passed its CPU-time limit under load). 10,000 rounds keep that within about 1.2 and cost
            # nothing quietly; OMP_WAIT_POLICY=PASSIVE (no spinning) did as well under load but made m3's
            # small training steps half as slow again.
            "OMP_NUM_THREADS": str(self.threads),
            "GOMP_SPINCOUNT": "10000",
            "MKL_NUM_THREADS": str(self.threads),
            "OPENBLAS_NUM_THREADS": str(self.threads),
            "PYTHONHASHSEED": "0",
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, script: str, job: dict, *, cpu_seconds: float | None = None):
        """A process running runtime/`script` with `job` on its stdin (see process.Process)."""
        from .process import Process

        return Process(self, script, job, cpu_seconds=cpu_seconds or self.limits.cpu_seconds)

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
