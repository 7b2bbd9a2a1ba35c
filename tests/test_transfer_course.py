"""The student helper package: offline data and models, results recording."""

import json

import numpy as np
import pytest
import torch

from transfer_course import data, models, results, training


def test_embedded_backbone_knows_imagenet():
    from torchvision.transforms import functional as F

    model = models.vision_backbone().eval()
    mean, std = models.vision_normalisation(model)
    assert (mean, std) == ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    images = data.natural_images("imagenet")
    batch = torch.stack(
        [F.normalize(F.to_tensor(F.resize(F.to_pil_image(im), [224, 224])), mean, std) for im in images.images]
    )
    with torch.no_grad():
        top1 = (model(batch).argmax(1) == torch.as_tensor(images.labels)).float().mean().item()
    assert top1 >= 0.8  # 17 of the 20 shipped images; random weights would get ~0


def test_backbone_without_weights_is_random():
    a, b = models.vision_backbone(pretrained=False), models.vision_backbone(pretrained=True)
    assert not torch.equal(a.conv_stem.weight, b.conv_stem.weight)


def test_find_classifier_across_families():
    import timm
    import torchvision

    assert models.find_classifier(torchvision.models.resnet18())[0] == "fc"
    assert models.find_classifier(torchvision.models.mobilenet_v3_small())[0] == "classifier.3"
    assert models.find_classifier(timm.create_model("tf_efficientnet_lite0"))[0] == "classifier"
    with pytest.raises(ValueError, match="no nn.Linear"):
        models.find_classifier(torch.nn.Conv2d(1, 1, 1))


@pytest.mark.parametrize(
    "loader, n, shape", [(data.mnist, 5000, (28, 28)), (data.uci_digits, 1797, (8, 8)), (data.faces, 200, (25, 25))]
)
def test_image_sets(loader, n, shape):
    images = loader()
    assert len(images) == n and images.images[0].shape == shape and images.images[0].dtype == np.uint8
    assert images.labels.dtype == np.int64 and len(images.classes) == images.labels.max() + 1


def test_text_set():
    reviews = data.rotten_tomatoes()
    assert len(reviews) > 12000 and set(np.unique(reviews.labels)) == {0, 1}
    assert all(isinstance(t, str) and t for t in reviews.texts[:100])


def test_photographs_are_colour_and_from_every_source():
    photos = data.photographs()
    assert len(photos) == 68 and all(p.ndim == 3 and p.shape[2] == 3 and p.dtype == np.uint8 for p in photos.images)
    assert np.bincount(photos.labels).tolist() == [20, 20, 20, 8]


def test_photo_crops_depend_on_the_seed_alone():
    torch.manual_seed(1)
    state = torch.get_rng_state()
    crops = data.photo_crops(70, size=48, seed=0)
    assert crops.shape == (70, 3, 48, 48) and crops.dtype == torch.float32 and 0 <= crops.min() < crops.max() <= 1
    assert torch.equal(torch.get_rng_state(), state)  # the caller's random stream is left where it was
    torch.manual_seed(2)
    assert torch.equal(data.photo_crops(70, size=48, seed=0), crops)
    assert not torch.equal(data.photo_crops(70, size=48, seed=1), crops)
    assert not torch.equal(crops[0], crops[68])  # a photograph seen twice is cropped twice, differently


def test_unknown_natural_source_is_a_clear_error():
    with pytest.raises(ValueError, match="one of"):
        data.natural_images("svhn")


def test_few_shot_split_is_disjoint_balanced_and_stable():
    labels = data.mnist().labels
    train, test = data.few_shot_split(labels, per_class=10, test_per_class=50, seed=0)
    assert len(set(train) & set(test)) == 0
    assert np.bincount(labels[train]).tolist() == [10] * 10 and np.bincount(labels[test]).tolist() == [50] * 10
    train_more, test_again = data.few_shot_split(labels, per_class=20, test_per_class=50, seed=0)
    assert np.array_equal(test, test_again) and set(train) <= set(train_more)
    with pytest.raises(ValueError, match="fewer than"):
        data.few_shot_split(labels, per_class=480, test_per_class=50, seed=0)


def test_record_writes_plain_json(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_RESULTS_FILE", str(tmp_path / "r.jsonl"))
    values = results.record(
        "demo", {"accuracy": torch.tensor(0.5), "per_class": torch.tensor([1.0, float("nan")]), "n": np.int64(3)}
    )
    assert values == {"accuracy": 0.5, "per_class": [1.0, None], "n": 3}
    assert json.loads((tmp_path / "r.jsonl").read_text()) == {"name": "demo", "values": values}
    with pytest.raises(TypeError, match="cannot record"):
        results.record("bad", {"model": torch.nn.Linear(1, 1)})


def test_record_shows_people_rounded_values_and_keeps_the_full_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TL_RESULTS_FILE", str(tmp_path / "r.jsonl"))
    values = results.record("seeds", {"scratch": {"accuracy": [0.13, 0.36216, 1 / 3], "curves": [[1, 2], [3]]}})
    shown = capsys.readouterr().out
    assert '"accuracy": [0.13, 0.3622, 0.3333]' in shown  # one line, 4 decimals
    assert '"curves": [\n' in shown  # a list of lists keeps its lines
    assert values["scratch"]["accuracy"][2] == 1 / 3
    assert json.loads((tmp_path / "r.jsonl").read_text())["values"] == values


def test_device_setting(monkeypatch):
    from transfer_course import config

    monkeypatch.setenv("TL_DEVICE", "cpu")
    assert config.device() == torch.device("cpu")
    if not torch.cuda.is_available():
        monkeypatch.setenv("TL_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="no CUDA"):
            config.device()


def test_mean_pool_leaves_padding_out():
    tokens = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    assert models.mean_pool(tokens, torch.tensor([[1, 1, 0]])).tolist() == [[2.0, 3.0]]


def test_sentence_classifier_reads_the_mean_of_real_tokens():
    """Padding a text does not change its logits: the head reads the mean over its real tokens only."""
    model, tokenizer = models.sentence_classifier(num_labels=2)
    model.eval()
    alone = tokenizer(["a fine film"], return_tensors="pt")
    padded = tokenizer(["a fine film", "a much longer review of a much longer film"], padding=True, return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(model(**alone).logits[0], model(**padded).logits[0], atol=1e-5)
    assert [n for n, _ in model.named_children()] == ["encoder", "classifier"]


def test_training_memory_counts_each_kind_of_tensor():
    """A frozen layer under a trained one: weights of both, gradients and AdamW's two moments of the trained one
    only, and the activations it saved for backward (its input), each counted once whatever runs twice."""
    torch.manual_seed(0)
    frozen, trained = torch.nn.Linear(256, 512).requires_grad_(False), torch.nn.Linear(512, 4)
    model = torch.nn.Sequential(frozen, trained)
    optimizer = torch.optim.AdamW(trained.parameters())
    activations = training.SavedActivations(model)
    for batch in (8, 64, 8):  # the largest forward pass is the one that counts
        with activations:
            loss = model(torch.randn(batch, 256)).sum()
        loss.backward()
        optimizer.step()
    memory = training.training_memory(model, optimizer, activations)
    mb = 4 / 2**20  # float32
    trained_numbers = 512 * 4 + 4
    assert memory["weights"] == pytest.approx(mb * (256 * 512 + 512 + trained_numbers))
    assert memory["gradients"] == pytest.approx(mb * trained_numbers)
    assert memory["optimizer state"] == pytest.approx(mb * (2 * trained_numbers + 2))  # + a step count per tensor
    assert memory["activations"] == pytest.approx(mb * 64 * 512)  # the trained layer's input, largest batch
