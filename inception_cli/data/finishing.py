"""The last steps of every pipeline: uint8 to float, TF-slim's colour distortion where it was
drawn, normalisation. The data module runs them on a batch once it is on the device
(`ImageDataModule.on_after_batch_transfer`); `FinishedSamples` runs the same function on one
sample on the CPU, for code that wants float samples (`build_dataset(..., pixels="float")`).

Why on the device: a uint8 batch is a quarter of the bytes of a float32 one to pin and copy,
and the float conversion, the colour distortion (two colour-space conversions per image) and
the normalisation are a few element-wise passes that a GPU does for a whole batch in well under
a millisecond, while a CPU core spends about as long on one image as on decoding it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor
from torch.utils.data import Dataset

from inception_cli.data.tf_color import distort_colors


class Distorted(NamedTuple):
    """An image (uint8, (C, H, W) or a batch) with the colour distortion drawn for it (one
    row of `tf_color.COLOR_PARAMETERS` per image), applied when the image is finished."""

    image: Tensor
    colors: Tensor


def to_unit_float(images: Tensor) -> Tensor:
    """uint8 images to a new float32 tensor in [0, 1]; float images copied to float32."""
    if images.dtype == torch.uint8:
        return images.float().div_(255.0)
    return images.to(torch.float32, copy=True)


def normalize(images: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """uint8 images (..., C, H, W), or float ones in [0, 1], to (x - mean) / std in float32;
    the input is left as it was. `mean` and `std` have shape (C, 1, 1).

    Per sample or per batch, the same operations in the same order: both pipelines agree to
    the last bit.
    """
    return to_unit_float(images).sub_(mean).div_(std)


def finish_images(images: Tensor | Distorted, mean: Tensor, std: Tensor) -> Tensor:
    """A uint8 image or batch, or a `Distorted` one, as the normalised float the network takes."""
    if not isinstance(images, Distorted):
        return normalize(images, mean, std)
    batched = images.image.dim() == 4
    pixels = to_unit_float(images.image if batched else images.image.unsqueeze(0))
    colors = images.colors if batched else images.colors.unsqueeze(0)
    pixels = distort_colors(pixels, colors).sub_(mean).div_(std)
    return pixels if batched else pixels.squeeze(0)


def channel_tensor(values: list[float], device: torch.device | str = "cpu") -> Tensor:
    return torch.tensor(values, dtype=torch.float32, device=device).view(-1, 1, 1)


class BatchFinisher:
    """`finish_images` for batches on any device, with the mean and std kept on each device."""

    def __init__(self, mean: list[float], std: list[float]) -> None:
        self.mean, self.std = mean, std
        self._on_device: dict[torch.device, tuple[Tensor, Tensor]] = {}

    def __call__(self, batch: Any) -> Any:
        images, labels = batch
        device = (images.image if isinstance(images, Distorted) else images).device
        if device not in self._on_device:
            self._on_device[device] = (
                channel_tensor(self.mean, device),
                channel_tensor(self.std, device),
            )
        mean, std = self._on_device[device]
        return finish_images(images, mean, std), labels


class FinishedSamples(Dataset[tuple[Tensor, Any]]):
    """A dataset of uint8 samples as normalised float samples, finished one at a time."""

    def __init__(self, dataset: Dataset[Any], mean: list[float], std: list[float]) -> None:
        self.dataset = dataset
        self.mean, self.std = channel_tensor(mean), channel_tensor(std)

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> tuple[Tensor, Any]:
        image, label = self.dataset[index]
        return finish_images(image, self.mean, self.std), label
