"""The data layer: embedded, ImageNet-folder and synthetic datasets, transforms, data module."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import torch
from omegaconf import OmegaConf
from torchvision.io import write_jpeg

from inception_cli.data import (
    CLASS_NAMES_FASHION_MNIST,
    build_dataset,
    build_image_dataset,
)
from inception_cli.data.embedded import load_fashion_mnist_subset
from inception_cli.data.transforms import evaluation_transform, training_transform
from inception_cli.errors import InputError
from inception_cli.lit.datamodule import ImageDataModule, build_datamodule

CONF = Path(__file__).resolve().parents[1] / "conf" / "data"


def data_config(config_name: str, /, **overrides: Any) -> dict[str, Any]:
    """A shipped data config as a plain dict, with some keys replaced."""
    loaded = OmegaConf.load(CONF / f"{config_name}.yaml")
    cfg = loaded.data if "data" in loaded else loaded  # embedded.yaml is a global package
    plain = OmegaConf.to_container(cfg, throw_on_missing=False)
    assert isinstance(plain, dict)
    return {**plain, **overrides}


# --- embedded -----------------------------------------------------------------------------


def test_stored_subset_is_class_balanced() -> None:
    train_images, train_labels = load_fashion_mnist_subset("train")
    val_images, val_labels = load_fashion_mnist_subset("val")
    assert train_images.shape == (5000, 28, 28) and train_images.dtype == torch.uint8
    assert val_images.shape == (1000, 28, 28)
    assert torch.bincount(train_labels).tolist() == [500] * 10
    assert torch.bincount(val_labels).tolist() == [100] * 10
    assert len(CLASS_NAMES_FASHION_MNIST) == 10


def test_embedded_datamodule_batches() -> None:
    datamodule = build_datamodule(OmegaConf.create(data_config("embedded")))
    assert datamodule.num_classes == 10
    datamodule.setup("fit")
    train_loader = datamodule.train_dataloader()
    assert len(train_loader) == 5000 // 64  # drop_last
    images, labels = next(iter(train_loader))
    assert images.shape == (64, 1, 75, 75) and images.dtype == torch.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert images.min() < -0.99 and images.max() > 0.5  # scaled to [-1, 1], not [0, 1]
    assert labels.dtype == torch.int64 and labels.min() >= 0 and labels.max() < 10

    val_loader = datamodule.val_dataloader()
    assert len(val_loader) == -(-1000 // 64)
    val_images, val_labels = next(iter(val_loader))
    assert val_images.shape == (64, 1, 75, 75)
    stored = load_fashion_mnist_subset("val")[1]
    assert torch.equal(val_labels, stored[:64])  # validation is not shuffled


def test_embedded_augmentation_varies_only_training_images() -> None:
    augmented = build_dataset(data_config("embedded"), "train")
    plain = build_dataset(data_config("embedded", augment=False), "train")
    torch.manual_seed(0)
    draws = {augmented[3][0].sum().item() for _ in range(10)}
    assert len(draws) > 1
    assert torch.equal(plain[3][0], plain[3][0])
    # the mean of the augmented image is the mean of a shifted copy: close to the plain one
    assert abs(augmented[3][0].mean() - plain[3][0].mean()) < 0.2


def test_embedded_three_channels_repeat_the_grey_image() -> None:
    cfg = data_config("embedded", in_chans=3, mean=[0.5] * 3, std=[0.5] * 3, augment=False)
    image, _ = build_dataset(cfg, "val")[0]
    assert image.shape == (3, 75, 75)
    assert torch.equal(image[0], image[2])


def test_embedded_mean_std_must_match_channels() -> None:
    with pytest.raises(InputError, match="in_chans"):
        build_dataset(data_config("embedded", mean=[0.5] * 3), "train")


def test_embedded_image_dataset_is_original_and_unnormalised() -> None:
    dataset = build_image_dataset(data_config("embedded"), "val")
    image, label = dataset[5]
    stored_images, stored_labels = load_fashion_mnist_subset("val")
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert torch.allclose(image[0] * 255, stored_images[5].float())
    assert label == stored_labels[5]


# --- synthetic ----------------------------------------------------------------------------


def test_synthetic_is_deterministic_per_index() -> None:
    cfg = data_config("synthetic")
    first, second = build_dataset(cfg, "train"), build_dataset(cfg, "train")
    assert len(first) == 256 and len(build_dataset(cfg, "val")) == 64
    assert torch.equal(first[7][0], second[7][0]) and first[7][1] == second[7][1]
    assert not torch.equal(first[7][0], first[8][0])
    assert not torch.equal(first[0][0], build_dataset(cfg, "val")[0][0])
    labels = torch.stack([first[i][1] for i in range(len(first))])
    assert labels.min() >= 0 and labels.max() < 10 and len(labels.unique()) > 1
    image = first[0][0]
    assert image.shape == (3, 75, 75) and image.min() >= -1.0 and image.max() <= 1.0


def test_synthetic_datamodule_and_image_dataset() -> None:
    datamodule = build_datamodule(data_config("synthetic", num_train=8, num_val=4, batch_size=4))
    datamodule.setup("fit")
    images, labels = next(iter(datamodule.train_dataloader()))
    assert images.shape == (4, 3, 75, 75) and labels.shape == (4,)
    raw = build_image_dataset(data_config("synthetic"), "val")[0][0]
    assert raw.shape == (3, 75, 75) and raw.min() >= 0.0 and raw.max() <= 1.0


# --- imagenet folders ---------------------------------------------------------------------


def write_fake_imagenet(root: Path, classes: tuple[str, ...] = ("n01", "n02")) -> None:
    """A few 40 x 30 JPEGs per class in train/ and val/."""
    generator = torch.Generator().manual_seed(0)
    for split, count in (("train", 3), ("val", 2)):
        for wnid in classes:
            folder = root / split / wnid
            folder.mkdir(parents=True)
            for index in range(count):
                pixels = torch.randint(0, 256, (3, 30, 40), dtype=torch.uint8, generator=generator)
                write_jpeg(pixels, str(folder / f"{wnid}_{index}.JPEG"))


def imagenet_config(root: Path | str, **overrides: Any) -> dict[str, Any]:
    settings = dict(root=str(root), num_classes=2, batch_size=2, num_workers=0, pin_memory=False)
    return data_config("imagenet", **{**settings, **overrides})


def test_imagenet_folder_batches(tmp_path: Path) -> None:
    write_fake_imagenet(tmp_path)
    datamodule = build_datamodule(imagenet_config(tmp_path, input_size=75))
    datamodule.setup("fit")
    for loader, batches in ((datamodule.train_dataloader(), 3), (datamodule.val_dataloader(), 2)):
        assert len(loader) == batches
        images, labels = next(iter(loader))
        assert images.shape == (2, 3, 75, 75) and images.dtype == torch.float32
        assert images.min() >= -1.0 - 1e-4 and images.max() <= 1.0 + 1e-4
        assert set(labels.tolist()) <= {0, 1}


def test_imagenet_image_dataset_keeps_original_size(tmp_path: Path) -> None:
    write_fake_imagenet(tmp_path)
    dataset = build_image_dataset(imagenet_config(tmp_path), "val")
    assert len(dataset) == 4
    image, label = dataset[3]
    assert image.shape == (3, 30, 40) and image.dtype == torch.float32
    assert 0.0 <= image.min() < image.max() <= 1.0
    assert label == 1


def test_imagenet_skips_corrupt_images(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_fake_imagenet(tmp_path)
    (tmp_path / "train" / "n01" / "n01_0.JPEG").write_bytes(b"not a jpeg")
    dataset = build_dataset(imagenet_config(tmp_path, input_size=32), "train")
    with caplog.at_level(logging.WARNING):
        images = [dataset[index][0] for index in range(len(dataset))]
    assert all(image.shape == (3, 32, 32) for image in images)
    assert "n01_0.JPEG" in caplog.text


@pytest.mark.parametrize(
    ("make_root", "message"),
    [
        (lambda tmp: "???", "data.root is not set"),
        (lambda tmp: tmp / "absent", "does not exist"),
        (lambda tmp: (tmp / "file").write_text("x") and tmp / "file", "not a directory"),
        (lambda tmp: tmp, "has no train/ folder"),
        (lambda tmp: (tmp / "train").mkdir() or tmp, "has no class folders"),
        (lambda tmp: (tmp / "train" / "n01").mkdir(parents=True) or tmp, "holds no images"),
    ],
)
def test_imagenet_layout_errors(tmp_path: Path, make_root: Any, message: str) -> None:
    with pytest.raises(InputError, match=message) as raised:
        build_dataset(imagenet_config(make_root(tmp_path)), "train")
    assert "data.root=/path/to/imagenet must contain train/<class>/*.JPEG" in str(raised.value)


def test_imagenet_class_count_and_split_mismatch(tmp_path: Path) -> None:
    write_fake_imagenet(tmp_path)
    with pytest.raises(InputError, match="set data.num_classes=2"):
        build_dataset(imagenet_config(tmp_path, num_classes=1000), "val")
    (tmp_path / "val" / "n03").mkdir()
    with pytest.raises(InputError, match="class folders of .* differ"):
        build_dataset(imagenet_config(tmp_path), "train")


# --- transforms and config ----------------------------------------------------------------


def test_transforms_output_size_and_range() -> None:
    image = torch.randint(0, 256, (3, 30, 40), dtype=torch.uint8)
    train = training_transform(24, [0.5] * 3, [0.5] * 3, "bicubic")(image)
    evaluation = evaluation_transform(24, [0.5] * 3, [0.5] * 3, "bilinear", 0.875)(image)
    assert train.shape == evaluation.shape == (3, 24, 24)
    assert evaluation.dtype == torch.float32 and evaluation.min() >= -1.0 - 1e-4
    with pytest.raises(InputError, match="interpolation"):
        evaluation_transform(24, [0.5] * 3, [0.5] * 3, "lanczos")


def test_unknown_dataset_name_lists_known_ones() -> None:
    with pytest.raises(InputError, match="embedded, imagenet, synthetic"):
        build_datamodule(data_config("synthetic", name="cifar"))


def test_loader_options() -> None:
    cfg = data_config("synthetic", num_workers=0, persistent_workers=True, pin_memory=True)
    datamodule = ImageDataModule(cfg)
    loader = datamodule.train_dataloader()
    assert loader.drop_last and not loader.persistent_workers
    assert loader.pin_memory == torch.cuda.is_available()
    assert not datamodule.val_dataloader().drop_last
