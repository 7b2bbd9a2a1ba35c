"""How far correct runs of m2_vision's experiment land from the reference: seeds x valid augmentations.

The experiment check's tolerance comes from this spread, not from one run. Runs the source notebook as a
script (as references are built) with SEED = 0, 1, 2 and three correct build_transforms: the solution's
and the two variants of the fairness corpus (tests/fairness.py). Usage: python experiment_spread.py
"""

import re
import sys
import tempfile
from pathlib import Path

import nbformat
from common import ROOT

sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from fairness import ALTERNATIVES  # noqa: E402

from grader import references  # noqa: E402
from grader.examples import cell_of  # noqa: E402

STRATEGIES = ("feature_extraction", "fine_tuning", "scratch")


def run(seed: int, transforms: str | None) -> dict:
    notebook = nbformat.read(ROOT / "source" / "m2_vision" / "m2_vision.ipynb", as_version=4)
    settings = cell_of(notebook, "experiment_settings")
    settings.source = re.sub(r"= 64, 10, 50, 15, 0", f"= 64, 10, 50, 15, {seed}", settings.source)
    if transforms is not None:
        cell_of(notebook, "build_transforms").source = transforms
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m2_vision" / "m2_vision.ipynb"
        path.parent.mkdir()
        nbformat.write(notebook, path)
        return references.run_notebook_as_script(path, "cpu")["strategies"]


def main() -> None:
    want = references.load("m2_vision")[1]["strategies"]
    variants = {"solution": None, **{f"variant {v}": ALTERNATIVES["m2_vision"][v]["build_transforms"] for v in "AB"}}
    print("seed  transforms    " + "  ".join(f"{s:>18}" for s in STRATEGIES))
    worst = dict.fromkeys(STRATEGIES, 0.0)
    for seed in (0, 1, 2):
        for name, source in variants.items():
            got = run(seed, source)
            row = [got[s]["accuracy"] for s in STRATEGIES]
            for s in STRATEGIES:
                worst[s] = max(worst[s], abs(got[s]["accuracy"] - want[s]["accuracy"]))
            print(f"{seed:>4}  {name:<12}  " + "  ".join(f"{a:>18.3f}" for a in row), flush=True)
    print("reference     " + "  ".join(f"{want[s]['accuracy']:>18.3f}" for s in STRATEGIES))
    print("largest distance from the reference: " + ", ".join(f"{s} {w:.3f}" for s, w in worst.items()))


if __name__ == "__main__":
    main()
