"""m3_evaluation probes: the measuring instruments on inputs the grader chose; plain data back."""

import copy

import numpy as np
import torch
from probing import ProbeFailure, expect, probe, reinitialise
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def number(value, function):
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        raise ProbeFailure(f"{function} should return a Python float, not a tensor (use .item())")
    return float(expect(value, (float, int, np.floating), f"what {function} returns"))


# --- sample_per_class ------------------------------------------------------------------------
def indices(value):
    value = expect(value, torch.Tensor, "what sample_per_class returns (a LongTensor of indices)")
    return value.detach().clone()


@probe("sample_per_class", "small_classes")
def _(student, device):
    labels = torch.tensor([2] * 10 + [0] * 3 + [1] * 7 + [2] * 4)
    return {"labels": labels, "picked": indices(student.sample_per_class(labels, 5, 7))}


@probe("sample_per_class", "seeds")
def _(student, device):
    # eight of each of ten classes, shuffled: drawing five with replacement repeats an index almost surely
    labels = torch.from_numpy(np.random.default_rng(0).permutation(np.arange(80) % 10))
    runs = {}
    for name, seed, global_seed in (("a", 3, 0), ("b", 3, 99), ("c", 4, 0)):
        torch.manual_seed(global_seed)  # the student's choice must depend on `seed` alone
        runs[name] = indices(student.sample_per_class(labels, 5, seed))
    runs["numpy_labels"] = indices(student.sample_per_class(labels.numpy(), 5, 3))
    return runs


# --- negative_transfer_gap, backward_transfer, forgetting --------------------------------------
@probe("negative_transfer_gap", "lists")
def _(student, device):
    return [
        number(student.negative_transfer_gap([0.31, 0.29, 0.40], [0.20, 0.25]), "negative_transfer_gap"),
        number(student.negative_transfer_gap([0.1, 0.1], [0.3, 0.2, 0.25]), "negative_transfer_gap"),
    ]


@probe("negative_transfer_gap", "tensors")
def _(student, device):
    transfer, scratch = torch.tensor([0.12, 0.18, 0.09, 0.2]), torch.tensor([0.15, 0.11, 0.13])
    return number(student.negative_transfer_gap(transfer, scratch), "negative_transfer_gap")


R3 = [[0.91, 0.12, 0.08], [0.72, 0.88, 0.10], [0.55, 0.61, 0.93]]


@probe("backward_transfer", "three_tasks")
def _(student, device):
    return number(student.backward_transfer(R3), "backward_transfer")


@probe("backward_transfer", "four_tasks_tensor")
def _(student, device):
    R = torch.tensor([[0.9, 0.1, 0.1, 0.1], [0.8, 0.7, 0.1, 0.1], [0.85, 0.6, 0.8, 0.2], [0.95, 0.5, 0.7, 0.6]])
    return number(student.backward_transfer(R), "backward_transfer")


@probe("forgetting", "drops")
def _(student, device):
    return [
        number(student.forgetting(0.85, 0.30), "forgetting"),
        number(student.forgetting(0.5, 0.6), "forgetting"),
        number(student.forgetting(0.7, 0.7), "forgetting"),
    ]


# --- logme ----------------------------------------------------------------------------------------
def features(n, d, classes, signal, seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % classes
    centres = torch.randn(classes, d, generator=g, dtype=torch.float64)
    return signal * centres[labels] + torch.randn(n, d, generator=g, dtype=torch.float64), labels


@probe("logme", "n_above_d")
def _(student, device):
    return number(student.logme(*features(200, 20, 2, 1.0, 0)), "logme")


@probe("logme", "n_below_d")
def _(student, device):
    return number(student.logme(*features(40, 100, 2, 0.5, 1)), "logme")


@probe("logme", "four_classes")
def _(student, device):
    return number(student.logme(*features(120, 10, 4, 1.5, 2)), "logme")


@probe("logme", "informative_vs_noise")
def _(student, device):
    informative, labels = features(90, 16, 3, 3.0, 3)
    noise = torch.randn(90, 16, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    return {
        "informative": number(student.logme(informative.float().numpy(), labels.numpy()), "logme"),
        "noise": number(student.logme(noise, labels), "logme"),
    }


# --- adapt_batchnorm ------------------------------------------------------------------------------
def norm_net(dropout=0.0):
    return reinitialise(
        nn.Sequential(
            nn.Conv2d(1, 4, 3),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Conv2d(4, 6, 3),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(6, 3),
            nn.BatchNorm1d(3),
        ),
        seed=5,
    )


def shifted_loader():
    # 10 samples in batches of 4, 4, 2: a cumulative average is over batches, not samples
    g = torch.Generator().manual_seed(6)
    return DataLoader(TensorDataset(torch.randn(10, 1, 9, 9, generator=g) * 2 + 3, torch.zeros(10)), batch_size=4)


def population_statistics(model, device):
    """The other defensible reading of AdaBN: each BatchNorm layer's statistics over all target samples at
    once (the paper's population statistics). Only the reference run's copy of this is used by the checks."""
    model = copy.deepcopy(model).to(device).eval()
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
        norm.train()
    everything = torch.cat([x for x, _ in shifted_loader()])
    with torch.no_grad():
        model(everything.to(device))
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items() if "running" in k}


def adapted(student, model, device):
    population = population_statistics(model, device)
    returned = student.adapt_batchnorm(model.to(device), shifted_loader(), device)
    returned = expect(returned, nn.Module, "what adapt_batchnorm returns (the model)")
    state = {k: v.detach().cpu().clone() for k, v in nn.Module.state_dict(returned).items()}
    return {
        "stats": {k: v for k, v in state.items() if "running" in k},
        "population_stats": population,
        "weights": {k: v for k, v in state.items() if "running" not in k and "num_batches" not in k},
        "grads": sorted(n for n, p in nn.Module.named_parameters(returned) if p.grad is not None),
        "training": [n for n, m in nn.Module.named_modules(returned) if m.training],
        "momenta": [m.momentum for m in nn.Module.modules(returned) if isinstance(m, nn.modules.batchnorm._BatchNorm)],
    }


@probe("adapt_batchnorm", "statistics")
def _(student, device):
    model = norm_net()
    model.train()
    for x, _ in shifted_loader():  # statistics of some other data, to be replaced
        model(x * 0.1 - 1)
    return adapted(student, model.eval(), device)


@probe("adapt_batchnorm", "dropout_and_mode")
def _(student, device):
    model = norm_net(dropout=0.5)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.momentum = 0.3
    return adapted(student, model.train(), device)


# --- l2sp_penalty ---------------------------------------------------------------------------------
class Transferred(nn.Module):
    """A shared body, a head named `fc`, a layer `fc2` that is not the head, BatchNorm buffers, a new layer."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5))
        self.fc2 = nn.Linear(5, 5)
        self.fc = nn.Linear(5, 2)
        self.adapter = nn.Linear(2, 2)  # not in the source state: neither shared nor head


def l2sp_case(student, alpha, beta):
    model = reinitialise(Transferred(), seed=11)
    source = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith("adapter")}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
        model.body[1].running_mean.add_(5.0)  # buffers moved far: they are not parameters
    penalty = student.l2sp_penalty(model, source, alpha, beta, ["fc"])
    penalty = expect(penalty, torch.Tensor, "what l2sp_penalty returns (a scalar tensor)")
    if penalty.numel() != 1:
        raise ProbeFailure(f"l2sp_penalty should return a scalar, got shape {list(penalty.shape)}")
    grads = {}
    if penalty.requires_grad:
        penalty.backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return {"value": penalty.detach().reshape(()), "grads": grads}


@probe("l2sp_penalty", "value_and_gradient")
def _(student, device):
    return l2sp_case(student, alpha=0.3, beta=0.7)


@probe("l2sp_penalty", "only_alpha")
def _(student, device):
    return l2sp_case(student, alpha=2.0, beta=0.0)
