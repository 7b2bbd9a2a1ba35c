"""The only grader code that runs beside student code, inside the sandbox.

It executes the trusted setup cell, then each graded cell, then the probes, and
reports each step over the results pipe before and after it happens, so that the
grader can tell which cell or probe hung, crashed or ended the process.
Job (JSON on stdin): setup, cells [{grade_id, source}], probes_file, probes,
skip_cells, device, fd.
"""
from __future__ import annotations

import importlib.util
import json
import os
import random
import sys
import traceback

import protocol
import probing

MAX_MESSAGE = 2000


def describe(error: BaseException, cells: dict[str, str]) -> dict:
    """The exception, and the lines of the student's cells it passed through."""
    frames = []
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith("<cell "):
            grade_id = frame.filename[6:-1]
            lines = cells.get(grade_id, "").splitlines()
            text = lines[frame.lineno - 1].strip() if frame.lineno and frame.lineno <= len(lines) else ""
            frames.append({"cell": grade_id, "line": frame.lineno, "text": text[:200]})
    try:
        message = str(error)
    except BaseException:  # a hostile __str__ must not take the worker down
        message = "<unprintable>"
    return {"type": type(error).__name__, "message": message[:MAX_MESSAGE], "frames": frames[-5:]}


def seed(value: int = 0) -> None:
    random.seed(value)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(value)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(value)


def integrity_snapshot() -> dict[str, object]:
    """Identities of the functions that probes rely on; student code must not replace them.

    Only libraries the setup cell and probes already loaded are watched: a library
    first imported by student code is not used by any probe."""
    import builtins

    watched = {"builtins.isinstance": (builtins, "isinstance"), "builtins.len": (builtins, "len"),
               "builtins.sum": (builtins, "sum"), "builtins.type": (builtins, "type"),
               "builtins.getattr": (builtins, "getattr")}
    if "numpy" in sys.modules:
        numpy = sys.modules["numpy"]
        watched.update({"numpy.allclose": (numpy, "allclose"), "numpy.array_equal": (numpy, "array_equal")})
    if "torch" not in sys.modules:
        return _identities(watched)
    torch = sys.modules["torch"]
    watched.update({
        "torch.allclose": (torch, "allclose"), "torch.equal": (torch, "equal"), "torch.isclose": (torch, "isclose"),
        "torch.Tensor.__eq__": (torch.Tensor, "__eq__"), "torch.Tensor.requires_grad": (torch.Tensor, "requires_grad"),
        "torch.nn.Module.parameters": (torch.nn.Module, "parameters"),
        "torch.nn.Module.named_parameters": (torch.nn.Module, "named_parameters"),
        "torch.nn.Module.__call__": (torch.nn.Module, "__call__"),
        "torch.nn.Parameter": (torch.nn, "Parameter"), "torch.nn.Linear.forward": (torch.nn.Linear, "forward"),
        "torch.optim.AdamW": (torch.optim, "AdamW"), "torch.Tensor.numel": (torch.Tensor, "numel"),
        "torch.Tensor.detach": (torch.Tensor, "detach"), "torch.Tensor.clone": (torch.Tensor, "clone"),
    })
    return _identities(watched)


def _identities(watched: dict) -> dict:
    return {name: (owner, attribute, owner.__dict__.get(attribute, getattr(owner, attribute, None)))
            for name, (owner, attribute) in watched.items()}


def patched(snapshot: dict) -> list[str]:
    changed = []
    for name, (owner, attribute, original) in snapshot.items():
        now = owner.__dict__.get(attribute, getattr(owner, attribute, None))
        if now is not original:
            changed.append(name)
            try:  # restore, so that one patch does not poison the other probes
                setattr(owner, attribute, original)
            except (AttributeError, TypeError):
                pass
    return changed


def main() -> None:
    job = json.loads(sys.stdin.read())
    fd = job["fd"]
    sys.stdin = open(os.devnull)

    owner = os.getpid()

    def send(message, payload=b""):
        if os.getpid() != owner:  # a process the student's code forked does not speak for the worker
            os._exit(0)
        protocol.send(fd, message, payload)

    if job["device"].startswith("cuda"):
        import torch

        # TF32 would shift GPU references by about 1e-3: keep full float32 so tolerances stay tight
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    cells = {cell["grade_id"]: cell["source"] for cell in job["cells"]}
    namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
    exec(compile(job["setup"], "<setup>", "exec"), namespace)
    spec = importlib.util.spec_from_file_location("probes", job["probes_file"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    send({"event": "ready", "probes": list(probing.REGISTRY)})
    snapshot = integrity_snapshot()

    cell_errors: dict[str, str] = {}
    for grade_id, source in cells.items():
        if grade_id in job["skip_cells"]:
            cell_errors[grade_id] = job["skip_cells"][grade_id]
            continue
        send({"event": "cell_start", "cell": grade_id})
        error = None
        try:
            exec(compile(source, f"<cell {grade_id}>", "exec"), namespace)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt too: one cell, one failure
            error = describe(exc, cells)
            cell_errors[grade_id] = f"{error['type']}: {error['message']}"
        send({"event": "cell_done", "cell": grade_id, "error": error, "patched": patched(snapshot)})

    student = probing.Student(namespace, cell_errors)

    for name in job["probes"] if job["probes"] is not None else probing.REGISTRY:
        item = probing.REGISTRY[name]
        send({"event": "probe_start", "probe": name})
        seed()
        message, payload = {"event": "probe_done", "probe": name}, b""
        try:
            data, payload = probing.encode(item.run(student, job["device"]))
            message.update(status="ok", value=data)
        except probing.ProbeFailure as exc:
            message.update(status="failed", error={"type": "ProbeFailure", "message": str(exc)[:MAX_MESSAGE], "frames": []})
        except probing.MissingFunction as exc:
            message.update(status="missing", error={"type": "MissingFunction", "message": str(exc)[:MAX_MESSAGE], "frames": []})
        except BaseException as exc:
            message.update(status="error", error=describe(exc, cells))
        message["patched"] = patched(snapshot)
        send(message, payload)
    send({"event": "finished"})
    os._exit(0)  # everything is sent; tearing down torch and the student's objects only costs time


if __name__ == "__main__":
    main()
