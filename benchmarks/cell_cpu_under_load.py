"""What load does to the CPU time of a training cell under three ways for OpenMP's threads to wait: the
default (spin 300,000 rounds, then sleep), the sandbox's (GOMP_SPINCOUNT=10000) and none at all
(OMP_WAIT_POLICY=PASSIVE): the mechanism behind an honest `--execute` cell passing its CPU-time limit on a
busy machine (issue 22). `cpu_layout.py` with the same settings shows what each costs a quiet machine.

The cell: 15 training steps of a randomly initialised EfficientNet-Lite0 (timm) on 32 images of 96x96
(machine_load.TRAINING), with as many threads as this process may use, as a sandboxed kernel gets them.
The loads, each beside it: CPU hogs (two `while True: pass` per core), torch jobs (one training loop
like the cell's per core, each with every core's threads, as other users' jobs run), and both. CPU time
is the cell process's own (user + system, all threads), read from getrusage after it ends.

Usage: ../.venv/bin/python cell_cpu_under_load.py [--steps N]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from contextlib import ExitStack

from common import ENV
from machine_load import TRAINING, busy_machine, torch_jobs

WAITING = {"default (spins)": {}, "sandbox's": {"GOMP_SPINCOUNT": "10000"}, "passive": {"OMP_WAIT_POLICY": "PASSIVE"}}


def cell(steps: int, waiting: dict) -> tuple[float, float]:
    """CPU seconds and wall seconds of one run of the cell."""
    threads = str(len(os.sched_getaffinity(0)))
    env = {k: v for k, v in ENV.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(waiting, OMP_NUM_THREADS=threads)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", TRAINING, str(steps)], env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


LOADS = {
    "quiet": (),
    "CPU hogs": (busy_machine,),
    "torch jobs": (torch_jobs,),
    "hogs + torch jobs": (busy_machine, torch_jobs),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, {len(os.sched_getaffinity(0))} usable; cell: {args.steps} training steps")
    print(f"{'load':<18} {'OpenMP waiting':<16} {'CPU s':>7} {'wall s':>7}  CPU / quiet CPU")
    quiet = {}
    for load, contexts in LOADS.items():
        for label, waiting in WAITING.items():
            with ExitStack() as stack:
                for context in contexts:
                    stack.enter_context(context())
                cpu, wall = cell(args.steps, waiting)
            quiet.setdefault(label, cpu)
            print(f"{load:<18} {label:<16} {cpu:7.1f} {wall:7.1f}  {cpu / quiet[label]:.2f}", flush=True)


if __name__ == "__main__":
    main()
