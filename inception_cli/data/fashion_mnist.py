"""Fashion-MNIST subset tensors: the embedded data set (inception_cli/data/sets/embedded.py).

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

from inception_cli.data.crops import single_crop_scale
from inception_cli.data.spec import DataSpec, check_split
from inception_cli.data.transforms import interpolation_mode

ASSET_NAME = "fashion_mnist_subset.npz"

# Largest random shift of the training augmentation, as a fraction of the input size:
# about 2 of the original 28 pixels, enough to stop the network memorising positions
# without pushing garments out of the frame.
MAX_SHIFT_FRACTION = 0.08


def load_fashion_mnist_subset(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The stored images (N, 28, 28) uint8 and labels (N,) int64 of `split` ("train" or "val")."""
    check_split(split)
    asset = resources.files("inception_cli.data").joinpath("assets", ASSET_NAME)
    with resources.as_file(asset) as path, np.load(path) as arrays:
        images = torch.from_numpy(arrays[f"{split}_images"].copy())
        labels = torch.from_numpy(arrays[f"{split}_labels"].astype(np.int64))
    return images, labels


class EmbeddedFashionMNIST(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """One split, resized to `input_size`: (image (C, S, S) uint8, label).

    Training augmentation (`augment=True`): a random shift of up to MAX_SHIFT_FRACTION of the
    input size (zero padding, the images' background) and a random horizontal flip, done with
    tensor slicing on the stored uint8 split. Without augmentation the image is resized to
    input_size / crop_fraction and centre-cropped, as at evaluation.
    """

    def __init__(self, spec: DataSpec, split: str, *, augment: bool) -> None:
        images, self.labels = load_fashion_mnist_subset(split)
        size = self.input_size = spec.input_size
        self.in_chans = spec.in_chans
        self.augment = augment
        mode = interpolation_mode(spec.interpolation)
        images = images.unsqueeze(1)  # (N, 1, 28, 28)
        if augment:
            self.max_shift = round(MAX_SHIFT_FRACTION * size)
            images = TF.resize(images, [size, size], interpolation=mode)
            self.images = TF.pad(images, [self.max_shift], fill=0)
        else:
            self.max_shift = 0
            resized = single_crop_scale(size, spec.crop_fraction)
            images = TF.resize(images, [resized, resized], interpolation=mode)
            self.images = TF.center_crop(images, [size, size]).contiguous()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index]
        if self.augment:
            top, left = torch.randint(0, 2 * self.max_shift + 1, (2,)).tolist()
            image = image[:, top : top + self.input_size, left : left + self.input_size]
            if torch.rand(()) < 0.5:
                image = image.flip(-1)
        # A copy, not a view: a view would carry the whole split's storage to the main process.
        image = image.expand(self.in_chans, -1, -1).clone(memory_format=torch.contiguous_format)
        return image, self.labels[index]


class EmbeddedOriginalImages(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """One split as stored: (image (1, 28, 28) float in [0, 1], label), for multi-crop eval."""

    def __init__(self, split: str, in_chans: int = 1) -> None:
        self.images, self.labels = load_fashion_mnist_subset(split)
        self.in_chans = in_chans

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index].unsqueeze(0).expand(self.in_chans, -1, -1)
        return image.float() / 255.0, self.labels[index]
