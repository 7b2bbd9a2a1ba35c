"""The learning rate m2_vision's scratch baseline trains with: the best of a few, chosen on validation digits.

A baseline trained with a rate tuned for another strategy is a strawman. This runs the source notebook's own
`run_strategy` for scratch at each rate and seed, but scores it on validation digits: as many per class as the
test set, drawn from the images neither the labelled sample nor the test set uses, so the test digits play no
part in the choice. Usage: python scratch_learning_rate.py [--rates R ...]
"""

import argparse
import statistics
import sys
import types

import nbformat
import numpy as np
from common import ROOT

sys.path.insert(0, str(ROOT))
from transfer_course import data  # noqa: E402

RATES = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)


def validation_split(labels, per_class: int, test_per_class: int, seed: int):
    """The labelled sample `few_shot_split` draws for `seed`, and validation digits outside it and its test set."""
    labels = np.asarray(labels)
    train, test = data.few_shot_split(labels, per_class, test_per_class, seed)
    rest = np.setdiff1d(np.arange(len(labels)), np.concatenate([train, test]))
    _, validation = data.few_shot_split(labels[rest], 0, test_per_class, seed)
    return train, rest[validation]


def notebook_namespace() -> dict:
    """The source notebook's code up to `run_strategy`, run here, with the validation digits in place of the test."""
    notebook = nbformat.read(ROOT / "source" / "m2_vision" / "m2_vision.ipynb", as_version=4)
    namespace = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            exec(cell.source, namespace)  # the instructor's own notebook
            if cell.source.startswith("def run_strategy"):
                break
    namespace["data"] = types.SimpleNamespace(**{**vars(data), "few_shot_split": validation_split})
    return namespace


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--rates", type=float, nargs="+", default=RATES)
    args = arguments.parse_args()
    notebook = notebook_namespace()
    print(
        f"scratch, {notebook['EPOCHS']} epochs, seeds {notebook['SEEDS']}; validation accuracy and last training loss"
    )
    for rate in args.rates:
        notebook["LEARNING_RATES"]["scratch"] = (rate, rate)
        accuracy, loss = [], []
        for seed in notebook["SEEDS"]:
            _, history, final, _ = notebook["run_strategy"]("scratch", seed)
            accuracy.append(final["accuracy"])
            loss.append(history.loss[-1])
        print(
            f"| {rate:g} | {' / '.join(f'{a:.3f}' for a in accuracy)} | {statistics.mean(accuracy):.3f} "
            f"± {statistics.stdev(accuracy):.3f} | {statistics.mean(loss):.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
