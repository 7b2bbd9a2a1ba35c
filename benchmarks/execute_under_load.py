"""`grade --execute` on a quiet machine and on a busy one (two CPU-bound processes per core, each in its own
session as other users' programs are): the score must be the same; the time is what load costs.

Usage: python benchmarks/execute_under_load.py [assignment ...]   (default: m2_vision)
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BIN, ENV, ROOT
from machine_load import busy_machine


def grade(notebook: Path) -> tuple[dict, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        start = time.perf_counter()
        subprocess.run(
            [str(BIN / "python"), "-m", "grader", "grade", str(notebook), "--execute", "--json", str(out), "--quiet"],
            env=ENV,
            cwd=ROOT,
            check=True,
        )
        return json.loads(out.read_text()), time.perf_counter() - start


def main() -> None:
    assignments = sys.argv[1:] or ["m2_vision"]
    print(f"{os.cpu_count()} cores; python -m grader grade source/<id>/<id>.ipynb --execute")
    for a in assignments:
        notebook = ROOT / "source" / a / f"{a}.ipynb"
        quiet, quiet_s = grade(notebook)
        with busy_machine():
            loaded, loaded_s = grade(notebook)
        for label, report, seconds in (("quiet", quiet, quiet_s), ("busy", loaded, loaded_s)):
            print(
                f"{a:<14} {label:<6} {report['score']:g}/{report['max_score']:g} in {seconds:6.1f} s, "
                f"execution {report['execution']['status']}"
            )
        print(f"{a:<14} same score: {quiet['score'] == loaded['score']}, busy/quiet time {loaded_s / quiet_s:.2f}")


if __name__ == "__main__":
    main()
