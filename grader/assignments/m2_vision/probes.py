"""m2_vision probes: call each graded function on inputs the grader chose; return observations.

Runs inside the sandbox (imports `probing` from beside the worker). Models are
randomly initialised with fixed seeds, so no weights are needed; each probe
starts from torch.manual_seed(0). `device` is "cpu" for students and "cuda"
when references are built on a GPU.

Probes return what they saw (names, flags, tensors), never a verdict: the checks
decide. Where a flag's right value is easy to guess (a head is trainable), the
probe also returns numbers that only the real computation gives (the head's
gradient, how far each parameter moved in one step), and the check compares them.
Parameters and modules are listed through nn.Module's own methods, so a model
that overrides them on itself cannot hide what it holds.
"""

import numpy as np
import timm
import torch
import torchvision
from PIL import Image
from probing import ProbeFailure, expect, probe, reinitialise
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


# --- models: random weights, the families the contract names -----------------------------------
def resnet18():
    return torchvision.models.resnet18(num_classes=1000)


def mobilenet_v3():
    return torchvision.models.mobilenet_v3_small(num_classes=1000)


def efficientnet_b0():
    return timm.create_model("efficientnet_b0", num_classes=1000)


def lite0():
    return timm.create_model("tf_efficientnet_lite0", num_classes=1000)


def timm_vit():
    return timm.create_model("vit_tiny_patch16_224", img_size=32, patch_size=8, depth=2, num_classes=1000)


def torchvision_vit():
    return torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=1000
    )


def named_parameters(model):
    return list(nn.Module.named_parameters(model))


def trainable(model):
    return [name for name, p in named_parameters(model) if p.requires_grad]


def as_model(value, function):
    return expect(value, nn.Module, f"what {function} returns (the model)")


def images(n, size=32, seed=0):
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


# --- build_transforms ----------------------------------------------------------------------
def as_image_tensor(value, what):
    value = expect(value, torch.Tensor, what)
    return value.detach().clone()


@probe("build_transforms", "eval_constant_rgb")
def _(student, device):
    transform = student.build_transforms(False, 12, (0.1, 0.3, 0.6), (0.2, 0.5, 0.25))
    image = Image.new("RGB", (16, 16), (51, 153, 204))
    return {
        "first": as_image_tensor(transform(image), "the transformed image"),
        "second": as_image_tensor(transform(image), "the transformed image"),
    }


@probe("build_transforms", "eval_greyscale")
def _(student, device):
    pixels = np.random.default_rng(0).integers(0, 256, (28, 20), dtype=np.uint8)  # not square
    transform = student.build_transforms(False, 20, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    return {"tensor": as_image_tensor(transform(Image.fromarray(pixels)), "the transformed greyscale image")}


@probe("build_transforms", "train_random")
def _(student, device):
    pixels = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    train = student.build_transforms(True, 24, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    evaluate = student.build_transforms(False, 24, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    return {
        "train": [as_image_tensor(train(image), "the transformed training image") for _ in range(4)],
        "eval": [as_image_tensor(evaluate(image), "the transformed image") for _ in range(2)],
    }


# --- replace_head ----------------------------------------------------------------------------
def linear_layers(model):
    return [
        {
            "name": n,
            "in": m.in_features,
            "out": m.out_features,
            "requires_grad": [p.requires_grad for _, p in named_parameters(m)],
        }
        for n, m in nn.Module.named_modules(model)
        if isinstance(m, nn.Linear)
    ]


def head_facts(student, model):
    """The model's linear layers, and the new head seen at work: its input, its weights, its gradient."""
    model = as_model(student.replace_head(model, 7), "replace_head")
    heads = [m for _, m in nn.Module.named_modules(model) if isinstance(m, nn.Linear) and m.out_features == 7]
    seen = []
    if heads:
        heads[-1].register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].detach().clone()))
    model.eval()
    output = expect(model(images(2)), torch.Tensor, "the model's output")
    if output.requires_grad:
        output.sum().backward()
    head = heads[-1] if heads else None
    return {
        "linears": linear_layers(model),
        "parameters": [[name, list(p.shape)] for name, p in named_parameters(model)],
        "output": output.detach(),
        "head_input": seen[-1] if seen else None,
        "head_weight": head.weight.detach() if head is not None else None,
        "head_bias": head.bias.detach() if head is not None and head.bias is not None else None,
        "head_weight_grad": head.weight.grad if head is not None else None,
    }


@probe("replace_head", "torchvision")
def _(student, device):
    return {"resnet18": head_facts(student, resnet18()), "mobilenet_v3": head_facts(student, mobilenet_v3())}


@probe("replace_head", "timm_and_vit")
def _(student, device):
    return {
        "efficientnet_b0": head_facts(student, efficientnet_b0()),
        "timm_vit": head_facts(student, timm_vit()),
        "torchvision_vit": head_facts(student, torchvision_vit()),
    }


@probe("replace_head", "frozen_model")
def _(student, device):
    model = resnet18().requires_grad_(False)
    return head_facts(student, model)


# --- freeze_backbone ------------------------------------------------------------------------
def freezing_facts(student, model):
    """Which parameters claim to train, and how much gradient each one really receives (sum of |grad|)."""
    model = as_model(student.freeze_backbone(model), "freeze_backbone")
    model.eval()
    output = expect(model(images(2)), torch.Tensor, "the model's output")
    if output.requires_grad:
        output.pow(2).mean().backward()
    return {
        "trainable": trainable(model),
        "gradient": {
            name: p.grad.abs().sum().item() if p.grad is not None else 0.0 for name, p in named_parameters(model)
        },
    }


@probe("freeze_backbone", "torchvision")
def _(student, device):
    return {
        name: freezing_facts(student, build())
        for name, build in (("resnet18", resnet18), ("mobilenet_v3", mobilenet_v3))
    }


@probe("freeze_backbone", "timm_head_frozen_before")
def _(student, device):
    # the head frozen too: freezing must leave it trainable
    return {
        name: freezing_facts(student, build().requires_grad_(False))
        for name, build in (("timm_vit", timm_vit), ("lite0", lite0))
    }


# --- count_parameters ------------------------------------------------------------------------
class TiedLanguageModel(nn.Module):
    """An embedding whose weight is also the output layer's (weight tying), plus BatchNorm buffers."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.norm = nn.BatchNorm1d(16)
        self.decoder = nn.Linear(16, 100)
        self.decoder.weight = self.embed.weight

    def forward(self, tokens):
        return self.decoder(self.norm(self.embed(tokens)))


def counts(value):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ProbeFailure(f"count_parameters should return a pair (trainable, total), got {type(value).__name__}")
    return [int(expect(v, int, "each count")) for v in value]


@probe("count_parameters", "partly_frozen_resnet")
def _(student, device):
    model = resnet18()
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith(("layer4", "fc"))
    return counts(student.count_parameters(model))


@probe("count_parameters", "tied_weights")
def _(student, device):
    model = TiedLanguageModel()
    model.norm.requires_grad_(False)
    return counts(student.count_parameters(model))


# --- unfreeze_last_blocks ---------------------------------------------------------------------
@probe("unfreeze_last_blocks", "n0")
def _(student, device):
    return trainable(as_model(student.unfreeze_last_blocks(lite0(), 0), "unfreeze_last_blocks"))


@probe("unfreeze_last_blocks", "n1_n3")
def _(student, device):
    return {
        str(n): trainable(as_model(student.unfreeze_last_blocks(lite0(), n), "unfreeze_last_blocks")) for n in (1, 3)
    }


@probe("unfreeze_last_blocks", "all_stages_and_more")
def _(student, device):
    # lite0 has 7 stages: n=7 trains every stage but not the stem, n=8 and more train everything
    return {
        str(n): trainable(
            as_model(student.unfreeze_last_blocks(lite0().requires_grad_(False), n), "unfreeze_last_blocks")
        )
        for n in (7, 8, 100)
    }


# --- make_optimizer ----------------------------------------------------------------------------
def optimizer_facts(model, optimizer):
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ProbeFailure(f"make_optimizer should return a torch.optim optimizer, got {type(optimizer).__name__}")
    names = {id(p): name for name, p in named_parameters(model)}
    return {
        "type": type(optimizer).__name__,
        "groups": [
            {
                "lr": float(g["lr"]),
                "weight_decay": float(g.get("weight_decay", 0.0)),
                "params": [names.get(id(p), "<not a parameter of the model>") for p in g["params"]],
            }
            for g in optimizer.param_groups
        ],
    }


@probe("make_optimizer", "fine_tuning")
def _(student, device):
    model = lite0()
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith(("blocks.6", "conv_head", "bn2", "classifier"))
    return optimizer_facts(model, student.make_optimizer(model, head_lr=0.01, backbone_lr=0.001, weight_decay=0.05))


@probe("make_optimizer", "head_only")
def _(student, device):
    model = resnet18()
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith("fc")
    return optimizer_facts(model, student.make_optimizer(model, head_lr=0.02, backbone_lr=0.002))


# --- train_one_epoch ----------------------------------------------------------------------------
def small_cnn(frozen_first_norm=False, dropout=0.0):
    model = nn.Sequential(
        nn.Conv2d(3, 6, 3),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.Conv2d(6, 8, 3),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(8, 3),
    )
    reinitialise(model, seed=1)
    if frozen_first_norm:
        model[0].requires_grad_(False)
        model[1].requires_grad_(False)
    return model


def ten_samples(batch_size=4):
    # 10 samples in batches of 4: the last batch has 2, so mean-of-batches != mean-of-samples
    x = images(10, size=8, seed=3)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 2])
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


def loss_value(value):
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        raise ProbeFailure("train_one_epoch should return the mean loss as a Python float (use loss.item())")
    return float(expect(value, (float, int), "the mean loss"))


@probe("train_one_epoch", "mean_loss")
def _(student, device):
    model = small_cnn().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # nothing moves: the loss is a pure average
    return loss_value(student.train_one_epoch(model, ten_samples(), optimizer, device))


@probe("train_one_epoch", "updates")
def _(student, device):
    model = small_cnn().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    student.train_one_epoch(model, ten_samples(), optimizer, device)
    return {name: p.detach() for name, p in model.named_parameters()}


@probe("train_one_epoch", "frozen_batchnorm")
def _(student, device):
    model = small_cnn(frozen_first_norm=True).to(device)
    # lr 0: the statistics then depend on the data alone, not on how the weights moved
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.0)
    before = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    student.train_one_epoch(model, ten_samples(), optimizer, device)
    after = {k: v for k, v in model.state_dict().items() if "running" in k}
    return {"before": before, "after": after}


class CountingLoss:
    """Cross-entropy with label smoothing (so it differs from the default), keeping each batch's value."""

    def __init__(self):
        self.seen = []  # (loss, batch size)

    def __call__(self, logits, targets):
        loss = nn.functional.cross_entropy(logits, targets, label_smoothing=0.3)
        self.seen.append((loss.item(), len(targets)))
        return loss


@probe("train_one_epoch", "custom_loss_and_dropout")
def _(student, device):
    model = small_cnn(dropout=0.5).to(device)
    dropout = []  # (input, output) of the dropout layer in each forward pass
    model[8].register_forward_hook(
        lambda module, inputs, output: dropout.append([inputs[0].detach().clone(), output.detach().clone()])
    )
    loss_fn = CountingLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    model.eval()  # train_one_epoch must switch to training mode itself
    # batches of 5: here the mean over batches equals the mean over samples
    loss = loss_value(student.train_one_epoch(model, ten_samples(batch_size=5), optimizer, device, loss_fn=loss_fn))
    # dropout draws differ between devices: the loss is checked against this run's own batch losses
    return {"loss": loss, "batch_losses": [list(pair) for pair in loss_fn.seen], "dropout": dropout}


# --- evaluate -----------------------------------------------------------------------------------
def fixed_classifier():
    """A linear model with large margins (no near-ties that could flip between CPU and GPU)."""
    model = nn.Linear(4, 4)
    with torch.no_grad():
        model.weight.copy_(10 * torch.eye(4))
        model.bias.zero_()
    return model


def evaluation_data():
    # 11 samples, 4 classes, class 3 never the true label; predictions = argmax of the inputs
    inputs = torch.tensor(
        [
            [1, 0, 0, 0],
            [0, 1, 0, 0],
            [0, 0, 1, 0],
            [0, 0, 0, 1],
            [1, 0, 0, 0],
            [0, 0, 1, 0],
            [0, 1, 0, 0],
            [0, 0, 0, 1],
            [1, 0, 0, 0],
            [0, 0, 1, 0],
            [0, 0, 1, 0],
        ],
        dtype=torch.float,
    )
    targets = torch.tensor([0, 0, 2, 1, 0, 2, 1, 2, 1, 2, 1])
    return DataLoader(TensorDataset(inputs, targets), batch_size=4)


def evaluation_facts(result):
    result = expect(result, dict, "evaluate's result")
    for key in ("accuracy", "confusion", "per_class_accuracy"):
        if key not in result:
            raise ProbeFailure(f"evaluate's result has no {key!r} key")
    accuracy = result["accuracy"]
    if isinstance(accuracy, torch.Tensor):
        raise ProbeFailure("accuracy should be a Python float, not a tensor (use .item())")
    return {
        "accuracy": float(expect(accuracy, (float, int), "accuracy")),
        "confusion": expect(result["confusion"], torch.Tensor, "the confusion matrix").detach(),
        "per_class_accuracy": torch.as_tensor(result["per_class_accuracy"]).detach(),
    }


@probe("evaluate", "confusion")
def _(student, device):
    return evaluation_facts(student.evaluate(fixed_classifier().to(device), evaluation_data(), device, 4))


@probe("evaluate", "dropout_and_gradients")
def _(student, device):
    model = nn.Sequential(nn.Dropout(0.5), fixed_classifier()).to(device)
    grad_enabled = []
    model.register_forward_hook(lambda module, inputs, output: grad_enabled.append(torch.is_grad_enabled()))
    model.train()
    runs = [evaluation_facts(student.evaluate(model, evaluation_data(), device, 4))["confusion"] for _ in range(3)]
    return {"confusions": runs, "grad_enabled": grad_enabled}


# --- extract_features -----------------------------------------------------------------------------
def feature_loader(n=5, size=32):
    return DataLoader(TensorDataset(images(n, size=size, seed=5), torch.tensor([3, 1, 4, 1, 0][:n])), batch_size=2)


def features_and_labels(value):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ProbeFailure("extract_features should return a pair (features, labels)")
    features, labels = value
    return (
        expect(features, torch.Tensor, "the features").detach(),
        expect(labels, torch.Tensor, "the labels").detach(),
        bool(features.requires_grad),
    )


class MLPClassifier(nn.Module):
    """A classifier whose features (after a ReLU) and logits are clearly different things."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 24), nn.ReLU())
        self.head = nn.Linear(24, 6)

    def forward(self, x):
        return self.head(self.body(x))


@probe("extract_features", "classifier_inputs")
def _(student, device):
    found = {}
    for name, build in (("torchvision_vit", torchvision_vit), ("mlp", MLPClassifier)):
        model = reinitialise(build(), seed=2)
        features, labels, _ = features_and_labels(student.extract_features(model.to(device), feature_loader(), device))
        found[name] = features
    return found


@probe("extract_features", "labels_and_eval_mode")
def _(student, device):
    model = mobilenet_v3().to(device)  # BatchNorm and Dropout(0.2) before its final layer
    model.train()
    first = features_and_labels(student.extract_features(model, feature_loader(), device))
    second = features_and_labels(student.extract_features(model, feature_loader(), device))
    return {"features": [first[0], second[0]], "labels": first[1], "requires_grad": first[2] or second[2]}
