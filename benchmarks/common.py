"""Shared by the benchmarks: timing commands, sampling the memory of a process tree, a scratch course."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
# the benchmarks drive the hub and load the machine with the very helpers the tests use
sys.path.insert(0, str(ROOT / "tests"))
BIN = ROOT / ".venv" / "bin"
ENV = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")


def run(cmd: list[str], cwd: Path = ROOT, env: dict | None = None) -> tuple[float, int]:
    """Wall seconds and peak resident memory (bytes, summed over the whole process tree) of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, env=env or ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        root = psutil.Process(process.pid)
        while not stop.is_set():
            try:
                tree = [root] + root.children(recursive=True)
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{stderr.decode()[-2000:]}")
    return time.perf_counter() - start, peak


def median_of(cmd: list[str], runs: int) -> tuple[float, list[float], int]:
    times, peaks = [], []
    for _ in range(runs):
        seconds, peak = run(cmd)
        times.append(seconds)
        peaks.append(peak)
    return statistics.median(times), times, max(peaks)


def scratch_course(tmp: Path) -> Path:
    """A copy of the course (source, release, config) with its own gradebook."""
    for name in ("source", "release", "nbgrader_config.py"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp / name)
    return tmp


def nbgrader_autograde(course: Path, assignment: str, students: dict[str, Path]) -> float:
    """Seconds nbgrader takes to autograde these submissions (student -> notebook), all in one call."""
    for student, notebook in students.items():
        target = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(notebook, target)
    subprocess.run(
        ["nbgrader", "generate_assignment", assignment, "--force", "--log-level=ERROR"],
        cwd=course,
        env=ENV,
        check=True,
        capture_output=True,
    )
    for student in students:
        subprocess.run(
            ["nbgrader", "db", "student", "add", student], cwd=course, env=ENV, check=True, capture_output=True
        )
    seconds, _ = run(["nbgrader", "autograde", assignment, "--force", "--log-level=ERROR"], cwd=course)
    return seconds


def grade_executed(notebook: Path) -> tuple[dict, float]:
    """`grade --execute` of one notebook: its JSON report and the wall seconds it took."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        seconds, _ = run([str(BIN / "python"), "-m", "grader", "grade", str(notebook), "--execute", "--json", str(out)])
        return json.loads(out.read_text()), seconds


def heaviest_cell(report: dict) -> str:
    """'cell 40: 212 / 900 (4.2x)': the cell that used the most CPU time, against the per-cell limit."""
    execution = report["execution"]
    heaviest = max(execution["cells"], key=lambda c: c["cpu_seconds"])
    cpu, limit = heaviest["cpu_seconds"], execution["cell_cpu_limit"]
    return f"{heaviest['cell']}: {cpu:.0f} / {limit:.0f} ({limit / cpu:.1f}x)"
