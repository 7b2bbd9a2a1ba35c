"""Driving training runs: epochs, progress bars, timing and a history to plot.

The per-batch work is the student's own `train_one_epoch` and `evaluate`, passed
in as functions: this module only orchestrates them."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm


@dataclass
class History:
    """What happened in each epoch of one run (accuracy only where it was measured)."""
    name: str
    epochs: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    eval_epochs: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final_accuracy(self) -> float:
        return self.accuracy[-1] if self.accuracy else float("nan")


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch's global generator and return a generator for DataLoader shuffling.

    With both fixed, a run on the CPU repeats exactly; on a GPU some kernels
    (convolution backward passes) stay nondeterministic."""
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def fit(model, train_loader, optimizer, *, epochs: int, train_one_epoch, evaluate, eval_loader,
        device, num_classes: int, eval_every: int = 5, name: str = "run") -> History:
    """Train for `epochs` with the given epoch function, evaluating every `eval_every` epochs and at the end."""
    history = History(name)
    start = time.perf_counter()
    bar = tqdm(range(1, epochs + 1), desc=name, unit="epoch")
    for epoch in bar:
        loss = train_one_epoch(model, train_loader, optimizer, device)
        history.epochs.append(epoch)
        history.loss.append(float(loss))
        if epoch % eval_every == 0 or epoch == epochs:
            accuracy = evaluate(model, eval_loader, device, num_classes)["accuracy"]
            history.eval_epochs.append(epoch)
            history.accuracy.append(float(accuracy))
        bar.set_postfix(loss=f"{loss:.3f}", accuracy=f"{history.final_accuracy:.3f}")
    history.seconds = time.perf_counter() - start
    return history
