"""How long each source notebook takes top to bottom (what a student waits for), with jupyter execute.

Prints the share of the machine's CPU time the hypervisor took from it meanwhile (steal): on a shared
virtual machine the same notebook took 656 s one day and 748 s on another at 14% steal, so a figure
without it cannot be compared with another.

Usage: python benchmarks/notebook_runtime.py [assignment ...]
"""

import os
import sys
from pathlib import Path

from common import BIN, ROOT, run


def cpu_times() -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return fields[7], sum(fields)


def main() -> None:
    assignments = sys.argv[1:] or sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())
    print(f"{os.cpu_count()} cores")
    for a in assignments:
        folder = ROOT / "source" / a
        steal, total = cpu_times()
        seconds, peak = run([str(BIN / "jupyter"), "execute", "--output", os.devnull, f"{a}.ipynb"], cwd=folder)
        stolen = (cpu_times()[0] - steal) / max(cpu_times()[1] - total, 1)
        print(f"{a:<14} {seconds:6.1f} s   peak memory {peak / 2**20:.0f} MiB   steal {stolen:.0%}")


if __name__ == "__main__":
    main()
