"""Driving training runs: epochs, progress bars, timing and a history to plot.

The per-batch work is the student's own `train_one_epoch`, passed in as a
function: this module only orchestrates it."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import torch
from tqdm.std import tqdm as _text_tqdm


def tqdm(*args, **kwargs):
    """The progress bar every loop of the course uses: text on standard output, not a Jupyter widget.

    A widget saved in a notebook shows its first state (`0/80`) in every static view: GitHub,
    nbgrader's feedback page, the grader's copy. Text bars end on their final line (JupyterLab and
    nbconvert both apply the carriage returns), and standard output keeps them out of the red
    colour Jupyter gives standard error."""
    kwargs.setdefault("file", sys.stdout)
    kwargs.setdefault("dynamic_ncols", True)
    return _text_tqdm(*args, **kwargs)


progress = tqdm


@dataclass
class History:
    """The training loss of each epoch of one run, and how long the run took."""

    name: str
    epochs: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    seconds: float = 0.0


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch's global generator and return a generator for DataLoader shuffling.

    With both fixed, a run on the CPU repeats exactly; on a GPU some kernels
    (convolution backward passes) stay nondeterministic."""
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def fit(model, train_loader, optimizer, *, epochs: int, train_one_epoch, device, name: str = "run") -> History:
    """Train for `epochs` with the given epoch function. Evaluation is left to the caller: once, at the end,
    is all an experiment that compares final accuracies needs, and each evaluation costs as much as one to five
    training epochs of the course's few-shot runs."""
    history = History(name)
    start = time.perf_counter()
    bar = tqdm(range(1, epochs + 1), desc=name, unit="epoch")
    for epoch in bar:
        loss = train_one_epoch(model, train_loader, optimizer, device)
        history.epochs.append(epoch)
        history.loss.append(float(loss))
        bar.set_postfix(loss=f"{loss:.3f}")
    history.seconds = time.perf_counter() - start
    return history


def train_steps(
    model,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    steps: int,
    lr: float | dict,
    batch_size: int = 32,
    seed: int = 0,
    penalty=None,
    frozen_batchnorm: bool = False,
    desc: str = "training",
) -> list[float]:
    """Train on in-memory tensors for a fixed number of steps: AdamW, one-cycle schedule, cross-entropy.

    `lr` is one learning rate, or a dict {parameter-name prefix: lr} for
    discriminative rates (prefixes not named use the "" entry). `penalty(model)`
    is added to the loss (e.g. L2-SP). With `frozen_batchnorm`, BatchNorm layers
    keep their statistics. Returns the loss of every step."""
    rates = lr if isinstance(lr, dict) else {"": lr}
    groups: dict[str, list] = {prefix: [] for prefix in rates}
    for name, p in model.named_parameters():
        if p.requires_grad:
            prefix = max((k for k in rates if name.startswith(k)), key=len)
            groups[prefix].append(p)
    # fused: one kernel for all of AdamW's updates instead of several per tensor; an eighth of a step on a CPU
    optimizer = torch.optim.AdamW(
        [{"params": ps, "lr": rates[k]} for k, ps in groups.items() if ps], weight_decay=0.0, fused=True
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=[g["lr"] for g in optimizer.param_groups], total_steps=steps
    )
    generator = torch.Generator().manual_seed(seed)
    order: list[torch.Tensor] = []
    losses = []
    model.train()
    if frozen_batchnorm:
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.eval()
    for _ in tqdm(range(steps), desc=desc, leave=False):
        if not order:
            order = list(torch.randperm(len(inputs), generator=generator).split(batch_size))
            if len(order) > 1 and len(order[-1]) < 2:  # BatchNorm cannot train on a batch of one
                order[-2:] = [torch.cat(order[-2:])]
        batch = order.pop(0)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs[batch]), targets[batch])
        if penalty is not None:
            loss = loss + penalty(model)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def accuracy(model, inputs: torch.Tensor, targets: torch.Tensor, batch_size: int = 500) -> float:
    """Fraction of correct arg-max predictions, in eval mode."""
    model.eval()
    predictions = torch.cat([model(inputs[i : i + batch_size]).argmax(1) for i in range(0, len(inputs), batch_size)])
    return predictions.eq(targets).float().mean().item()


class SavedActivations:
    """The bytes autograd saves for the backward pass, at most, over the forward passes run inside `with`.

    Counted from the saved tensors themselves (each storage once, the model's parameters left out: they are
    weights), so the figure is the same whatever ran before in the process, on any device."""

    def __init__(self, model: torch.nn.Module):
        self._parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
        self.peak_bytes = 0

    def __enter__(self):
        saved: dict[int, int] = {}

        def pack(tensor):
            storage = tensor.untyped_storage()
            if storage.data_ptr() not in self._parameters:
                saved[storage.data_ptr()] = storage.nbytes()
            return tensor

        self._saved = saved
        self._hooks = torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc):
        self._hooks.__exit__(*exc)
        self.peak_bytes = max(self.peak_bytes, sum(self._saved.values()))


def training_memory(model: torch.nn.Module, optimizer: torch.optim.Optimizer, activations: SavedActivations) -> dict:
    """MB a training step holds, by kind: weights, their gradients (trainable ones only), the optimizer's state
    (AdamW keeps two numbers per trained weight) and the activations saved for backward."""
    mb = 2**-20
    state = [t for per_parameter in optimizer.state.values() for t in per_parameter.values() if torch.is_tensor(t)]
    return {
        "weights": mb * sum(p.nbytes for p in model.parameters()),
        "gradients": mb * sum(p.nbytes for p in model.parameters() if p.requires_grad),
        "optimizer state": mb * sum(t.nbytes for t in state),
        "activations": mb * activations.peak_bytes,
    }
