"""A busy machine, for the tests and benchmarks that show load costs time, not points."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager

# one training loop of a randomly initialised EfficientNet-Lite0: what a neighbour's torch job does, and
# (with a step count) the cell that cell_cpu_under_load.py measures
TRAINING = """
import sys, timm, torch
torch.manual_seed(0)
model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=10)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
x, y = torch.randn(32, 3, 96, 96), torch.randint(0, 10, (32,))
for _ in range(int(sys.argv[1])):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
"""


@contextmanager
def _neighbours(commands: list[list[str]], env: dict | None = None, settle: float = 0.0):
    # each in its own session, as other users' programs are: the scheduler shares the CPU between sessions
    processes = [subprocess.Popen(c, env=env, start_new_session=True) for c in commands]
    time.sleep(settle)
    try:
        yield
    finally:
        for process in processes:
            process.kill()
            process.wait()


def busy_machine(per_core: int = 2):
    """Two CPU-bound processes per core beside the grader, as on a shared machine under load."""
    return _neighbours([[sys.executable, "-c", "while True: pass"]] * (per_core * (os.cpu_count() or 1)))


def torch_jobs():
    """One endless torch training loop per core, each with a thread per core and OpenMP's default
    settings, as other users' jobs run; started 8 s ahead, so that they train when the measured work starts."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    return _neighbours([[sys.executable, "-c", TRAINING, "1000000"]] * (os.cpu_count() or 1), env, settle=8.0)
