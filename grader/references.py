"""Reference results: what the instructor's solution produces, with where and how it was produced.

`build` runs the source notebook's solution through the same probes a submission
meets, and runs the whole source notebook as a script for the experiment
results; both are stored in grader/references/<id>.json (+ .safetensors for
tensors), with provenance: device, library versions, seed, and a hash of the source's code
(its prose can change without a rebuild; its code cannot).
References are meant to be built on a GPU (`--device cuda`); checks compare a
CPU submission with them under tolerances stated next to each check.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from . import notebook
from .course import REFERENCES_DIR, Assignment
from .files import write_atomically
from .sandbox.confinement import Sandbox
from .sandbox.probe_run import run_probes
from .sandbox.runtime.probing import decode, encode
from .sandbox.steps import StepStatus

SEED = 0


class MissingReferences(RuntimeError):
    pass


def _paths(assignment_id: str) -> tuple[Path, Path]:
    return REFERENCES_DIR / f"{assignment_id}.json", REFERENCES_DIR / f"{assignment_id}.safetensors"


@functools.cache
def load(assignment_id: str) -> tuple[dict, dict, dict]:
    """(probe results by name, experiment results by name, provenance)."""
    meta_path, tensor_path = _paths(assignment_id)
    if not meta_path.exists():
        raise MissingReferences(
            f"no reference results for {assignment_id}: "
            f"run `python -m grader references build --assignment {assignment_id}`"
        )
    meta = json.loads(meta_path.read_text())
    payload = tensor_path.read_bytes() if tensor_path.exists() else b""
    return decode(meta["probes"], payload), meta.get("experiments", {}), meta["provenance"]


def run_notebook_as_script(path: Path, device: str, timeout: float = 3600) -> dict:
    """Run every code cell of a notebook in one plain Python process; return what it recorded.

    No Jupyter kernel is needed, so references can be built on machines that only
    have torch and the course's libraries (a rented GPU)."""
    source = notebook.read(path)
    prelude = (
        "import torch\n"
        "torch.backends.cuda.matmul.allow_tf32 = False  # full float32, as on the CPU\n"
        "torch.backends.cudnn.allow_tf32 = False\n"
    )
    code = "\n\n".join(notebook.code_without_magics(c.source) for c in source.cells if c.cell_type == "code")
    with tempfile.TemporaryDirectory(prefix="reference-run-") as tmp:
        script, results = Path(tmp) / "notebook.py", Path(tmp) / "results.jsonl"
        script.write_text(prelude + code)
        env = dict(
            os.environ,
            TL_RESULTS_FILE=str(results),
            TL_DEVICE=device,
            MPLBACKEND="Agg",
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            PYTHONHASHSEED=str(SEED),
        )
        done = subprocess.run(
            [sys.executable, str(script)], cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(f"the source notebook of {path.parent.name} failed as a script:\n{done.stderr[-3000:]}")
        recorded = {}
        for line in results.read_text().splitlines() if results.exists() else []:
            item = json.loads(line)
            recorded[item["name"]] = item["values"]
        return recorded


def device_name(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def code_digest(path: Path) -> str:
    """sha256 of a notebook's code cells, what references depend on; markdown is left out."""
    cells = [cell.source for cell in notebook.read(path).cells if cell.cell_type == "code"]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def build(assignment: Assignment, device: str, *, experiments: bool = True) -> dict:
    """Build and store the references of one assignment; returns the provenance."""
    import timm
    import torch
    import transformers

    source = notebook.read(assignment.source_notebook)
    with Sandbox(isolation="none", trusted=True, device=device) as sandbox:
        run = run_probes(
            sandbox,
            setup=assignment.setup,
            cells=assignment.graded_cells(source, require_all=True),
            probes=assignment.probes,
        )
    broken = {name: r.error for name, r in run.probes.items() if r.status != StepStatus.OK}
    if broken or run.cell_errors:
        raise RuntimeError(f"the solution of {assignment.id} fails its own probes: {broken or run.cell_errors}")
    if experiments:
        recorded, experiments_device = run_notebook_as_script(assignment.source_notebook, device), device_name(device)
    else:  # keep the stored experiment results, and say where they came from
        _, recorded, previous = load(assignment.id)
        experiments_device = previous.get("experiments_device", previous["device"])
    provenance = {
        "device": device_name(device),
        "device_type": device.split(":")[0],
        "experiments_device": experiments_device,
        "torch": torch.__version__,
        "timm": timm.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "seed": SEED,
        "code_sha256": code_digest(assignment.source_notebook),
        "built": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    data, payload = encode({name: r.value for name, r in run.probes.items()})
    meta_path, tensor_path = _paths(assignment.id)
    write_atomically(tensor_path, payload)
    write_atomically(
        meta_path, json.dumps({"provenance": provenance, "probes": data, "experiments": recorded}, indent=1)
    )
    load.cache_clear()
    return provenance
