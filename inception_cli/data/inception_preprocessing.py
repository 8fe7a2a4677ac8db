"""TF-slim's Inception preprocessing, `data.augment=inception` (and `inception_fast`).

Source: research/slim/preprocessing/inception_preprocessing.py in tensorflow/models, the
preprocessing the Inception-v4 and Inception-ResNet-v2 checkpoints of TF-slim were trained
with, and TensorFlow's `sample_distorted_bounding_box` op that it calls.

Training (`preprocess_for_train`), in this order:
1. `distorted_bounding_box_crop`: a crop of 5%-100% of the image's area (area_range=(0.05,
   1.0)), width/height in [0.75, 1.33] (aspect_ratio_range, TF-slim's literals for 3/4 and
   about 4/3), that covers at least 10% of the bounding box (min_object_covered=0.1; with no
   boxes the box is the whole image, so at least 10% of the image in effect), up to 100
   attempts (max_attempts=100), else the whole image.
2. Resize the crop to input_size x input_size, aspect ratio not kept, with a method drawn
   from the four of `tf.image.ResizeMethod` (bilinear, nearest neighbour, bicubic, area); fast
   mode uses bilinear only.
3. Random horizontal flip (probability 1/2).
4. Random colour distortion in one of four orderings, clipped to [0, 1] (data/tf_color.py);
   fast mode: ordering 0 with brightness and saturation only.
5. Scale to [-1, 1]: (x - 0.5) * 2, which is normalisation with mean = std = 0.5.

Evaluation (`preprocess_for_eval`): the central 87.5% of the height and of the width
(`tf.image.central_crop(central_fraction=0.875)`), resized bilinearly to input_size x
input_size, aspect ratio not kept, scaled to [-1, 1].

Where this differs, by design: the loaders carry uint8 images, so the resized crop is rounded
to 8 bits before the colour distortion (half a step, 0.2% of the range, at most); the colour
distortion runs on the device (data/finishing.py). Resizing uses torch's half-pixel sampling,
where TF 1's `resize_images` sampled from pixel corners; neither antialiases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from inception_cli.data.finishing import Distorted
from inception_cli.data.tf_color import draw_color_parameters

AREA_RANGE = (0.05, 1.0)
ASPECT_RATIO_RANGE = (0.75, 1.33)
MIN_OBJECT_COVERED = 0.1
MAX_ATTEMPTS = 100
EVAL_CENTRAL_FRACTION = 0.875
RESIZE_METHODS = ("bilinear", "nearest", "bicubic", "area")  # tf.image.ResizeMethod 0-3


@dataclass(frozen=True)
class CropWindow:
    top: int
    left: int
    height: int
    width: int

    def of(self, image: Tensor) -> Tensor:
        return image[..., self.top : self.top + self.height, self.left : self.left + self.width]


def _below(bound: int) -> int:
    """An integer uniform in [0, bound), as TF's `random::SimplePhilox::Uniform`."""
    return int(torch.randint(bound, ()))


def _largest_height(height: int, width: int, max_area: float, aspect: float) -> int:
    """The largest crop height whose area stays within max_area and whose width, rounded,
    within the image (TF's GenerateRandomCrop)."""
    largest = round(math.sqrt(max_area / aspect))
    if round(largest * aspect) > width:
        largest = int((width + 0.5 - 1e-7) / aspect)
        if round(largest * aspect) > width:
            largest -= 1
    return min(largest, height)


def random_crop(
    height: int, width: int, aspect: float, min_area: float, max_area: float
) -> CropWindow | None:
    """TF's GenerateRandomCrop: a crop of this aspect ratio (width / height) with an area
    between min_area and max_area pixels, or None when there is none. (Python's round, like
    C's lrintf, rounds halves to even.)"""
    crop_height = round(math.sqrt(min_area / aspect))
    largest = _largest_height(height, width, max_area, aspect)
    crop_height = min(crop_height, largest)
    if crop_height < largest:
        crop_height += _below(largest - crop_height + 1)
    crop_width = round(crop_height * aspect)
    # Rounding may leave the area just outside the bounds: one row more, or one fewer.
    if crop_width * crop_height < min_area:
        crop_height += 1
        crop_width = round(crop_height * aspect)
    if crop_width * crop_height > max_area:
        crop_height -= 1
        crop_width = round(crop_height * aspect)
    area = crop_width * crop_height
    if not (min_area <= area <= max_area and 0 < crop_width <= width and 0 < crop_height <= height):
        return None
    top = 0 if crop_height >= height else _below(height - crop_height)
    left = 0 if crop_width >= width else _below(width - crop_width)
    return CropWindow(top, left, crop_height, crop_width)


def distorted_bounding_box(height: int, width: int) -> CropWindow:
    """TF's sample_distorted_bounding_box with TF-slim's arguments and the whole image as the
    box: the crop of step 1 of the module docstring."""
    image_area = height * width
    low, high = ASPECT_RATIO_RANGE
    for _ in range(MAX_ATTEMPTS):
        aspect = float(torch.empty(()).uniform_(low, high))
        crop = random_crop(
            height, width, aspect, AREA_RANGE[0] * image_area, AREA_RANGE[1] * image_area
        )
        if crop is not None and crop.height * crop.width >= MIN_OBJECT_COVERED * image_area:
            return crop
    return CropWindow(0, 0, height, width)


def central_crop(height: int, width: int, fraction: float = EVAL_CENTRAL_FRACTION) -> CropWindow:
    """`tf.image.central_crop`: the central `fraction` of the height and of the width."""
    top = int((height - height * fraction) / 2)
    left = int((width - width * fraction) / 2)
    return CropWindow(top, left, height - 2 * top, width - 2 * left)


def resize_square(region: Tensor, size: int, method: str) -> Tensor:
    """A uint8 region (C, h, w) resized to (C, size, size) with one of RESIZE_METHODS, without
    antialiasing (as TF 1), rounded back to uint8."""
    pixels = region.unsqueeze(0).float()
    if method in ("bilinear", "bicubic"):
        pixels = F.interpolate(pixels, size=(size, size), mode=method, align_corners=False)
    else:
        pixels = F.interpolate(pixels, size=(size, size), mode=method)
    return pixels.round_().clamp_(0, 255).to(torch.uint8)[0]


@dataclass(frozen=True)
class InceptionDraw:
    """What `preprocess_for_train` draws for one image."""

    crop: CropWindow
    method: str
    flip: bool
    colors: Tensor


class InceptionTraining:
    """preprocess_for_train on a uint8 image (3, H, W): a `Distorted` (uint8 image of
    input_size, its colour distortion)."""

    def __init__(self, size: int, fast: bool) -> None:
        self.size, self.fast = size, fast

    def draw(self, height: int, width: int) -> InceptionDraw:
        """The random choices, in TF-slim's order, from torch's global generator."""
        crop = distorted_bounding_box(height, width)
        method = "bilinear" if self.fast else RESIZE_METHODS[_below(len(RESIZE_METHODS))]
        flip = bool(torch.rand(()) < 0.5)
        return InceptionDraw(crop, method, flip, draw_color_parameters(self.fast))

    def __call__(self, image: Tensor) -> Distorted:
        drawn = self.draw(*image.shape[-2:])
        resized = resize_square(drawn.crop.of(image), self.size, drawn.method)
        return Distorted(resized.flip(-1) if drawn.flip else resized, drawn.colors)


class InceptionEvaluation:
    """preprocess_for_eval on a uint8 image (3, H, W), before the scaling: uint8 (3, S, S)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, image: Tensor) -> Tensor:
        window = central_crop(*image.shape[-2:])
        return resize_square(window.of(image), self.size, "bilinear")
