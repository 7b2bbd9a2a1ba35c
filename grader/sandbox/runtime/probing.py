"""What probes are made of: registration, the student's namespace, and safe encoding.

A probe runs inside the sandbox: it calls one graded function on inputs the
grader chose and returns plain data (numbers, strings, lists, dicts, tensors).
Checks compare that data with the reference in the grader's own process.
This file is copied into the sandbox, so it imports nothing from the grader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Probe:
    function: str  # grade_id of the graded function it exercises
    case: str
    run: Callable

    @property
    def name(self) -> str:
        return f"{self.function}.{self.case}"


REGISTRY: dict[str, Probe] = {}


def probe(function: str, case: str):
    """Register `run(student, device) -> data` as the probe `function.case`."""

    def register(run):
        item = Probe(function, case, run)
        if item.name in REGISTRY:
            raise ValueError(f"probe {item.name} registered twice")
        REGISTRY[item.name] = item
        return run

    return register


class ProbeFailure(Exception):
    """The student's code returned something unusable; the message is the feedback."""


class MissingFunction(Exception):
    pass


class Student:
    """The namespace the graded cells defined, read by attribute: `student.freeze_backbone`."""

    def __init__(self, namespace: dict, cell_errors: dict[str, str]):
        self._namespace = namespace
        self._cell_errors = cell_errors

    def __getattr__(self, name: str):
        if name in self._namespace:
            return self._namespace[name]
        if self._cell_errors.get(name, "").startswith("NotImplementedError"):
            raise MissingFunction(
                f"`{name}` is not implemented yet: replace `raise NotImplementedError()` in its cell with your code"
            )
        if name in self._cell_errors:
            raise MissingFunction(f"`{name}` is not defined because its cell failed: {self._cell_errors[name]}")
        raise MissingFunction(f"`{name}` is not defined: keep its cell (grade id {name!r}) and define it there")


def expect(value, types, what: str):
    """`value` if it is an instance of `types` (checked on its real class), else a ProbeFailure."""
    if not isinstance(value, types) or not issubclass(type(value), types):
        names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise ProbeFailure(f"{what} should be a {names}, got {type(value).__name__}")
    return value


def encode(value) -> tuple[object, bytes]:
    """Plain JSON data with tensors replaced by references, and the tensors as safetensors bytes."""
    import sys

    torch = sys.modules.get("torch")  # if nothing imported torch, no value can be a tensor
    tensors = {}

    def walk(v):
        if torch is not None and isinstance(v, torch.Tensor):
            key = f"t{len(tensors)}"
            tensors[key] = v.detach().to("cpu").clone().contiguous()
            return {"__tensor__": key}
        if isinstance(v, dict):
            return {str(k): walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x) for x in v]
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int):
            return int(v)
        if isinstance(v, float):
            return float(v)
        if isinstance(v, str):
            return str(v)
        raise TypeError(f"a probe returned a {type(v).__name__}, which cannot cross the sandbox")

    data = walk(value)
    if not tensors:
        return data, b""
    from safetensors.torch import save

    return data, save(tensors)


def decode(data, payload: bytes):
    """The inverse of `encode`, run by the grader on what came out of the sandbox."""
    tensors = {}
    if payload:
        from safetensors.torch import load  # imports torch: only when there are tensors

        tensors = load(payload)

    def walk(v):
        if isinstance(v, dict):
            if set(v) == {"__tensor__"}:
                return tensors[v["__tensor__"]]
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(data)


def reinitialise(model, seed: int = 0, scale: float = 0.2):
    """Overwrite every parameter with seeded uniform noise, independent of the library's own init.

    References are built on another machine, maybe with another version of timm,
    torchvision or transformers; a probe whose numbers depend on weight values
    calls this so that those numbers depend on the seed alone."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_((torch.rand(parameter.shape, generator=generator, dtype=torch.float64) * 2 - 1) * scale)
    return model
