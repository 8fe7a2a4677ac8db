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
and the distortion is applied to the batch's images on the device (data/finishing.py), to the
whole batch at once (`distort_colors`): each operation is a few element-wise passes, and on a
GPU each pass is a kernel launch whatever the number of images it covers.
"""

from __future__ import annotations

import numpy as np
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
# The orderings merged into one sequence of steps, "hsv" standing for saturation or hue: every
# ordering is a subsequence of it, so each image takes its own operations at the steps that
# match them, in its own order, and passes the other steps unchanged. Two conversions to HSV and
# back for the whole batch, where one group of images per ordering took two each.
STEPS = ("brightness", "contrast", "hsv", "brightness", "contrast", "hsv", "contrast", "brightness")
_OPERATIONS = COLOR_PARAMETERS[1:]
# hsv_to_rgb: which of (chroma, x, 0) each channel takes in each sixth of the hue circle.
_SECTOR_SOURCES = torch.tensor([[0, 1, 2], [1, 0, 2], [2, 0, 1], [2, 1, 0], [1, 2, 0], [0, 2, 1]])
# rgb_to_hsv: the hue's offset when red, green or blue holds the maximum.
_HUE_OFFSETS = torch.tensor([0.0, 2.0 / 6.0, 4.0 / 6.0]).view(1, 3, 1, 1)


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
    return torch.cat(_hsv_channels(images), 1)


def hsv_to_rgb(hsv: Tensor) -> Tensor:
    """(N, 3, H, W) HSV, H in [0, 1), to RGB, as TensorFlow computes it."""
    hue, saturation, value = hsv.split(1, 1)
    return _rgb(hue, saturation, value)


def _hsv_channels(images: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Hue, saturation and value of (N, 3, H, W) RGB, each (N, 1, H, W). The hue is TF's
    norm * (G - B), norm * (B - R) + 2/6 or norm * (R - G) + 4/6 after the first channel that
    holds the maximum (red before green before blue: `max` returns the first index)."""
    value, channel = images.max(1, keepdim=True)
    spread = value - images.amin(1, keepdim=True)
    positive = value > 0
    saturation = torch.where(positive, spread / torch.where(positive, value, 1.0), 0.0)
    has_spread = spread > 0
    norm = torch.reciprocal(6.0 * torch.where(has_spread, spread, 1.0))  # 1 / (6 spread)
    differences = images.roll(-1, 1) - images.roll(1, 1)  # G - B, B - R, R - G
    offsets = _constant(_HUE_OFFSETS, images.device)
    hue = (norm * differences + offsets).gather(1, channel)
    hue = torch.where(has_spread, hue, 0.0)
    hue = torch.where(hue < 0, hue + 1.0, hue)
    return hue, saturation, value


def _rgb(hue: Tensor, saturation: Tensor, value: Tensor) -> Tensor:
    """(N, 3, H, W) RGB of (N, 1, H, W) hue, saturation and value."""
    chroma = saturation * value
    sixths = hue * 6.0
    x = chroma * (1.0 - (torch.remainder(sixths, 2.0) - 1.0).abs())
    sector = sixths.floor().clamp(0, 5).long().squeeze(1)
    candidates = torch.cat([chroma, x, torch.zeros_like(chroma)], 1)
    sources = _constant(_SECTOR_SOURCES, hue.device)[sector].permute(0, 3, 1, 2)
    return candidates.gather(1, sources) + (value - chroma)


_CONSTANTS_ON: dict[tuple[int, torch.device], Tensor] = {}


def _constant(tensor: Tensor, device: torch.device) -> Tensor:
    """One of this module's constant tensors on `device`, copied there once."""
    key = (id(tensor), device)
    if key not in _CONSTANTS_ON:
        _CONSTANTS_ON[key] = tensor.to(device)
    return _CONSTANTS_ON[key]


def adjust(images: Tensor, operation: str, values: Tensor) -> Tensor:
    """One of TF's four colour operations on (N, 3, H, W) floats, one value per image."""
    if operation not in _OPERATIONS:
        raise ValueError(f"unknown colour operation {operation!r}")
    values = values.view(-1, 1, 1, 1)
    if operation in ("saturation", "hue"):
        return _adjust_hsv(images, {operation: values}, {})
    return _adjust_rgb(images, operation, values)


def _adjust_rgb(images: Tensor, operation: str, values: Tensor) -> Tensor:
    if operation == "brightness":
        return images + values
    mean = images.mean(dim=(2, 3), keepdim=True)
    return (images - mean) * values + mean


def _adjust_hsv(images: Tensor, values: dict[str, Tensor], masks: dict[str, Tensor]) -> Tensor:
    """Saturation and/or hue, `values[operation]` per image (N, 1, 1, 1); with both, `masks`
    says which images take which."""
    hue, saturation, value = _hsv_channels(images)
    if "saturation" in values:
        scaled = (saturation * values["saturation"]).clamp(0.0, 1.0)
        mask = masks.get("saturation")
        saturation = scaled if mask is None else torch.where(mask, scaled, saturation)
    if "hue" in values:
        shifted = torch.remainder(hue + values["hue"], 1.0)
        mask = masks.get("hue")
        hue = shifted if mask is None else torch.where(mask, shifted, hue)
    return _rgb(hue, saturation, value)


def color_plan(orderings: list[int]) -> np.ndarray:
    """(len(STEPS), N): the index in _OPERATIONS of what each image does at each step, -1 for
    nothing; each image's operations keep their ordering's order."""
    plan = np.full((len(STEPS), len(orderings)), -1, dtype=np.int64)
    for image, ordering in enumerate(orderings):
        step = 0
        for operation in ORDERINGS[ordering]:
            kind = "hsv" if operation in ("saturation", "hue") else operation
            while STEPS[step] != kind:
                step += 1
            plan[step, image] = _OPERATIONS.index(operation)
            step += 1
    return plan


def distort_colors(images: Tensor, parameters: Tensor) -> Tensor:
    """TF-slim's colour distortion of float images (N, 3, H, W) in [0, 1], each with its row of
    COLOR_PARAMETERS, clipped to [0, 1] at the end: the STEPS in turn, each on the whole batch,
    an image keeping its input at the steps it skips.

    The data module keeps `parameters` on the CPU while the images go to the GPU: the plan is
    made on the host, which never waits for the device here (a wait per batch halved the
    training rate of Inception-v4 on an H200). Two copies to the device carry every value and
    mask, whatever the batch."""
    rows = parameters.cpu().numpy()
    plan = color_plan([int(round(float(ordering))) for ordering in rows[:, 0]])
    per_image = (len(rows), 1, 1, 1)
    values = _to_device(rows[:, 1:].T.reshape(-1, *per_image), images.device)
    skipping = plan < 0
    # Rows step * 4 + operation: who takes that operation at that step; then one row per step:
    # who skips it.
    takes = plan[:, None, :] == np.arange(len(_OPERATIONS))[None, :, None]
    flags = np.concatenate([takes.reshape(-1, len(rows)), skipping])
    masks = _to_device(flags.reshape(-1, *per_image), images.device)
    skips = masks[len(STEPS) * len(_OPERATIONS) :]
    for step, kind in enumerate(STEPS):
        taking = [_OPERATIONS[o] for o in np.unique(plan[step]) if o >= 0]
        if not taking:
            continue
        step_values = {name: values[_OPERATIONS.index(name)] for name in taking}
        if kind != "hsv":
            result = _adjust_rgb(images, kind, step_values[kind])
        else:  # saturation for some images and hue for others: masks say which take which
            first = step * len(_OPERATIONS)
            step_masks = {name: masks[first + _OPERATIONS.index(name)] for name in taking}
            result = _adjust_hsv(images, step_values, step_masks if len(taking) > 1 else {})
        images = torch.where(skips[step], images, result) if skipping[step].any() else result
    return images.clamp(0.0, 1.0)


def _to_device(array: np.ndarray, device: torch.device) -> tuple[Tensor, ...]:
    """The rows of a host array on `device`, in one copy."""
    return torch.from_numpy(np.ascontiguousarray(array)).to(device, non_blocking=True).unbind(0)
