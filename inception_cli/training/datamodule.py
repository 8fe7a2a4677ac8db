"""The LightningDataModule: train and validation loaders for any dataset of the `data` config.

The loaders carry uint8 batches (a quarter of the bytes of float32 to pin and copy); once a
batch is on the device, `on_after_batch_transfer` turns it into the normalised float32 batch
the network takes, with TF-slim's colour distortion where data.augment=inception drew one
(data/finishing.py). With data.backend=dali the loaders carry the files' bytes and the crops
drawn for them, and `transfer_batch_to_device` decodes them on the GPU (data/dali.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from inception_cli.data import build_dataset, read_spec
from inception_cli.data.collate import collate_samples
from inception_cli.data.finishing import BatchFinisher
from inception_cli.data.spec import as_dict
from inception_cli.errors import InputError
from inception_cli.training.sampling import EpochSampler, KeyedDataset, ResumableLoader


class ImageDataModule(L.LightningDataModule):
    """Builds the datasets of `data.name` in `setup`, and loaders whose order, augmentation and
    split over DDP ranks are functions of (seed, epoch, index) alone (training/sampling.py), so
    that a resumed run sees exactly the data it would have seen."""

    def __init__(self, data_cfg: Mapping[str, Any], seed: int = 0) -> None:
        super().__init__()
        self.cfg = as_dict(data_cfg)
        self.spec = read_spec(self.cfg)  # fails early on a bad config
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
        self.seed = seed
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None
        self.finish = BatchFinisher(self.spec.mean, self.spec.std)
        self._dali_decoder: Any = None

    @property
    def num_classes(self) -> int:
        return self.spec.num_classes

    def setup(self, stage: str | None = None) -> None:
        if stage in (None, "fit") and self.train_set is None:
            self.train_set = build_dataset(self.cfg, "train", pixels="uint8")
        if stage in (None, "fit", "validate") and self.val_set is None:
            self.val_set = build_dataset(self.cfg, "val", pixels="uint8")

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
        trainer = self.trainer
        sampler = EpochSampler(
            len(dataset),  # type: ignore[arg-type]
            seed=self.seed,
            shuffle=train,
            batch_size=self.batch_size,
            rank=trainer.global_rank if trainer is not None else 0,
            world_size=trainer.world_size if trainer is not None else 1,
            drop_last=train,
            position=self._position if train and trainer is not None else None,
        )
        return ResumableLoader(
            KeyedDataset(dataset, self.seed),
            batch_size=self.batch_size,
            sampler=sampler,
            drop_last=train,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers,
            # The loader's own draws (worker seeds) come from here, not from the generator
            # that dropout uses: making an iterator on resume must not shift dropout's draws.
            generator=torch.Generator().manual_seed(self.seed),
            collate_fn=self._collate(),
        )

    def _collate(self) -> Any:
        if self.spec.backend != "dali":
            return collate_samples  # stacks the uint8 images, keeping them channels-last
        from inception_cli.data.dali_inputs import collate_encoded

        return collate_encoded

    def transfer_batch_to_device(
        self, batch: Any, device: torch.device, dataloader_idx: int
    ) -> Any:
        """Encoded files (data.backend=dali) are decoded on the GPU; anything else is copied,
        except the colour distortions drawn for the images: they stay on the CPU
        (data/tf_color.py `distort_colors`)."""
        from inception_cli.data.dali_inputs import EncodedBatch
        from inception_cli.data.finishing import Distorted

        if not isinstance(batch, EncodedBatch):
            images, labels = batch
            if not isinstance(images, Distorted):
                return super().transfer_batch_to_device(batch, device, dataloader_idx)
            moved = super().transfer_batch_to_device((images.image, labels), device, dataloader_idx)
            return Distorted(moved[0], images.colors), moved[1]
        if self._dali_decoder is None:
            from inception_cli.data.dali import DaliDecoder

            self._dali_decoder = DaliDecoder(
                self.spec.input_size, self.spec.interpolation, self.batch_size
            )
        images = self._dali_decoder(batch, device)
        labels = batch.labels.to(device, non_blocking=True)
        if batch.colors is None:
            return images, labels
        return Distorted(images, batch.colors), labels

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """uint8 (or distorted uint8) images to normalised float32, on the device."""
        return self.finish(batch)

    def _position(self) -> tuple[int, int]:
        """(epoch, batches of it already trained) from the Trainer's progress counters, which
        a resumed run restores from its checkpoint before it makes the epoch's iterator."""
        trainer = self.trainer
        assert trainer is not None, "the training loader runs under a Trainer"
        progress = trainer.fit_loop.epoch_loop.batch_progress.current
        done = int(progress.processed)  # type: ignore[attr-defined]  # a _ProcessedTracker
        if done >= trainer.num_training_batches:  # a checkpoint from the end of an epoch
            return trainer.current_epoch + 1, 0
        return trainer.current_epoch, done

    def train_batches_per_epoch(self) -> int:
        """Batches of the training loader in one epoch, on each rank (before any limit)."""
        loader = self.train_dataloader()
        return len(loader)


def build_datamodule(data_cfg: Mapping[str, Any], seed: int = 0) -> ImageDataModule:
    """The data module for the `data` config group (a DictConfig or any Mapping)."""
    return ImageDataModule(data_cfg, seed)
