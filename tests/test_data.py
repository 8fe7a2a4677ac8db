"""The data layer: the registry of data sets, the embedded, ImageNet-folder and synthetic data
sets, transforms, the config check the CLI runs, and the data module."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image
from torchvision import transforms as v1
from torchvision.io import write_jpeg
from torchvision.transforms import InterpolationMode, v2

from inception_cli.data import (
    CLASS_NAMES_FASHION_MNIST,
    DataSpec,
    build_dataset,
    build_evaluation_images,
    check_data_config,
    dataset_names,
)
from inception_cli.data.crops import single_crop_scale
from inception_cli.data.fashion_mnist import load_fashion_mnist_subset
from inception_cli.data.image_folder import read_rgb_image
from inception_cli.data.transforms import (
    evaluation_transform,
    resized_crop_box,
    training_transform,
)
from inception_cli.errors import InputError
from inception_cli.training.datamodule import ImageDataModule, build_datamodule
from inception_cli.training.sampling import sample_seed

CONF = Path(__file__).resolve().parents[1] / "conf" / "data"
ONE_STEP = 1 / 255  # one step of an 8-bit image


def data_config(config_name: str, /, **overrides: Any) -> dict[str, Any]:
    """A shipped data config as a plain dict, with some keys replaced."""
    loaded = OmegaConf.load(CONF / f"{config_name}.yaml")
    cfg = loaded.data if "data" in loaded else loaded  # a global package nests its keys
    plain = OmegaConf.to_container(cfg, throw_on_missing=False)
    assert isinstance(plain, dict)
    return {**plain, **overrides}


# --- the registry -------------------------------------------------------------------------


def test_every_data_preset_names_a_registered_data_set_and_back() -> None:
    preset_names = {data_config(path.stem)["name"] for path in CONF.glob("*.yaml")}
    assert preset_names <= set(dataset_names()), "a conf/data preset names no data set"
    assert set(dataset_names()) <= preset_names, "a data set has no conf/data preset"


def test_unknown_dataset_name_lists_known_ones() -> None:
    with pytest.raises(InputError, match="embedded, imagenet, shards, synthetic"):
        build_datamodule(data_config("synthetic", name="cifar"))


def test_checking_a_config_imports_no_torch(tmp_path: Path) -> None:
    write_fake_imagenet(tmp_path)
    code = (
        "import sys\n"
        "from inception_cli.data import check_data_config\n"
        f"check_data_config({imagenet_config(tmp_path)!r})\n"
        f"check_data_config({data_config('embedded')!r})\n"
        "print(sorted(name for name in ('torch', 'torchvision') if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- data.augment on the command line -----------------------------------------------------


@pytest.mark.parametrize("value", ["true", "false", "inception", "inception_fast"])
def test_every_augmentation_is_accepted_as_an_override(value: str) -> None:
    from inception_cli.config.compose import check_overrides, compose_train_config
    from inception_cli.config.rules import check_values

    check_overrides([f"data.augment={value}"])
    check_values(compose_train_config([f"data.augment={value}"]))


def test_an_unknown_augmentation_is_refused_with_the_choices() -> None:
    from inception_cli.config.compose import compose_train_config
    from inception_cli.config.rules import check_values

    with pytest.raises(InputError, match="true, false, inception or inception_fast"):
        check_values(compose_train_config(["data.augment=maybe"]))


def test_config_show_takes_data_augment_inception(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "inception_cli", "config", "show", "data.augment=inception"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "augment: inception" in done.stdout


def test_every_image_data_preset_names_its_backend() -> None:
    for name in ("imagenet", "shards"):
        assert data_config(name)["backend"] == "cpu"


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
    assert images.shape == (64, 1, 75, 75) and images.dtype == torch.uint8  # as carried
    images, labels = datamodule.on_after_batch_transfer((images, labels), 0)  # on the device
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


def test_embedded_plain_split_is_pil_resize_then_centre_crop() -> None:
    # torch and PIL both resize uint8 images in two passes and round each to 8 bits: one step
    # each at most, and normalising with std 0.5 doubles the difference.
    cfg = data_config("embedded", augment=False, crop_fraction=0.875)
    dataset = build_dataset(cfg, "val")
    stored, _ = load_fashion_mnist_subset("val")
    resized = single_crop_scale(75, 0.875)
    offset = round((resized - 75) / 2)
    for index in (0, 7, 999):
        pil = Image.fromarray(stored[index].numpy()).resize((resized, resized), Image.BILINEAR)
        crop = np.asarray(pil.crop((offset, offset, offset + 75, offset + 75)))
        expected = (torch.from_numpy(crop.copy()).float() / 255 - 0.5) / 0.5
        torch.testing.assert_close(
            dataset[index][0][0], expected, rtol=0, atol=2 * 2 * ONE_STEP + 1e-6
        )


def test_embedded_augmentation_varies_only_training_images() -> None:
    augmented = build_dataset(data_config("embedded"), "train")
    plain = build_dataset(data_config("embedded", augment=False), "train")
    torch.manual_seed(0)
    draws = {augmented[3][0].sum().item() for _ in range(10)}
    assert len(draws) > 1
    torch.manual_seed(1)
    first = plain[3][0]
    torch.manual_seed(2)
    assert torch.equal(plain[3][0], first), "without augmentation the random state plays no part"
    # the mean of the augmented image is the mean of a shifted copy: close to the plain one
    assert abs(augmented[3][0].mean() - first.mean()) < 0.2


def test_embedded_three_channels_repeat_the_grey_image() -> None:
    cfg = data_config("embedded", in_chans=3, mean=[0.5] * 3, std=[0.5] * 3, augment=False)
    image, _ = build_dataset(cfg, "val")[0]
    assert image.shape == (3, 75, 75)
    assert torch.equal(image[0], image[2])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mean": [0.5] * 3}, "in_chans"),
        ({"in_chans": 2, "mean": [0.5] * 2, "std": [0.5] * 2}, "use 1, or 3"),
    ],
)
def test_embedded_channel_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        build_dataset(data_config("embedded", **overrides), "train")
    with pytest.raises(InputError, match=message):
        check_data_config(data_config("embedded", **overrides))


def test_embedded_evaluation_images_are_original_and_unnormalised() -> None:
    images = build_evaluation_images(data_config("embedded"), "val")
    image, label = images.dataset[5]
    stored_images, stored_labels = load_fashion_mnist_subset("val")
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert torch.equal(image[0] * 255, stored_images[5].float())
    assert label == stored_labels[5]
    assert (images.num_classes, images.max_label, images.in_chans) == (10, 9, 1)
    assert images.description("val") == {"name": "embedded", "root": None, "split": "val"}


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


def test_synthetic_datamodule_and_evaluation_images() -> None:
    datamodule = build_datamodule(data_config("synthetic", num_train=8, num_val=4, batch_size=4))
    datamodule.setup("fit")
    images, labels = next(iter(datamodule.train_dataloader()))
    assert images.shape == (4, 3, 75, 75) and labels.shape == (4,)
    cfg = data_config("synthetic")
    raw, raw_label = build_evaluation_images(cfg, "val").dataset[0]
    normalised, label = build_dataset(cfg, "val")[0]
    assert raw.shape == (3, 75, 75) and raw.min() >= 0.0 and raw.max() <= 1.0
    torch.testing.assert_close(normalised, (raw - 0.5) / 0.5)  # the same image, normalised
    assert raw_label == label


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
        assert images.shape == (2, 3, 75, 75) and images.dtype == torch.uint8
        images, labels = datamodule.on_after_batch_transfer((images, labels), 0)
        assert images.shape == (2, 3, 75, 75) and images.dtype == torch.float32
        assert images.min() >= -1.0 - 1e-4 and images.max() <= 1.0 + 1e-4
        assert set(labels.tolist()) <= {0, 1}


def test_imagenet_evaluation_images_keep_original_size(tmp_path: Path) -> None:
    write_fake_imagenet(tmp_path)
    images = build_evaluation_images(imagenet_config(tmp_path), "val")
    assert len(images.dataset) == 4
    image, label = images.dataset[3]
    assert image.shape == (3, 30, 40) and image.dtype == torch.float32
    assert 0.0 <= image.min() < image.max() <= 1.0
    assert label == 1
    assert (images.num_classes, images.max_label, images.in_chans) == (2, 1, 3)
    assert images.description("val") == {
        "name": "imagenet",
        "root": str(tmp_path / "val"),
        "split": "val",
        "layout": "folders",
    }


def test_imagenet_skips_corrupt_images(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_fake_imagenet(tmp_path)
    (tmp_path / "train" / "n01" / "n01_0.JPEG").write_bytes(b"not a jpeg")
    dataset = build_dataset(imagenet_config(tmp_path, input_size=32), "train")
    with caplog.at_level(logging.WARNING):
        images = [dataset[index][0] for index in range(len(dataset))]
    assert all(image.shape == (3, 32, 32) for image in images)
    assert "n01_0.JPEG" in caplog.text


LAYOUT_ERRORS = [
    (lambda tmp: "???", "data=imagenet needs data.root"),
    (lambda tmp: tmp / "absent", "train is missing or empty: .* does not exist"),
    (lambda tmp: (tmp / "file").write_text("x") and tmp / "file", "is not a directory"),
    (lambda tmp: tmp, "has no train/ folder"),
    (lambda tmp: (tmp / "train").mkdir() or tmp, "has no class folders"),
]


@pytest.mark.parametrize(("make_root", "message"), LAYOUT_ERRORS)
def test_imagenet_layout_errors(tmp_path: Path, make_root: Any, message: str) -> None:
    cfg = imagenet_config(make_root(tmp_path))
    for check in (lambda: build_dataset(cfg, "train"), lambda: check_data_config(cfg)):
        with pytest.raises(InputError, match=message) as raised:
            check()
        assert "data.root=/path/to/imagenet must contain train/<class>/*.JPEG" in str(raised.value)


def test_imagenet_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "train" / "n01").mkdir(parents=True)
    with pytest.raises(InputError, match="holds no images"):
        build_dataset(imagenet_config(tmp_path), "train")


def test_config_check_needs_both_splits(tmp_path: Path) -> None:
    write_fake_imagenet(tmp_path)
    check_data_config(imagenet_config(tmp_path))
    for child in (tmp_path / "val").iterdir():
        for file in child.iterdir():
            file.unlink()
        child.rmdir()
    with pytest.raises(InputError, match="val is missing or empty"):
        check_data_config(imagenet_config(tmp_path))
    build_dataset(imagenet_config(tmp_path), "train")  # training alone still reads its split


def test_imagenet_class_count_channels_and_split_mismatch(tmp_path: Path) -> None:
    write_fake_imagenet(tmp_path)
    with pytest.raises(InputError, match="set data.num_classes=2"):
        build_dataset(imagenet_config(tmp_path, num_classes=1000), "val")
    grey = imagenet_config(tmp_path, in_chans=1, mean=[0.5], std=[0.5])
    with pytest.raises(InputError, match="RGB, use 3"):
        check_data_config(grey)
    (tmp_path / "val" / "n03").mkdir()
    with pytest.raises(InputError, match="class folders of .* differ"):
        build_dataset(imagenet_config(tmp_path), "train")
    with pytest.raises(InputError, match="class folders of .* differ"):
        check_data_config(imagenet_config(tmp_path))


# --- transforms and loaders ---------------------------------------------------------------


def test_transforms_output_size_and_range() -> None:
    spec = DataSpec.from_config(data_config("imagenet", input_size=24, interpolation="bilinear"))
    image = torch.randint(0, 256, (3, 30, 40), dtype=torch.uint8)
    train = training_transform(spec)(image)
    evaluation = evaluation_transform(spec)(image)
    assert train.shape == evaluation.shape == (3, 24, 24)
    assert train.dtype == evaluation.dtype == torch.uint8  # scaled on the device
    lanczos = DataSpec.from_config(data_config("imagenet", interpolation="lanczos"))
    with pytest.raises(InputError, match="interpolation"):
        evaluation_transform(lanczos)


def test_resized_crop_boxes_are_torchvisions_under_the_same_seed() -> None:
    """The crop boxes are drawn without torchvision's call, with its draws."""
    sizes = [(375, 500), (240, 320), (8, 400), (400, 8), (299, 299), (1, 1)]
    for seed in range(600):
        height, width = sizes[seed % len(sizes)]
        torch.manual_seed(seed)
        theirs = v1.RandomResizedCrop.get_params(
            torch.empty(3, height, width), [0.08, 1.0], [3 / 4, 4 / 3]
        )
        after_theirs = torch.rand(1)
        torch.manual_seed(seed)
        assert resized_crop_box(height, width) == tuple(theirs)
        assert torch.equal(torch.rand(1), after_theirs)  # as many draws


def test_loader_options() -> None:
    cfg = data_config("synthetic", num_workers=0, persistent_workers=True, pin_memory=True)
    datamodule = ImageDataModule(cfg)
    loader = datamodule.train_dataloader()
    assert loader.drop_last and not loader.persistent_workers
    assert loader.pin_memory == torch.cuda.is_available()
    assert not datamodule.val_dataloader().drop_last


# --- the uint8 pipeline ---------------------------------------------------------------------


def float_pipeline(spec: DataSpec, augment: bool) -> v2.Compose:
    """The CPU pipeline as it was before batches went to the device as uint8: torchvision's
    transforms, then ToDtype and Normalize on each image."""
    mode = InterpolationMode(spec.interpolation)
    if augment:
        steps = [
            v2.RandomResizedCrop(spec.input_size, interpolation=mode),
            v2.RandomHorizontalFlip(),
        ]
    else:
        resize = single_crop_scale(spec.input_size, spec.crop_fraction)
        steps = [v2.Resize(resize, interpolation=mode), v2.CenterCrop(spec.input_size)]
    to_float = [v2.ToDtype(torch.float32, scale=True), v2.Normalize(spec.mean, spec.std)]
    return v2.Compose([v2.ToImage(), *steps, *to_float])


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_uint8_batches_finished_on_the_device_equal_the_float_pipeline(
    tmp_path: Path, interpolation: str
) -> None:
    """Training and validation batches, carried as uint8 and normalised after the transfer,
    equal what the float pipeline gave per image, within float rounding."""
    write_fake_imagenet(tmp_path)
    cfg = imagenet_config(tmp_path, input_size=24, interpolation=interpolation, batch_size=3)
    spec = DataSpec.from_config(cfg)
    datamodule = build_datamodule(cfg, seed=7)
    datamodule.setup("fit")
    for split, loader in (
        ("train", datamodule.train_dataloader()),
        ("val", datamodule.val_dataloader()),
    ):
        raw = build_dataset(cfg, split, pixels="uint8")
        uint8_batch, labels = next(iter(loader))
        finished, _ = datamodule.on_after_batch_transfer((uint8_batch, labels), 0)
        keys = list(loader.sampler)[: len(labels)]
        expected = []
        for epoch, index in keys:
            path, _ = raw.samples[index]
            with torch.random.fork_rng(devices=[]):
                torch.default_generator.manual_seed(sample_seed(7, epoch, index))
                expected.append(float_pipeline(spec, split == "train")(read_rgb_image(path)))
        torch.testing.assert_close(finished, torch.stack(expected), rtol=0, atol=1e-6)
        # and the float samples that code outside training asks for are the same numbers
        floats = build_dataset(cfg, split)
        if split == "val":
            torch.testing.assert_close(finished[0], floats[keys[0][1]][0], rtol=0, atol=0)


def test_uint8_batches_are_a_quarter_of_the_bytes() -> None:
    datamodule = build_datamodule(data_config("synthetic", num_train=8, num_val=4, batch_size=4))
    datamodule.setup("fit")
    images, labels = next(iter(datamodule.train_dataloader()))
    finished, _ = datamodule.on_after_batch_transfer((images, labels), 0)
    assert images.element_size() * 4 == finished.element_size()
