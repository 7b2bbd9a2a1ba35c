"""The only grader code that runs beside student code, inside the sandbox.

It executes the trusted setup cell, then each graded cell, then the probes, and
reports each step over the results pipe before and after it happens, so that the
grader can tell which cell or probe hung, crashed or ended the process.

The probes arrive as source text in the job and are compiled in memory: no file
of them exists for student code to read, and the text is dropped once compiled.
What the worker uses to send results (its encoder, the pipe writer, json) is
bound before any student code runs, and checked before every result is encoded
and sent: replacing any of it is reported as tampering.
Job (JSON on stdin): setup, cells [{grade_id, source}], probes_source, probes,
skip_cells, device, library, fd.
"""

from __future__ import annotations

import json
import os
import random
import sys
import traceback
import types

import probing
import protocol

MAX_MESSAGE = 2000
PROBES_FILENAME = "<hidden probes>"


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


def library_functions() -> dict[str, tuple]:
    """Functions of libraries that probes rely on; student code must not replace them.

    Only libraries the setup cell and probes already loaded are watched: a library
    first imported by student code is not used by any probe."""
    import builtins

    watched = {f"builtins.{name}": (builtins, name) for name in ("isinstance", "len", "sum", "type", "getattr")}
    if "numpy" in sys.modules:
        numpy = sys.modules["numpy"]
        watched.update({"numpy.allclose": (numpy, "allclose"), "numpy.array_equal": (numpy, "array_equal")})
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        for label, owner, names in (
            ("torch", torch, ("allclose", "equal", "isclose")),
            ("torch.nn", torch.nn, ("Parameter",)),
            ("torch.Tensor", torch.Tensor, ("__eq__", "requires_grad", "numel", "detach", "clone", "contiguous", "to")),
            ("torch.nn.Module", torch.nn.Module, ("parameters", "named_parameters", "named_modules", "__call__")),
            ("torch.nn.Linear", torch.nn.Linear, ("forward",)),
            ("torch.optim", torch.optim, ("AdamW",)),
        ):
            watched.update({f"{label}.{name}": (owner, name) for name in names})
    return watched


def machinery(registry: dict) -> dict[str, tuple]:
    """What the worker itself uses to run probes and send results."""
    watched = {
        "worker.send": (sys.modules[__name__], "_send"),
        "protocol.send": (protocol, "send"),
        "protocol.HEADER": (protocol, "HEADER"),
        "probing.encode": (probing, "encode"),
        "probing.Student": (probing, "Student"),
        "probing.REGISTRY": (probing, "REGISTRY"),
        "json.dumps": (json, "dumps"),
        "json.encoder.JSONEncoder": (json.encoder, "JSONEncoder"),
        "os.write": (os, "write"),
    }
    if "safetensors.torch" in sys.modules:
        watched["safetensors.torch.save"] = (sys.modules["safetensors.torch"], "save")
    watched.update({f"probe {name}": (item, "run") for name, item in registry.items()})
    return {f"grader: {k}": v for k, v in watched.items()}


def _state(value):
    """An object's identity and, for a function, the identity of its code and defaults (which can be swapped)."""
    return (id(value), id(getattr(value, "__code__", None)), id(getattr(value, "__defaults__", None)))


class Integrity:
    """Identities taken before student code runs; `changed()` lists and restores what was replaced."""

    def __init__(self, watched: dict[str, tuple]):
        self.originals = {}
        for name, (owner, attribute) in watched.items():
            value = _read(owner, attribute)
            self.originals[name] = (
                owner,
                attribute,
                value,
                _state(value),
                getattr(value, "__code__", None),
                getattr(value, "__defaults__", None),
            )

    def changed(self) -> list[str]:
        found = []
        for name, (owner, attribute, value, state, code, defaults) in self.originals.items():
            now = _read(owner, attribute)
            if now is value and _state(now) == state:
                continue
            found.append(name)
            try:  # restore, so that one patch does not poison the other probes
                setattr(owner, attribute, value)
                if code is not None:
                    value.__code__, value.__defaults__ = code, defaults
            except (AttributeError, TypeError):
                pass
        return found


def _read(owner, attribute):
    return owner.__dict__.get(attribute, getattr(owner, attribute, None))


def load_probes(source: str):
    """The probes module, compiled from text that never touches the disk, without its docstrings
    (optimize=2): student code can reach the probes' objects, and a docstring would tell it the tests."""
    module = types.ModuleType("probes")
    exec(compile(source, PROBES_FILENAME, "exec", optimize=2), module.__dict__)
    return module


_send = None  # bound in main, before student code runs


def load_cells(cells: dict[str, str], job: dict, namespace: dict, integrity: Integrity) -> dict[str, str]:
    """Run each graded cell; returns cell -> the error that kept it from defining its function."""
    send = _send
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
        send({"event": "cell_done", "cell": grade_id, "error": error, "patched": integrity.changed()})
    return cell_errors


def run_probe(name: str, item, student, cells: dict[str, str], device: str, integrity: Integrity, encode) -> None:
    send = _send
    send({"event": "probe_start", "probe": name})
    seed()
    message, payload = {"event": "probe_done", "probe": name}, b""
    try:
        value = item.run(student, device)
        patched = integrity.changed()  # before encoding: a replaced encoder must not encode the result
        data, payload = encode(value)
        message.update(status="ok", value=data)
    except probing.ProbeFailure as exc:
        patched = integrity.changed()
        message.update(status="failed", error={"type": "ProbeFailure", "message": str(exc)[:MAX_MESSAGE], "frames": []})
    except probing.MissingFunction as exc:
        patched = integrity.changed()
        message.update(
            status="missing", error={"type": "MissingFunction", "message": str(exc)[:MAX_MESSAGE], "frames": []}
        )
    except BaseException as exc:
        patched = integrity.changed()
        message.update(status="error", error=describe(exc, cells))
    message["patched"] = patched + integrity.changed()
    send(message, payload)


def main() -> None:
    global _send
    job = json.loads(sys.stdin.read())
    sys.stdin = open(os.devnull)
    sys.path.insert(1, job["library"])  # the course helper package, mounted read-only
    fd, owner, write_message = job["fd"], os.getpid(), protocol.send

    def send(message, payload=b""):
        if os.getpid() != owner:  # a process the student's code forked does not speak for the worker
            os._exit(0)
        write_message(fd, message, payload)

    _send = send
    if job["device"].startswith("cuda"):
        import torch

        # TF32 would shift GPU references by about 1e-3: keep full float32 so tolerances stay tight
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    cells = {cell["grade_id"]: cell["source"] for cell in job["cells"]}
    namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
    exec(compile(job["setup"], "<setup>", "exec"), namespace)
    load_probes(job.pop("probes_source"))
    if "torch" in sys.modules:
        import safetensors.torch  # noqa: F401 (bound now, used by the encoder later)
    registry, encode = dict(probing.REGISTRY), probing.encode
    send({"event": "ready", "probes": list(registry)})
    integrity = Integrity({**library_functions(), **machinery(registry)})

    student = probing.Student(namespace, load_cells(cells, job, namespace, integrity))
    for name in job["probes"] if job["probes"] is not None else registry:
        run_probe(name, registry[name], student, cells, job["device"], integrity, encode)
    send({"event": "finished"})
    os._exit(0)  # everything is sent; tearing down torch and the student's objects only costs time


if __name__ == "__main__":
    main()
