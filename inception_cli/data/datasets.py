"""Build a dataset from the `data` config group (conf/data/*.yaml), by `data.name`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf
from torch.utils.data import Dataset

from inception_cli.data.embedded import EmbeddedFashionMNIST, EmbeddedOriginalImages
from inception_cli.data.imagenet import imagenet_dataset, to_unit_float
from inception_cli.data.synthetic import SyntheticImages
from inception_cli.data.transforms import evaluation_transform, training_transform
from inception_cli.errors import InputError

DATASET_NAMES = ("embedded", "imagenet", "synthetic")
SPLITS = ("train", "val")


@dataclass(frozen=True)
class DataSpec:
    """The keys of the `data` config that decide what a dataset holds and how it is shaped."""

    name: str
    root: str | None
    num_classes: int
    in_chans: int
    input_size: int
    mean: list[float]
    std: list[float]
    crop_fraction: float
    interpolation: str
    augment: bool
    color_jitter: float = 0.0
    num_train: int = 256
    num_val: int = 64
    seed: int = 0

    @classmethod
    def from_config(cls, data_cfg: Mapping[str, Any]) -> DataSpec:
        """Read and check a `data` config (a DictConfig or any Mapping)."""
        cfg = as_dict(data_cfg)
        name = cfg.get("name")
        if name not in DATASET_NAMES:
            raise InputError(
                f"unknown data.name={name!r}; known datasets: {', '.join(DATASET_NAMES)}"
            )
        required = ("num_classes", "in_chans", "input_size", "mean", "std")
        missing = [key for key in required if cfg.get(key) in (None, "???")]
        if missing:
            raise InputError(
                f"data.{missing[0]} is not set (the data config needs {', '.join(required)})"
            )
        spec = cls(
            name=name,
            root=None if cfg.get("root") in (None, "???") else str(cfg["root"]),
            num_classes=int(cfg["num_classes"]),
            in_chans=int(cfg["in_chans"]),
            input_size=int(cfg["input_size"]),
            mean=[float(value) for value in cfg["mean"]],
            std=[float(value) for value in cfg["std"]],
            crop_fraction=float(cfg.get("crop_fraction", 0.875)),
            interpolation=str(cfg.get("interpolation", "bilinear")),
            augment=bool(cfg.get("augment", False)),
            color_jitter=float(cfg.get("color_jitter", 0.0)),
            num_train=int(cfg.get("num_train", 256)),
            num_val=int(cfg.get("num_val", 64)),
            seed=int(cfg.get("seed", 0)),
        )
        if len(spec.mean) != spec.in_chans or len(spec.std) != spec.in_chans:
            raise InputError(
                f"data.mean and data.std need data.in_chans={spec.in_chans} values each, "
                f"got {len(spec.mean)} and {len(spec.std)}"
            )
        if any(value <= 0 for value in spec.std):
            raise InputError(f"data.std={spec.std} must be positive")
        if spec.num_classes < 1 or spec.input_size < 1:
            raise InputError("data.num_classes and data.input_size must be positive")
        return spec


def as_dict(data_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict of the config; a mandatory value left unset ('???') stays the string '???'."""
    if isinstance(data_cfg, DictConfig):
        container = OmegaConf.to_container(data_cfg, resolve=True, throw_on_missing=False)
        assert isinstance(container, dict)
        return {str(key): value for key, value in container.items()}
    return dict(data_cfg)


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")


def build_dataset(data_cfg: Mapping[str, Any], split: str) -> Dataset:
    """The dataset a network trains or validates on: (normalised float image, label) of
    (in_chans, input_size, input_size); the training split is augmented when data.augment."""
    _check_split(split)
    spec = DataSpec.from_config(data_cfg)
    augment = spec.augment and split == "train"
    if spec.name == "embedded":
        return EmbeddedFashionMNIST(
            split,
            input_size=spec.input_size,
            mean=spec.mean,
            std=spec.std,
            in_chans=spec.in_chans,
            interpolation=spec.interpolation,
            crop_fraction=spec.crop_fraction,
            augment=augment,
        )
    if spec.name == "imagenet":
        if spec.in_chans != 3:
            raise InputError(f"data.in_chans={spec.in_chans}: ImageFolder images are RGB, use 3")
        if augment:
            transform = training_transform(
                spec.input_size, spec.mean, spec.std, spec.interpolation, spec.color_jitter
            )
        else:
            transform = evaluation_transform(
                spec.input_size, spec.mean, spec.std, spec.interpolation, spec.crop_fraction
            )
        return imagenet_dataset(spec.root, split, transform, spec.num_classes)
    return synthetic_dataset(spec, split, normalised=True)


def build_image_dataset(data_cfg: Mapping[str, Any], split: str = "val") -> Dataset:
    """(image, label) with image a float tensor (C, H, W) in [0, 1] at its original size: not
    resized, cropped or normalised. Multi-crop evaluation makes its crops from these and then
    normalises with data.mean and data.std."""
    _check_split(split)
    spec = DataSpec.from_config(data_cfg)
    if spec.name == "embedded":
        return EmbeddedOriginalImages(split, in_chans=spec.in_chans)
    if spec.name == "imagenet":
        return imagenet_dataset(spec.root, split, to_unit_float, spec.num_classes)
    return synthetic_dataset(spec, split, normalised=False)


def synthetic_dataset(spec: DataSpec, split: str, *, normalised: bool) -> SyntheticImages:
    """The synthetic split: normalised with data.mean and data.std, or in [0, 1]."""
    return SyntheticImages(
        spec.num_train if split == "train" else spec.num_val,
        spec.num_classes,
        spec.in_chans,
        spec.input_size,
        split=split,
        seed=spec.seed,
        mean=spec.mean if normalised else None,
        std=spec.std if normalised else None,
    )
