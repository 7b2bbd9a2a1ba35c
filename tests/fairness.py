"""Correct implementations written differently from the solution: every one must get full marks.

For each assignment, two variants (A and B) of every graded function: another library call,
another loop structure, float or tensor inputs handled another way, and, where the text allows it,
the paper's reading instead of the notebook's (LogME without the 1e-5 in beta's update, or with the
authors' first stopping rule; AdaBN with the statistics of all target samples at once).
m1_concepts' variants are the solution's answers written as a student might (capitals, spaces,
numbers as floats), made by `m1_variants` from the solution itself.
"""

import re

ALTERNATIVES = {
    "m2_vision": {
        "A": {
            "build_transforms": """
def build_transforms(train: bool, image_size: int, mean, std):
    def to_rgb(image):
        return image if image.mode == "RGB" else image.convert("RGB")

    if train:
        resize = [T.RandomResizedCrop(image_size, scale=(0.8, 1.0)), T.RandomRotation(10)]
    else:
        resize = [T.Resize((image_size, image_size))]
    return T.Compose([to_rgb, *resize, T.ToTensor(), T.Normalize(mean=mean, std=std)])
""",
            "replace_head": """
def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    last_name = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)][-1]
    *path, attribute = last_name.split(".")
    parent = model
    for part in path:
        parent = parent._modules[part]
    old = parent._modules[attribute]
    parent._modules[attribute] = nn.Linear(old.in_features, num_classes)
    return model
""",
            "freeze_backbone": """
def freeze_backbone(model: nn.Module) -> nn.Module:
    head = [module for module in model.modules() if isinstance(module, nn.Linear)][-1]
    model.requires_grad_(False)
    head.requires_grad_(True)
    return model
""",
            "count_parameters": """
def count_parameters(model: nn.Module) -> tuple[int, int]:
    trainable = total = 0
    for _, parameter in model.named_parameters():  # named_parameters() skips a repeated tensor
        total += parameter.numel()
        if parameter.requires_grad:
            trainable += parameter.numel()
    return trainable, total
""",
            "unfreeze_last_blocks": """
def unfreeze_last_blocks(model: nn.Module, n: int) -> nn.Module:
    head_name, _ = find_classifier(model)
    stages = len(model.blocks)
    if n > stages:
        prefixes = [""]
    elif n >= 1:
        prefixes = [head_name, "conv_head", "bn2"] + [f"blocks.{i}" for i in range(stages - n, stages)]
    else:
        prefixes = [head_name]
    for name, parameter in model.named_parameters():
        parameter.requires_grad = any(p == "" or name == p or name.startswith(p + ".") for p in prefixes)
    return model
""",
            "make_optimizer": """
def make_optimizer(model: nn.Module, head_lr: float, backbone_lr: float, weight_decay: float = 0.0):
    head_name, _ = find_classifier(model)
    head, backbone = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (head if name.startswith(head_name + ".") else backbone).append(parameter)
    groups = [dict(params=params, lr=lr) for params, lr in ((head, head_lr), (backbone, backbone_lr)) if params]
    return torch.optim.AdamW(groups, weight_decay=weight_decay)
""",
            "train_one_epoch": """
def train_one_epoch(model: nn.Module, loader, optimizer, device, loss_fn=None) -> float:
    if loss_fn is None:
        loss_fn = nn.functional.cross_entropy
    model.train()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d | nn.BatchNorm3d):
            frozen = [p for p in module.parameters()]
            module.train(not frozen or any(p.requires_grad for p in frozen))
    losses = []
    for inputs, targets in loader:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        losses.append((loss.item(), targets.size(0)))
    return sum(value * n for value, n in losses) / sum(n for _, n in losses)
""",
            "evaluate": """
def evaluate(model: nn.Module, loader, device, num_classes: int) -> dict:
    from torchmetrics.functional.classification import multiclass_confusion_matrix

    model.eval()
    predicted, true = [], []
    with torch.inference_mode():
        for inputs, targets in loader:
            predicted.append(model(inputs.to(device)).argmax(1).cpu())
            true.append(targets.cpu())
    confusion = multiclass_confusion_matrix(torch.cat(predicted), torch.cat(true), num_classes)
    per_class = torch.nan_to_num(confusion.diag() / confusion.sum(1), nan=0.0)
    return {"accuracy": (confusion.diag().sum() / confusion.sum()).item(), "confusion": confusion.long(),
            "per_class_accuracy": per_class}
""",
            "extract_features": """
def extract_features(model: nn.Module, loader, device) -> tuple[torch.Tensor, torch.Tensor]:
    name, head = find_classifier(model)
    parent_name, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    setattr(parent, attribute, nn.Identity())  # the model now outputs what the head would have read
    model.eval()
    features, labels = [], []
    try:
        with torch.no_grad():
            for inputs, targets in loader:
                features.append(model(inputs.to(device)).cpu())
                labels.append(targets)
    finally:
        setattr(parent, attribute, head)
    return torch.cat(features), torch.cat(labels)
""",
        },
        "B": {
            "build_transforms": """
import random

import numpy as np
from PIL import Image


def build_transforms(train: bool, image_size: int, mean, std):
    mean, std = torch.tensor(mean).view(3, 1, 1), torch.tensor(std).view(3, 1, 1)

    def transform(image):
        image = image.convert("RGB").resize((image_size, image_size), Image.BILINEAR)
        if train:
            image = image.rotate(random.uniform(-10, 10))
        pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)
        return (pixels - mean) / std

    return transform
""",
            "replace_head": """
def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    if hasattr(model, "reset_classifier"):  # timm's own way
        model.reset_classifier(num_classes)
        return model
    name, old = find_classifier(model)
    parent_name, _, attribute = name.rpartition(".")
    setattr(model.get_submodule(parent_name), attribute, nn.Linear(old.in_features, num_classes))
    return model
""",
            "freeze_backbone": """
def freeze_backbone(model: nn.Module) -> nn.Module:
    head_name, _ = find_classifier(model)
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith(head_name + ".")
    return model
""",
            "count_parameters": """
def count_parameters(model: nn.Module) -> tuple[int, int]:
    unique = set(model.parameters())  # a tensor hashes by identity: shared weights count once
    return sum(p.numel() for p in unique if p.requires_grad), sum(p.numel() for p in unique)
""",
            "unfreeze_last_blocks": """
def unfreeze_last_blocks(model: nn.Module, n: int) -> nn.Module:
    _, head = find_classifier(model)
    everything = n > len(model.blocks)
    model.requires_grad_(everything)
    for i, stage in enumerate(model.blocks):
        stage.requires_grad_(everything or (n >= 1 and i >= len(model.blocks) - n))
    for part in (model.conv_head, model.bn2):
        part.requires_grad_(everything or n >= 1)
    head.requires_grad_(True)
    return model
""",
            "make_optimizer": """
def make_optimizer(model: nn.Module, head_lr: float, backbone_lr: float, weight_decay: float = 0.0):
    _, head = find_classifier(model)
    head_set = set(head.parameters())
    trainable = list(filter(lambda p: p.requires_grad, model.parameters()))
    groups = [{"params": [p for p in trainable if p in head_set], "lr": head_lr},
              {"params": [p for p in trainable if p not in head_set], "lr": backbone_lr}]
    return torch.optim.AdamW([g for g in groups if len(g["params"]) > 0], weight_decay=weight_decay)
""",
            "train_one_epoch": """
def train_one_epoch(model: nn.Module, loader, optimizer, device, loss_fn=None) -> float:
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    model.train()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.affine and not module.weight.requires_grad:
            module.eval()
    total = torch.zeros(())
    count = 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        loss = loss_fn(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.detach().cpu() * len(inputs)
        count += len(inputs)
    return float(total / count)
""",
            "evaluate": """
def evaluate(model: nn.Module, loader, device, num_classes: int) -> dict:
    model.eval()
    confusion = torch.zeros((num_classes, num_classes), dtype=torch.int64)
    with torch.no_grad():
        for inputs, targets in loader:
            for true, guess in zip(targets.tolist(), model(inputs.to(device)).argmax(-1).tolist()):
                confusion[true, guess] += 1
    per_class = torch.tensor([confusion[c, c].item() / row if (row := confusion[c].sum().item()) else 0.0
                              for c in range(num_classes)])
    correct = sum(confusion[c, c].item() for c in range(num_classes))
    return {"accuracy": correct / max(int(confusion.sum()), 1), "confusion": confusion, "per_class_accuracy": per_class}
""",
            "extract_features": """
def extract_features(model: nn.Module, loader, device) -> tuple[torch.Tensor, torch.Tensor]:
    _, head = find_classifier(model)
    seen = []
    handle = head.register_forward_pre_hook(lambda module, args: seen.append(args[0].cpu()))
    model.eval()
    labels = []
    with torch.inference_mode():
        for inputs, targets in loader:
            model(inputs.to(device))
            labels.append(targets)
    handle.remove()
    return torch.cat(seen).clone(), torch.cat(labels)
""",
        },
    },
    "m2_lora": {
        "A": {
            "LoRALinear": """
class LoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, r: int, alpha: float, dropout: float = 0.0):
        super().__init__()
        for parameter in base.parameters():
            parameter.requires_grad = False
        self.base, self.scaling = base, alpha / r
        self.lora_A = nn.Parameter(base.weight.new_empty(r, base.in_features))
        self.lora_B = nn.Parameter(base.weight.new_zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = nn.Dropout(p=dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        update = nn.functional.linear(nn.functional.linear(self.dropout(x), self.lora_A), self.lora_B)
        return self.base(x) + self.scaling * update

    def merged(self) -> nn.Linear:
        import copy

        merged = copy.deepcopy(self.base)
        with torch.no_grad():
            merged.weight.addmm_(self.lora_B, self.lora_A, alpha=self.scaling)
        merged.requires_grad_(True)
        return merged
""",
            "lora_parameter_count": """
def lora_parameter_count(model: nn.Module, target_modules, r: int) -> int:
    count = 0
    for name, module in model.named_modules():
        if type(module) is nn.Linear and name.split(".")[-1] in set(target_modules):
            count += r * module.in_features + r * module.out_features
    return count
""",
            "add_lora": """
def add_lora(model: nn.Module, target_modules, r: int, alpha: float, dropout: float = 0.0, modules_to_save=()):
    for parameter in model.parameters():
        parameter.requires_grad = False
    for name, module in list(model.named_modules()):
        if isinstance(module, nn.Linear) and name.split(".")[-1] in target_modules:
            parent = model.get_submodule(".".join(name.split(".")[:-1]))
            setattr(parent, name.split(".")[-1], LoRALinear(module, r, alpha, dropout))
    for name, module in model.named_modules():
        if any(name == keep or name.endswith("." + keep) for keep in modules_to_save):
            for parameter in module.parameters():
                parameter.requires_grad = True
    return model
""",
            "peft_lora": """
def peft_lora(model: nn.Module, r: int, alpha: float, target_modules, dropout: float = 0.0):
    import peft

    config = peft.LoraConfig(task_type="SEQ_CLS", r=r, lora_alpha=alpha, lora_dropout=dropout,
                             target_modules=target_modules)
    return peft.get_peft_model(model, config)
""",
            "mask_prompt_labels": """
def mask_prompt_labels(input_ids, attention_mask, prompt_lengths):
    lengths = torch.as_tensor(prompt_lengths).view(-1, 1)
    position = attention_mask.cumsum(dim=1)  # 1 at the first real token, counting only real tokens
    prompt = (position <= lengths) & (attention_mask == 1)
    return input_ids.masked_fill(prompt | (attention_mask == 0), -100)
""",
            "classify_with_lm": """
def classify_with_lm(model, tokenizer, texts, label_words) -> torch.Tensor:
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**encoded).logits
    positions = torch.arange(encoded["attention_mask"].shape[1]).expand_as(encoded["attention_mask"])
    last = torch.where(encoded["attention_mask"] == 1, positions, -1).max(dim=1).values
    first_tokens = torch.tensor([tokenizer.encode(word, add_special_tokens=False)[0] for word in label_words])
    return logits[torch.arange(len(texts)), last][:, first_tokens].argmax(dim=-1).long()
""",
        },
        "B": {
            "LoRALinear": """
class LoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, r: int, alpha: float, dropout: float = 0.0):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.scaling = float(alpha) / float(r)
        self.lora_A = nn.Parameter(torch.zeros(r, base.in_features))
        nn.init.kaiming_uniform_(self.lora_A, a=5 ** 0.5)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        self.dropout = nn.Dropout(dropout)

    def delta(self) -> torch.Tensor:
        return self.lora_B @ self.lora_A

    def forward(self, x):
        return self.base(x) + (self.dropout(x) @ self.delta().T) * self.scaling

    def merged(self) -> nn.Linear:
        layer = nn.Linear(self.base.in_features, self.base.out_features, bias=self.base.bias is not None)
        layer.weight = nn.Parameter((self.base.weight + self.scaling * self.delta()).detach().clone())
        if self.base.bias is not None:
            layer.bias = nn.Parameter(self.base.bias.detach().clone())
        return layer
""",
            "lora_parameter_count": """
def lora_parameter_count(model: nn.Module, target_modules, r: int) -> int:
    linear = {name.rsplit(".", 1)[-1]: [] for name, _ in model.named_modules()}
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            linear[name.rsplit(".", 1)[-1]].append(module.weight.shape)  # [out_features, in_features]
    return sum(r * (out + inp) for target in target_modules for out, inp in linear.get(target, []))
""",
            "add_lora": """
def add_lora(model: nn.Module, target_modules, r: int, alpha: float, dropout: float = 0.0, modules_to_save=()):
    model.requires_grad_(False)

    def wrap(module):
        for child_name, child in module.named_children():
            if isinstance(child, nn.Linear) and child_name in target_modules:
                setattr(module, child_name, LoRALinear(child, r, alpha, dropout))
            else:
                wrap(child)

    wrap(model)
    for name, module in model.named_modules():
        if name.rsplit(".", 1)[-1] in modules_to_save or name in modules_to_save:
            module.requires_grad_(True)
    return model
""",
            "peft_lora": """
from peft import LoraConfig, TaskType, get_peft_model


def peft_lora(model: nn.Module, r: int, alpha: float, target_modules, dropout: float = 0.0):
    config = LoraConfig(r=r, lora_alpha=alpha, target_modules=set(target_modules), lora_dropout=dropout,
                        task_type=TaskType.SEQ_CLS)
    return get_peft_model(model, config)
""",
            "mask_prompt_labels": """
def mask_prompt_labels(input_ids, attention_mask, prompt_lengths):
    labels = torch.full_like(input_ids, -100)
    for row in range(input_ids.shape[0]):
        seen = 0
        for column in range(input_ids.shape[1]):
            if attention_mask[row, column]:
                seen += 1
                if seen > int(prompt_lengths[row]):
                    labels[row, column] = input_ids[row, column]
    return labels
""",
            "classify_with_lm": """
def classify_with_lm(model, tokenizer, texts, label_words) -> torch.Tensor:
    label_ids = [tokenizer(word, add_special_tokens=False).input_ids[0] for word in label_words]
    predictions = []
    model.eval()
    for text in texts:  # one prompt at a time: no padding to think about
        ids = tokenizer(text, return_tensors="pt").input_ids
        with torch.no_grad():
            next_token = model(input_ids=ids).logits[0, -1]
        predictions.append(int(next_token[label_ids].argmax()))
    return torch.tensor(predictions, dtype=torch.long)
""",
        },
    },
    "m3_evaluation": {
        "A": {
            "sample_per_class": """
def sample_per_class(labels, n_per_class: int, seed: int) -> torch.Tensor:
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    picked = []
    for c in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == c)
        picked.extend(rng.choice(members, size=min(n_per_class, len(members)), replace=False).tolist())
    return torch.tensor(picked, dtype=torch.long)
""",
            "negative_transfer_gap": """
import statistics


def negative_transfer_gap(transfer_errors, scratch_errors) -> float:
    return statistics.mean(map(float, transfer_errors)) - statistics.mean(map(float, scratch_errors))
""",
            "backward_transfer": """
def backward_transfer(R) -> float:
    T = len(R)
    return sum(float(R[T - 1][i]) - float(R[i][i]) for i in range(T - 1)) / (T - 1)
""",
            "forgetting": """
def forgetting(acc_before: float, acc_after: float) -> float:
    return acc_before - acc_after
""",
            "logme": """
def logme(features, labels) -> float:
    # the paper's updates (beta's without the notebook's 1e-5), iterated until alpha and beta stop moving
    F = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    N, D = F.shape
    u, singular, vt = np.linalg.svd(F, full_matrices=True)
    s = np.zeros(D)
    s[: len(singular)] = singular ** 2  # the eigenvalues of F^T F, zeros included
    V = vt.T
    scores = []
    for c in np.unique(labels):
        y = (labels == c).astype(np.float64)
        projected = V.T @ (F.T @ y)
        alpha, beta = 1.0, 1.0
        for _ in range(1000):
            gamma = np.sum(beta * s / (alpha + beta * s))
            m = V @ (beta * projected / (alpha + beta * s))
            new_alpha, new_beta = gamma / (m @ m + 1e-5), (N - gamma) / np.sum((y - F @ m) ** 2)
            done = abs(new_alpha - alpha) <= 1e-10 * alpha and abs(new_beta - beta) <= 1e-10 * beta
            alpha, beta = new_alpha, new_beta
            if done:
                break
        m = V @ (beta * projected / (alpha + beta * s))
        evidence = (D * np.log(alpha) + N * np.log(beta) - np.sum(np.log(alpha + beta * s))
                    - beta * np.sum((y - F @ m) ** 2) - alpha * (m @ m) - N * np.log(2 * np.pi)) / 2
        scores.append(evidence / N)
    return float(np.mean(scores))
""",
            "adapt_batchnorm": """
def adapt_batchnorm(model: nn.Module, loader, device) -> nn.Module:
    # the paper's reading: each layer's statistics over all target samples at once
    everything = torch.cat([inputs for inputs, _ in loader]).to(device)
    model.eval()
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d | nn.BatchNorm3d)]
    kept = {}
    for norm in norms:
        kept[norm] = norm.momentum
        norm.reset_running_stats()
        norm.momentum = 1.0  # the running statistics become this one batch's
        norm.train()
    with torch.no_grad():
        model(everything)
    for norm in norms:
        norm.momentum = kept[norm]
        norm.eval()
    return model
""",
            "l2sp_penalty": """
def l2sp_penalty(model: nn.Module, source_state: dict, alpha: float, beta: float, head_names) -> torch.Tensor:
    head_terms, shared_terms = [], []
    for name, parameter in model.named_parameters():
        if name.split(".")[0] in head_names or any(name.startswith(h + ".") for h in head_names):
            head_terms.append(parameter.pow(2).sum())
        elif name in source_state:
            shared_terms.append((parameter - source_state[name]).pow(2).sum())
    zero = next(model.parameters()).new_zeros(())
    return alpha * 0.5 * sum(shared_terms, zero) + beta * 0.5 * sum(head_terms, zero)
""",
        },
        "B": {
            "sample_per_class": """
def sample_per_class(labels, n_per_class: int, seed: int) -> torch.Tensor:
    labels = torch.as_tensor(labels)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    taken, counts = [], {}
    for i in order.tolist():
        c = int(labels[i])
        if counts.get(c, 0) < n_per_class:
            taken.append(i)
            counts[c] = counts.get(c, 0) + 1
    return torch.tensor(sorted(taken), dtype=torch.long)
""",
            "negative_transfer_gap": """
def negative_transfer_gap(transfer_errors, scratch_errors) -> float:
    return float(np.mean(np.asarray(transfer_errors, dtype=float)) - np.mean(np.asarray(scratch_errors, dtype=float)))
""",
            "backward_transfer": """
def backward_transfer(R) -> float:
    R = np.asarray(R, dtype=np.float64)
    return float(np.mean(R[-1, :-1] - np.diag(R)[:-1]))
""",
            "forgetting": """
def forgetting(acc_before: float, acc_after: float) -> float:
    return float(np.subtract(acc_before, acc_after))
""",
            "logme": """
def logme(features, labels) -> float:
    # as the authors' first code: the 1e-5 in both updates, at most 11 rounds, stop at a 1% change of alpha/beta
    F = torch.as_tensor(features).double()
    labels = torch.as_tensor(labels)
    N, D = F.shape
    s, V = torch.linalg.eigh(F.T @ F)
    s = torch.clamp(s, min=0.0)
    total = 0.0
    classes = labels.unique()
    for c in classes:
        y = (labels == c).double()
        t = V.T @ F.T @ y
        alpha, beta, ratio = 1.0, 1.0, 1.0
        for _ in range(11):
            gamma = (s / (s + alpha / beta)).sum()
            m = V @ (t * beta / (alpha + beta * s))
            alpha = float(gamma / ((m ** 2).sum() + 1e-5))
            beta = float((N - gamma) / (((y - F @ m) ** 2).sum() + 1e-5))
            if abs(alpha / beta - ratio) / ratio < 0.01:
                break
            ratio = alpha / beta
        m = V @ (t * beta / (alpha + beta * s))
        residual, weights = ((y - F @ m) ** 2).sum(), (m ** 2).sum()
        log_evidence = (D / 2 * math.log(alpha) + N / 2 * math.log(beta) - torch.log(alpha + beta * s).sum() / 2
                        - beta / 2 * residual - alpha / 2 * weights - N / 2 * math.log(2 * math.pi))
        total += float(log_evidence) / N
    return total / len(classes)
""",
            "adapt_batchnorm": """
def adapt_batchnorm(model: nn.Module, loader, device) -> nn.Module:
    def is_norm(module):
        return isinstance(module, nn.modules.batchnorm._BatchNorm)

    momenta = {name: m.momentum for name, m in model.named_modules() if is_norm(m)}
    model.eval()
    for name, module in model.named_modules():
        if is_norm(module):
            module.running_mean.zero_()
            module.running_var.fill_(1)
            module.num_batches_tracked.zero_()
            module.momentum = None
            module.train()
    with torch.no_grad():
        for batch, _ in loader:
            model(batch.to(device))
    for name, module in model.named_modules():
        if is_norm(module):
            module.momentum = momenta[name]
    return model.eval()
""",
            "l2sp_penalty": """
def l2sp_penalty(model: nn.Module, source_state: dict, alpha: float, beta: float, head_names) -> torch.Tensor:
    params = dict(model.named_parameters())
    heads = [n for n in params if any(n == h or n.startswith(f"{h}.") for h in head_names)]
    shared = [n for n in params if n not in heads and n in source_state]
    distance = torch.stack([torch.sum((params[n] - source_state[n]) ** 2) for n in shared]).sum() if shared else 0.0
    size = torch.stack([torch.sum(params[n] ** 2) for n in heads]).sum() if heads else 0.0
    return (alpha * distance + beta * size) / 2
""",
        },
    },
}


def m1_variants(solution_cells: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each answer as a student might write it: A with capitals and spaces, numbers as floats; B with the
    letter in single quotes and padding, numbers as written with an expression."""
    variants = {"A": {}, "B": {}}
    for grade_id, source in solution_cells.items():
        value = source.strip().splitlines()[-1].split("=", 1)[1].strip()
        letter = re.fullmatch(r"""["']([a-z])["']""", value)
        if letter:
            variants["A"][grade_id] = f'{grade_id} = " {letter.group(1).upper()} "\n'
            variants["B"][grade_id] = f"{grade_id} = '{letter.group(1)}'  # my answer\n"
        else:
            number = float(value.replace("_", ""))
            variants["A"][grade_id] = f"{grade_id} = {number!r}\n"
            variants["B"][grade_id] = f"{grade_id} = int({int(number)}) if {number} == int({number}) else {number}\n"
    return variants
