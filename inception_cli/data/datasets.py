"""Datasets from the `data` config group (conf/data/*.yaml), through the data set `data.name`
selects. Importing this module does not import torch; building a dataset does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from inception_cli.data.registry import EvaluationImages, dataset_entry
from inception_cli.data.spec import SPLITS, DataSpec, as_dict, check_split
from inception_cli.errors import InputError

if TYPE_CHECKING:
    from torch.utils.data import Dataset

PIXELS = ("float", "uint8")


def read_spec(data_cfg: Mapping[str, Any]) -> DataSpec:
    """The `data` config read and checked; an unknown `data.name` is the first thing reported."""
    dataset_entry(as_dict(data_cfg).get("name"))
    return DataSpec.from_config(data_cfg)


def check_data_config(data_cfg: Mapping[str, Any]) -> None:
    """InputError unless the config can give both splits: the keys, the augmentation and
    backend (a GPU and DALI for data.backend=dali), and the data set's own requirements (for
    ImageNet, a root with train/ and val/ class folders). Imports no torch."""
    spec = read_spec(data_cfg)
    entry = dataset_entry(spec.name)
    entry.check_support(spec)
    entry.check(spec, SPLITS)


def build_dataset(
    data_cfg: Mapping[str, Any], split: str, *, pixels: str = "float"
) -> Dataset[Any]:
    """The dataset a network trains or validates on; the training split is augmented as
    data.augment says.

    pixels="float": (normalised float image (in_chans, input_size, input_size), label), each
    sample finished on the CPU. pixels="uint8": the samples as the loaders carry them (see
    `DataSet`), to be finished a batch at a time on the device (data/finishing.py); the
    training data module reads these.
    """
    check_split(split)
    if pixels not in PIXELS:
        raise InputError(f"pixels={pixels!r}; use one of {', '.join(PIXELS)}")
    spec = read_spec(data_cfg)
    if pixels == "float":  # finished here, so decoded here too, whatever data.backend says
        spec = replace(spec, backend="cpu")
    entry = dataset_entry(spec.name)
    entry.check_support(spec)
    entry.check(spec, (split,))
    augment = spec.augment is not None and split == "train"
    dataset = entry.training_split(spec, split, augment=augment)
    if pixels == "uint8":
        return dataset
    from inception_cli.data.finishing import FinishedSamples

    return FinishedSamples(dataset, spec.mean, spec.std)


def build_evaluation_images(data_cfg: Mapping[str, Any], split: str = "val") -> EvaluationImages:
    """The images of `split` at their original size, in [0, 1]: multi-crop evaluation crops
    them and then normalises with each network's mean and std."""
    check_split(split)
    spec = read_spec(data_cfg)
    return dataset_entry(spec.name).evaluation_images(spec, split)
