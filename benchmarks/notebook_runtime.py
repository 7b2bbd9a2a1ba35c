"""How long each source notebook takes top to bottom (what a student waits for), with jupyter execute.

Prints the share of the machine's CPU time the hypervisor took from it meanwhile (steal): on a shared
virtual machine the same notebook took 656 s one day and 748 s on another at 14% steal, so a figure
without it cannot be compared with another.

Usage: python benchmarks/notebook_runtime.py [assignment ...]
"""

import os
import sys

import psutil
from common import BIN, ROOT, run


def steal_and_total() -> tuple[float, float]:
    """CPU seconds stolen by the hypervisor and all CPU seconds, summed over CPUs, since boot."""
    times = psutil.cpu_times()
    return times.steal, sum(times)


def main() -> None:
    assignments = sys.argv[1:] or sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())
    print(f"{os.cpu_count()} cores")
    for a in assignments:
        folder = ROOT / "source" / a
        steal, total = steal_and_total()
        seconds, peak = run([str(BIN / "jupyter"), "execute", "--output", os.devnull, f"{a}.ipynb"], cwd=folder)
        steal_after, total_after = steal_and_total()
        stolen = (steal_after - steal) / max(total_after - total, 1e-9)
        print(f"{a:<14} {seconds:6.1f} s   peak memory {peak / 2**20:.0f} MiB   steal {stolen:.0%}")


if __name__ == "__main__":
    main()
