"""The LightningDataModule: train and validation loaders for any dataset of the `data` config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from inception_cli.data import DataSpec, build_dataset
from inception_cli.data.datasets import as_dict
from inception_cli.errors import InputError


class ImageDataModule(L.LightningDataModule):
    """Builds the datasets of `data.name` (embedded, imagenet or synthetic) in `setup`.

    Under DDP Lightning replaces the training sampler with a DistributedSampler that shuffles,
    so the loaders here are written for a single process.
    """

    def __init__(self, data_cfg: Mapping[str, Any]) -> None:
        super().__init__()
        self.cfg = as_dict(data_cfg)
        self.spec = DataSpec.from_config(self.cfg)  # fails early on a bad config
        self.batch_size = int(self.cfg.get("batch_size", 32))
        self.num_workers = int(self.cfg.get("num_workers", 0))
        if self.batch_size < 1 or self.num_workers < 0:
            raise InputError(
                f"data.batch_size={self.batch_size} must be >= 1 and "
                f"data.num_workers={self.num_workers} >= 0"
            )
        # Pinning only helps copies to a GPU; without one torch warns on every loader.
        self.pin_memory = bool(self.cfg.get("pin_memory", False)) and torch.cuda.is_available()
        self.persistent_workers = (
            bool(self.cfg.get("persistent_workers", False)) and self.num_workers > 0
        )
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None

    @property
    def num_classes(self) -> int:
        return self.spec.num_classes

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit") and self.train_set is None:
            self.train_set = build_dataset(self.cfg, "train")
        if stage in (None, "fit", "validate") and self.val_set is None:
            self.val_set = build_dataset(self.cfg, "val")

    def train_dataloader(self) -> DataLoader:
        if self.train_set is None:
            self.setup("fit")
        assert self.train_set is not None
        return self._loader(self.train_set, train=True)

    def val_dataloader(self) -> DataLoader:
        if self.val_set is None:
            self.setup("validate")
        assert self.val_set is not None
        return self._loader(self.val_set, train=False)

    def _loader(self, dataset: Dataset, train: bool) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=train,
            drop_last=train,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers,
        )


def build_datamodule(data_cfg: Mapping[str, Any]) -> ImageDataModule:
    """The data module for the `data` config group (a DictConfig or any Mapping)."""
    return ImageDataModule(data_cfg)
