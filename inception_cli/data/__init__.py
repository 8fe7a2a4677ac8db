"""Datasets and transforms: the embedded Fashion-MNIST subset, ImageNet folders, synthetic data.

    from inception_cli.data import build_dataset, build_image_dataset
    train_set = build_dataset(cfg.data, "train")        # augmented, normalised, input_size
    images = build_image_dataset(cfg.data, "val")       # [0, 1], original size, for multi-crop

The LightningDataModule that wraps these is `inception_cli.lit.datamodule.build_datamodule`.
"""

from inception_cli.data.datasets import (
    DATASET_NAMES,
    DataSpec,
    build_dataset,
    build_image_dataset,
)
from inception_cli.data.embedded import CLASS_NAMES_FASHION_MNIST

__all__ = [
    "CLASS_NAMES_FASHION_MNIST",
    "DATASET_NAMES",
    "DataSpec",
    "build_dataset",
    "build_image_dataset",
]
