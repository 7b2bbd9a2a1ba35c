"""A busy machine, for the test and the benchmark that show load costs time, not points."""

import os
import subprocess
import sys
from contextlib import contextmanager


@contextmanager
def busy_machine(per_core: int = 2):
    """Two CPU-bound processes per core beside the grader, as on a shared machine under load."""
    # each in its own session, as other users' programs are: the scheduler shares the CPU between sessions
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
        for _ in range(per_core * (os.cpu_count() or 1))
    ]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
