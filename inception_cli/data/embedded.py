"""The embedded default dataset: a class-balanced subset of Fashion-MNIST stored in the package.

5,000 training and 1,000 validation images (28 x 28, grey, 10 classes); see assets/README.md
for the source, licence and how the subset was drawn. The whole split lives in memory as one
uint8 tensor, resized once to the network's input size, so that a CPU run spends its time in
the network and not in the data pipeline.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision.transforms.v2 import functional as TF

from inception_cli.data.transforms import interpolation_mode, normalize, resize_size_for_crop
from inception_cli.errors import InputError

CLASS_NAMES_FASHION_MNIST = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
SPLITS = ("train", "val")
ASSET_NAME = "fashion_mnist_subset.npz"

# Largest random shift of the training augmentation, as a fraction of the input size:
# about 2 of the original 28 pixels, enough to stop the network memorising positions
# without pushing garments out of the frame.
MAX_SHIFT_FRACTION = 0.08


def load_fashion_mnist_subset(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The stored images (N, 28, 28) uint8 and labels (N,) int64 of `split` ("train" or "val")."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r} of the embedded dataset; use one of {SPLITS}")
    asset = resources.files("inception_cli.data").joinpath("assets", ASSET_NAME)
    with resources.as_file(asset) as path, np.load(path) as arrays:
        images = torch.from_numpy(arrays[f"{split}_images"].copy())
        labels = torch.from_numpy(arrays[f"{split}_labels"].astype(np.int64))
    return images, labels


def _check_in_chans(in_chans: int) -> None:
    if in_chans not in (1, 3):
        raise InputError(
            f"data.in_chans={in_chans} does not fit the embedded grey images; use 1, or 3 to "
            "repeat the grey channel"
        )


class EmbeddedFashionMNIST(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """One split, resized to `input_size` and normalised; (image (C, S, S) float, label).

    Training augmentation (`augment=True`): a random shift of up to MAX_SHIFT_FRACTION of the
    input size (zero padding, the images' background) and a random horizontal flip, done with
    tensor slicing on the stored uint8 split. Without augmentation the image is resized to
    input_size / crop_fraction and centre-cropped, as at evaluation.
    """

    def __init__(
        self,
        split: str,
        input_size: int,
        mean: list[float],
        std: list[float],
        in_chans: int = 1,
        interpolation: str = "bilinear",
        crop_fraction: float = 1.0,
        augment: bool = False,
    ) -> None:
        _check_in_chans(in_chans)
        if len(mean) != in_chans or len(std) != in_chans:
            raise InputError(
                f"data.mean and data.std need data.in_chans={in_chans} values each, "
                f"got {len(mean)} and {len(std)}"
            )
        self.mean = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1)
        images, self.labels = load_fashion_mnist_subset(split)
        self.input_size = input_size
        self.in_chans = in_chans
        self.augment = augment
        mode = interpolation_mode(interpolation)
        images = images.unsqueeze(1)  # (N, 1, 28, 28)
        if augment:
            self.max_shift = round(MAX_SHIFT_FRACTION * input_size)
            images = TF.resize(images, [input_size, input_size], interpolation=mode)
            self.images = TF.pad(images, [self.max_shift], fill=0)
        else:
            self.max_shift = 0
            resized = resize_size_for_crop(input_size, crop_fraction)
            images = TF.resize(images, [resized, resized], interpolation=mode)
            self.images = TF.center_crop(images, [input_size, input_size]).contiguous()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index]
        if self.augment:
            top, left = torch.randint(0, 2 * self.max_shift + 1, (2,)).tolist()
            image = image[:, top : top + self.input_size, left : left + self.input_size]
            if torch.rand(()) < 0.5:
                image = image.flip(-1)
        image = image.expand(self.in_chans, -1, -1)
        return normalize(image, self.mean, self.std), self.labels[index]


class EmbeddedOriginalImages(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """One split as stored: (image (1, 28, 28) float in [0, 1], label), for multi-crop eval."""

    def __init__(self, split: str, in_chans: int = 1) -> None:
        _check_in_chans(in_chans)
        self.images, self.labels = load_fashion_mnist_subset(split)
        self.in_chans = in_chans

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index].unsqueeze(0).expand(self.in_chans, -1, -1)
        return image.float() / 255.0, self.labels[index]
