"""The `data` config read into a DataSpec, and the splits a data set has (no torch here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from inception_cli.errors import InputError

SPLITS = ("train", "val")
REQUIRED_KEYS = ("num_classes", "in_chans", "input_size", "mean", "std")
# data.augment: true is the random-resized crop and flip, false none; `inception` is TF-slim's
# Inception preprocessing (data/inception_preprocessing.py), `inception_fast` its fast mode.
TF_SLIM_AUGMENTATIONS = ("inception", "inception_fast")
AUGMENTATIONS = ("standard", *TF_SLIM_AUGMENTATIONS)
BACKENDS = ("cpu", "dali")
AUGMENTATION_CHOICES = "true, false, " + " or ".join(TF_SLIM_AUGMENTATIONS)
AUGMENT_HINT = (
    "use true (random-resized crop and flip), false, inception (TF-slim's Inception "
    "preprocessing) or inception_fast (its fast mode)"
)


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")


def as_dict(node: Mapping[str, Any] | None) -> dict[str, Any]:
    """A config node (a DictConfig, any Mapping, or None) as a plain dict, interpolations
    resolved; a mandatory value left unset ('???') stays the string '???'."""
    if isinstance(node, DictConfig):
        container = OmegaConf.to_container(node, resolve=True, throw_on_missing=False)
        assert isinstance(container, dict)
        return {str(key): value for key, value in container.items()}
    return dict(node or {})


def _is_set(value: Any) -> bool:
    return value not in (None, "???")


def _optional_int(value: Any) -> int | None:
    return int(value) if _is_set(value) else None


def read_augment(value: Any) -> str | None:
    """data.augment as the augmentation it names: "standard" (true), a TF-slim one, or None."""
    if value is None or value is False or value == "false":
        return None
    if value is True or value == "true":
        return "standard"
    if value in TF_SLIM_AUGMENTATIONS:
        return str(value)
    raise InputError(f"data.augment={value!r} is not an augmentation; {AUGMENT_HINT}")


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
    augment: str | None  # "standard", "inception", "inception_fast", or None: no augmentation
    color_jitter: float = 0.0
    num_train: int = 256
    num_val: int = 64
    seed: int = 0
    backend: str = "cpu"  # who decodes and augments: the loader workers, or DALI on the GPU
    max_image_pixels: int | None = None  # larger images are skipped; None: Pillow's limit

    @property
    def tf_slim(self) -> bool:
        """TF-slim's preprocessing: its training augmentation and its evaluation crop."""
        return self.augment in TF_SLIM_AUGMENTATIONS

    @classmethod
    def from_config(cls, data_cfg: Mapping[str, Any]) -> DataSpec:
        """Read and check a `data` config (a DictConfig or any Mapping); data/datasets.py's
        `read_spec` reports an unknown `data.name` first."""
        cfg = as_dict(data_cfg)
        missing = [key for key in REQUIRED_KEYS if not _is_set(cfg.get(key))]
        if missing:
            raise InputError(
                f"data.{missing[0]} is not set (the data config needs {', '.join(REQUIRED_KEYS)})"
            )
        spec = cls(
            name=str(cfg["name"]),
            root=str(cfg["root"]) if _is_set(cfg.get("root")) else None,
            num_classes=int(cfg["num_classes"]),
            in_chans=int(cfg["in_chans"]),
            input_size=int(cfg["input_size"]),
            mean=[float(value) for value in cfg["mean"]],
            std=[float(value) for value in cfg["std"]],
            crop_fraction=float(cfg.get("crop_fraction", 0.875)),
            interpolation=str(cfg.get("interpolation", "bilinear")),
            augment=read_augment(cfg.get("augment", False)),
            color_jitter=float(cfg.get("color_jitter", 0.0)),
            num_train=int(cfg.get("num_train", 256)),
            num_val=int(cfg.get("num_val", 64)),
            seed=int(cfg.get("seed", 0)),
            backend=str(cfg.get("backend", "cpu")),
            max_image_pixels=_optional_int(cfg.get("max_image_pixels")),
        )
        spec._check_values()
        return spec

    def _check_values(self) -> None:
        if len(self.mean) != self.in_chans or len(self.std) != self.in_chans:
            raise InputError(
                f"data.mean and data.std need data.in_chans={self.in_chans} values each, "
                f"got {len(self.mean)} and {len(self.std)}"
            )
        if any(value <= 0 for value in self.std):
            raise InputError(f"data.std={self.std} must be positive")
        if self.num_classes < 1 or self.input_size < 1:
            raise InputError("data.num_classes and data.input_size must be positive")
        if self.max_image_pixels is not None and self.max_image_pixels < 1:
            raise InputError(
                f"data.max_image_pixels={self.max_image_pixels} must be positive (null: Pillow's "
                "limit, about 89 million)"
            )
        if self.backend not in BACKENDS:
            raise InputError(f"data.backend={self.backend!r}; use one of {', '.join(BACKENDS)}")
        if self.tf_slim and (set(self.mean) != {0.5} or set(self.std) != {0.5}):
            raise InputError(
                f"data.augment={self.augment} scales images to [-1, 1] as TF-slim does: set "
                "data.mean and data.std to 0.5 for every channel"
            )
