"""TF-slim's random colour distortion (`distort_color` in
research/slim/preprocessing/inception_preprocessing.py of tensorflow/models), on batches.

Facts taken from that file and from the TensorFlow ops it calls:

- brightness: `tf.image.random_brightness(max_delta=32/255)`: x + delta, delta uniform in
  [-32/255, 32/255]; no clipping in between.
- saturation: `tf.image.random_saturation(lower=0.5, upper=1.5)`: to HSV, S times a factor
  uniform in [0.5, 1.5], S clipped to [0, 1], back to RGB.
- hue: `tf.image.random_hue(max_delta=0.2)`: to HSV, H plus delta uniform in [-0.2, 0.2],
  wrapped into [0, 1), back to RGB.
- contrast: `tf.image.random_contrast(lower=0.5, upper=1.5)`: per channel,
  (x - mean) * factor + mean, the mean over the image's pixels.
- The order is one of four (`color_ordering` 0-3, drawn uniformly by
  `apply_with_random_selector`); in fast mode TF-slim draws from one case only, ordering 0 with
  brightness and saturation alone. Last, the image is clipped to [0, 1].

The HSV conversions follow TensorFlow's kernels (adjust_saturation_op.cc, adjust_hue_op.cc):
S = 0 where V <= 0, H = 0 where the range is 0. The parameters of each image are drawn on the
CPU (`draw_color_parameters`, under the generator keyed by (seed, epoch, index)), stay there,
and the distortion is applied to the batch's images on the device (data/finishing.py).
"""

from __future__ import annotations

import torch
from torch import Tensor

BRIGHTNESS_MAX_DELTA = 32.0 / 255.0
SATURATION_RANGE = (0.5, 1.5)
HUE_MAX_DELTA = 0.2
CONTRAST_RANGE = (0.5, 1.5)
# One row per image: which ordering, then the value each operation uses.
COLOR_PARAMETERS = ("ordering", "brightness", "saturation", "hue", "contrast")
ORDERINGS = (
    ("brightness", "saturation", "hue", "contrast"),
    ("saturation", "brightness", "contrast", "hue"),
    ("contrast", "hue", "brightness", "saturation"),
    ("hue", "saturation", "contrast", "brightness"),
    ("brightness", "saturation"),  # fast mode: TF-slim's ordering 0 without hue and contrast
)
FAST_ORDERING = 4
# hsv_to_rgb: which of (chroma, x, 0) each channel takes in each sixth of the hue circle.
_SECTOR_SOURCES = torch.tensor([[0, 1, 2], [1, 0, 2], [2, 0, 1], [2, 1, 0], [1, 2, 0], [0, 2, 1]])


def _uniform(low: float, high: float) -> float:
    return float(torch.empty(()).uniform_(low, high))


def draw_color_parameters(fast: bool) -> Tensor:
    """One row of COLOR_PARAMETERS from torch's global generator; every value is drawn in both
    modes, so the number of draws is fixed."""
    ordering = int(torch.randint(len(ORDERINGS) - 1, ()))
    values = [
        _uniform(-BRIGHTNESS_MAX_DELTA, BRIGHTNESS_MAX_DELTA),
        _uniform(*SATURATION_RANGE),
        _uniform(-HUE_MAX_DELTA, HUE_MAX_DELTA),
        _uniform(*CONTRAST_RANGE),
    ]
    return torch.tensor([FAST_ORDERING if fast else ordering, *values], dtype=torch.float32)


def rgb_to_hsv(images: Tensor) -> Tensor:
    """(N, 3, H, W) RGB to HSV, H in [0, 1), as TensorFlow computes it."""
    red, green, blue = images.unbind(1)
    value = images.amax(1)
    spread = value - images.amin(1)
    saturation = torch.where(value > 0, spread / torch.where(value > 0, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * torch.where(spread > 0, spread, 1.0))
    hue = torch.where(
        red == value,
        norm * (green - blue),
        torch.where(
            green == value, norm * (blue - red) + 2.0 / 6.0, norm * (red - green) + 4.0 / 6.0
        ),
    )
    hue = torch.where(spread > 0, hue, 0.0)
    hue = torch.where(hue < 0, hue + 1.0, hue)
    return torch.stack([hue, saturation, value], 1)


def hsv_to_rgb(hsv: Tensor) -> Tensor:
    """(N, 3, H, W) HSV, H in [0, 1), to RGB, as TensorFlow computes it."""
    hue, saturation, value = hsv.unbind(1)
    chroma = saturation * value
    sixths = hue * 6.0
    x = chroma * (1.0 - (torch.remainder(sixths, 2.0) - 1.0).abs())
    sector = sixths.floor().clamp(0, 5).long()
    candidates = torch.stack([chroma, x, torch.zeros_like(chroma)])  # (3, N, H, W)
    sources = _sector_sources(hsv.device)[sector].movedim(-1, 0)  # (3, N, H, W)
    return candidates.gather(0, sources).movedim(0, 1) + (value - chroma).unsqueeze(1)


_SECTOR_SOURCES_ON: dict[torch.device, Tensor] = {}


def _sector_sources(device: torch.device) -> Tensor:
    """_SECTOR_SOURCES on `device`, copied there once."""
    if device not in _SECTOR_SOURCES_ON:
        _SECTOR_SOURCES_ON[device] = _SECTOR_SOURCES.to(device)
    return _SECTOR_SOURCES_ON[device]


def _per_image(values: Tensor) -> Tensor:
    return values.view(-1, 1, 1, 1)


def adjust(images: Tensor, operation: str, values: Tensor) -> Tensor:
    """One of TF's four colour operations on (N, 3, H, W) floats, one value per image."""
    if operation == "brightness":
        return images + _per_image(values)
    if operation == "contrast":
        mean = images.mean(dim=(2, 3), keepdim=True)
        return (images - mean) * _per_image(values) + mean
    hsv = rgb_to_hsv(images)
    if operation == "saturation":
        hsv[:, 1] = (hsv[:, 1] * values.view(-1, 1, 1)).clamp_(0.0, 1.0)
    elif operation == "hue":
        hsv[:, 0] = torch.remainder(hsv[:, 0] + values.view(-1, 1, 1), 1.0)
    else:
        raise ValueError(f"unknown colour operation {operation!r}")
    return hsv_to_rgb(hsv)


def distort_colors(images: Tensor, parameters: Tensor) -> Tensor:
    """TF-slim's colour distortion of float images (N, 3, H, W) in [0, 1], each with its row of
    COLOR_PARAMETERS, clipped to [0, 1] at the end.

    The data module keeps `parameters` on the CPU while the images go to the GPU: the images
    are grouped by ordering on the host, so the host never waits for the device here (a wait
    per batch halved the training rate of Inception-v4 on an H200)."""
    parameters = parameters.cpu()
    orderings = parameters[:, 0].round().long()
    result = torch.empty_like(images)  # every image belongs to one ordering's group
    for ordering in orderings.unique().tolist():
        chosen = torch.nonzero(orderings == ordering).flatten()
        on_device = chosen.to(images.device, non_blocking=True)
        values = parameters[chosen].to(images.device, non_blocking=True)
        group = images.index_select(0, on_device)
        for operation in ORDERINGS[ordering]:
            group = adjust(group, operation, values[:, COLOR_PARAMETERS.index(operation)])
        result.index_copy_(0, on_device, group)
    return result.clamp_(0.0, 1.0)
