"""What load does to the CPU time of a training cell, with OpenMP's default waiting and with the sandbox's
(OMP_WAIT_POLICY=PASSIVE): the mechanism behind an honest `--execute` cell passing its CPU-time limit on a
busy machine (issue 22).

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


def cell(steps: int, wait_policy: str | None) -> tuple[float, float]:
    """CPU seconds and wall seconds of one run of the cell."""
    threads = str(len(os.sched_getaffinity(0)))
    env = dict(ENV, OMP_NUM_THREADS=threads)
    env.pop("OMP_WAIT_POLICY", None)
    if wait_policy:
        env["OMP_WAIT_POLICY"] = wait_policy
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
        for policy in (None, "PASSIVE"):
            with ExitStack() as stack:
                for context in contexts:
                    stack.enter_context(context())
                cpu, wall = cell(args.steps, policy)
            quiet.setdefault(policy, cpu)
            label = "passive" if policy else "default (spins)"
            print(f"{load:<18} {label:<16} {cpu:7.1f} {wall:7.1f}  {cpu / quiet[policy]:.2f}", flush=True)


if __name__ == "__main__":
    main()
