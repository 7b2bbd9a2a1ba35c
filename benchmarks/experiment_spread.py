"""How far correct runs of m2_vision's experiment land from the reference: seeds x valid augmentations.

The experiment check's tolerance comes from this spread, not from one run. Runs the source notebook as a
script (as references are built; the notebook itself runs seeds 0, 1 and 2) with three correct
build_transforms: the solution's and the two variants of the fairness corpus (tests/fairness.py).
Usage: python experiment_spread.py
"""

import sys
import tempfile
from pathlib import Path
from statistics import mean

import nbformat
from common import ROOT

sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from fairness import ALTERNATIVES  # noqa: E402

from grader import references  # noqa: E402
from grader.examples import cell_of  # noqa: E402

STRATEGIES = ("feature_extraction", "fine_tuning", "scratch")


def run(transforms: str | None) -> dict:
    notebook = nbformat.read(ROOT / "source" / "m2_vision" / "m2_vision.ipynb", as_version=4)
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
    print("| seed | transforms | " + " | ".join(STRATEGIES) + " |")
    for name, source in variants.items():
        got = run(source)
        for seed, row in enumerate(zip(*(got[s]["accuracy"] for s in STRATEGIES))):
            print(f"| {seed} | {name} | " + " | ".join(f"{a:.3f}" for a in row) + " |", flush=True)
        print(f"| | {name}, mean | " + " | ".join(f"{mean(got[s]['accuracy']):.3f}" for s in STRATEGIES) + " |")
    print("| | reference, mean | " + " | ".join(f"{mean(want[s]['accuracy']):.3f}" for s in STRATEGIES) + " |")


if __name__ == "__main__":
    main()
