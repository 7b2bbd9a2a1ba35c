"""Recording experiment results so that the grader can read them back.

`record` shows a readable summary and also attaches the values to the cell's
output under a dedicated MIME type; the grader reads that output from the saved
notebook (or from a fresh run with `--execute`) and compares it with reference
results. Outside a notebook (as when references are built from a script) the
values go to the JSON-lines file named by TL_RESULTS_FILE."""

from __future__ import annotations

import json
import math
import os
import re

import numpy as np
import torch

MIME_TYPE = "application/vnd.transfer-course.results+json"


def jsonable(value):
    """Plain JSON data from tensors, arrays, numbers and containers of them."""
    if isinstance(value, torch.Tensor):
        return jsonable(value.detach().cpu().tolist())
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.integer, np.floating)):
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"cannot record a {type(value).__name__}; record numbers, strings, tensors or lists of them")


def _rounded(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def readable(values) -> str:
    """Recorded values as indented JSON for people: numbers to 4 decimals, a list without lists or
    dicts in it on one line (one number per line made three seeds of a result fill a screen)."""
    text = json.dumps(_rounded(values), indent=1, ensure_ascii=False)
    return re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)


def record(name: str, values: dict) -> dict:
    """Record one experiment's results under `name` and return them as plain data."""
    payload = {"name": name, "values": jsonable(values)}
    path = os.environ.get("TL_RESULTS_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(payload) + "\n")
    summary = f"recorded {name!r} (the grader reads the full values):\n" + readable(payload["values"])
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({MIME_TYPE: payload, "text/plain": summary}, raw=True)
    else:
        print(summary)
    return payload["values"]
