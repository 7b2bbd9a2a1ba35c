"""How long each source notebook takes top to bottom (what a student waits for), with jupyter execute.

Usage: python benchmarks/notebook_runtime.py [assignment ...]
"""

import os
import sys

from common import BIN, ROOT, run


def main() -> None:
    assignments = sys.argv[1:] or sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir())
    print(f"{os.cpu_count()} cores")
    for a in assignments:
        folder = ROOT / "source" / a
        seconds, peak = run([str(BIN / "jupyter"), "execute", "--output", os.devnull, f"{a}.ipynb"], cwd=folder)
        print(f"{a:<14} {seconds:6.1f} s   peak memory {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
