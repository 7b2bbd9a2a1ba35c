"""Runs a whole notebook with nbclient inside the sandbox (`grade --execute`).

Announces each cell before it runs, like the worker, and sends the executed
notebook back as JSON. Job (JSON on stdin): notebook (its JSON text), cell_seconds, fd.
"""
from __future__ import annotations

import json
import os
import sys

import protocol


def main() -> None:
    job = json.loads(sys.stdin.read())
    fd = job["fd"]
    sys.stdin = open(os.devnull)
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.reads(job["notebook"], as_version=4)
    protocol.send(fd, {"event": "ready"})

    def announce(cell, cell_index, **_):
        protocol.send(fd, {"event": "cell_start", "cell": f"cell {cell_index + 1}"})

    workdir = os.path.join(os.environ.get("TMPDIR", "/tmp"), "notebook")
    os.makedirs(workdir, exist_ok=True)
    client = NotebookClient(notebook, timeout=job["cell_seconds"], allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": workdir}}, on_cell_execute=announce)
    error = None
    try:
        client.execute()
    except Exception as exc:  # a dead kernel or a cell past its timeout: keep what ran
        error = f"{type(exc).__name__}: {str(exc)[:500]}"
    protocol.send(fd, {"event": "executed", "error": error}, nbformat.writes(notebook).encode())
    protocol.send(fd, {"event": "finished"})


if __name__ == "__main__":
    main()
