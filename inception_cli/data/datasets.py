"""Datasets from the `data` config group (conf/data/*.yaml), through the data set `data.name`
selects. Importing this module does not import torch; building a dataset does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from inception_cli.data.registry import EvaluationImages, dataset_entry
from inception_cli.data.spec import SPLITS, DataSpec, check_split

if TYPE_CHECKING:
    from torch.utils.data import Dataset


def check_data_config(data_cfg: Mapping[str, Any]) -> None:
    """InputError unless the config can give both splits: the keys, and the data set's own
    requirements (for ImageNet, a root with train/ and val/ class folders). Imports no torch."""
    spec = DataSpec.from_config(data_cfg)
    dataset_entry(spec.name).check(spec, SPLITS)


def build_dataset(data_cfg: Mapping[str, Any], split: str) -> Dataset[Any]:
    """The dataset a network trains or validates on: (normalised float image, label) of
    (in_chans, input_size, input_size); the training split is augmented when data.augment."""
    check_split(split)
    spec = DataSpec.from_config(data_cfg)
    entry = dataset_entry(spec.name)
    entry.check(spec, (split,))
    return entry.training_split(spec, split, augment=spec.augment and split == "train")


def build_evaluation_images(data_cfg: Mapping[str, Any], split: str = "val") -> EvaluationImages:
    """The images of `split` at their original size, in [0, 1]: multi-crop evaluation crops
    them and then normalises with each network's mean and std."""
    check_split(split)
    spec = DataSpec.from_config(data_cfg)
    return dataset_entry(spec.name).evaluation_images(spec, split)
