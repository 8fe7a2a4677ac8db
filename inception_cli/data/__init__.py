"""Data sets of the `data` config group (conf/data/*.yaml), by `data.name`: the embedded
Fashion-MNIST subset, ImageNet folders, the same packed into tar shards (`inception data pack`)
and synthetic images. One module per data set in inception_cli/data/sets; importing this
package does not import torch. docs/data.md describes them.

    from inception_cli.data import build_dataset, build_evaluation_images, check_data_config
    check_data_config(cfg.data)                        # torch-free, before training starts
    train_set = build_dataset(cfg.data, "train")        # augmented, normalised, input_size
    loader_set = build_dataset(cfg.data, "train", pixels="uint8")  # as the loaders carry it
    images = build_evaluation_images(cfg.data, "val")   # [0, 1], original size, for multi-crop

The LightningDataModule that wraps these is `inception_cli.training.datamodule.build_datamodule`.
"""

from inception_cli.data.datasets import (
    build_dataset,
    build_evaluation_images,
    check_data_config,
    read_spec,
)
from inception_cli.data.registry import DataSet, EvaluationImages, dataset_entry, dataset_names
from inception_cli.data.sets.embedded import CLASS_NAMES_FASHION_MNIST
from inception_cli.data.spec import SPLITS, DataSpec

__all__ = [
    "CLASS_NAMES_FASHION_MNIST",
    "SPLITS",
    "DataSet",
    "DataSpec",
    "EvaluationImages",
    "build_dataset",
    "build_evaluation_images",
    "check_data_config",
    "dataset_entry",
    "dataset_names",
    "read_spec",
]
