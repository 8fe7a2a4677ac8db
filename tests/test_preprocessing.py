"""TF-slim's Inception preprocessing (data.augment=inception), checked against a reading of
research/slim/preprocessing/inception_preprocessing.py in tensorflow/models: the crop's area
and aspect ranges and its fallback, the resize methods, the flip, the colour distortion's
ranges, orderings and clipping, the evaluation crop, and the output range [-1, 1]."""

from __future__ import annotations

import pytest
import torch

from inception_cli.data import DataSpec
from inception_cli.data.finishing import Distorted, channel_tensor, finish_images
from inception_cli.data.inception_preprocessing import (
    ASPECT_RATIO_RANGE,
    RESIZE_METHODS,
    InceptionEvaluation,
    InceptionTraining,
    central_crop,
    distorted_bounding_box,
    resize_square,
)
from inception_cli.data.tf_color import (
    BRIGHTNESS_MAX_DELTA,
    FAST_ORDERING,
    ORDERINGS,
    adjust,
    distort_colors,
    draw_color_parameters,
    hsv_to_rgb,
    rgb_to_hsv,
)
from inception_cli.errors import InputError

HALF = channel_tensor([0.5] * 3)


def test_the_facts_read_from_tf_slim() -> None:
    assert ASPECT_RATIO_RANGE == (0.75, 1.33)
    assert pytest.approx(32 / 255) == BRIGHTNESS_MAX_DELTA
    assert RESIZE_METHODS == ("bilinear", "nearest", "bicubic", "area")  # tf.image.ResizeMethod
    assert ORDERINGS[0] == ("brightness", "saturation", "hue", "contrast")
    assert ORDERINGS[1] == ("saturation", "brightness", "contrast", "hue")
    assert ORDERINGS[2] == ("contrast", "hue", "brightness", "saturation")
    assert ORDERINGS[3] == ("hue", "saturation", "contrast", "brightness")
    assert ORDERINGS[FAST_ORDERING] == ("brightness", "saturation")


def test_distorted_crop_covers_10_to_100_percent_at_aspect_3_4_to_4_3() -> None:
    torch.manual_seed(0)
    height, width = 375, 500
    crops = [distorted_bounding_box(height, width) for _ in range(2000)]
    areas = [crop.height * crop.width / (height * width) for crop in crops]
    # area_range (0.05, 1.0), but min_object_covered=0.1 of the whole-image box: >= 10%.
    assert min(areas) >= 0.1 and max(areas) <= 1.0
    assert min(areas) < 0.15 and max(areas) > 0.9  # the whole range is drawn
    for crop in crops:
        assert crop.top >= 0 and crop.top + crop.height <= height
        assert crop.left >= 0 and crop.left + crop.width <= width
        if (crop.height, crop.width) != (height, width):
            slack = 0.5 / crop.height  # the width is the rounded height x aspect
            assert 0.75 - slack <= crop.width / crop.height <= 1.33 + slack


def test_distorted_crop_falls_back_to_the_whole_image() -> None:
    torch.manual_seed(0)
    # No crop of aspect 0.75-1.33 with >= 10% of a 2 x 400 image's area fits in it.
    crop = distorted_bounding_box(2, 400)
    assert (crop.top, crop.left, crop.height, crop.width) == (0, 0, 2, 400)


def test_training_draws_every_resize_method_and_ordering_and_flips_half() -> None:
    torch.manual_seed(0)
    full, fast = InceptionTraining(32, fast=False), InceptionTraining(32, fast=True)
    draws = [full.draw(375, 500) for _ in range(400)]
    assert {draw.method for draw in draws} == set(RESIZE_METHODS)
    assert {int(draw.colors[0]) for draw in draws} == {0, 1, 2, 3}
    assert 0.4 < sum(draw.flip for draw in draws) / len(draws) < 0.6
    fast_draws = [fast.draw(375, 500) for _ in range(50)]
    assert {draw.method for draw in fast_draws} == {"bilinear"}
    assert {int(draw.colors[0]) for draw in fast_draws} == {FAST_ORDERING}


def test_colour_parameters_stay_in_tf_slims_ranges() -> None:
    torch.manual_seed(0)
    rows = torch.stack([draw_color_parameters(fast=False) for _ in range(2000)])
    brightness, saturation, hue, contrast = rows[:, 1:].unbind(1)
    assert brightness.abs().max() <= 32 / 255 and brightness.abs().max() > 0.9 * 32 / 255
    assert saturation.min() >= 0.5 and saturation.max() <= 1.5
    assert hue.abs().max() <= 0.2 and hue.abs().max() > 0.18
    assert contrast.min() >= 0.5 and contrast.max() <= 1.5


def test_hsv_conversions_are_tensorflows() -> None:
    pixels = torch.rand(4, 3, 5, 6)
    torch.testing.assert_close(hsv_to_rgb(rgb_to_hsv(pixels)), pixels, atol=1e-5, rtol=0)
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    assert rgb_to_hsv(red).flatten().tolist() == [0.0, 1.0, 1.0]
    green = adjust(red, "hue", torch.tensor([1 / 3]))
    torch.testing.assert_close(green.flatten(), torch.tensor([0.0, 1.0, 0.0]), atol=1e-5, rtol=0)
    grey = adjust(torch.tensor([0.2, 0.4, 0.8]).view(1, 3, 1, 1), "saturation", torch.zeros(1))
    assert torch.allclose(grey.flatten(), torch.full((3,), 0.8))  # S = 0 keeps V, the maximum


def test_colour_operations_and_their_order() -> None:
    torch.manual_seed(0)
    images = torch.rand(2, 3, 8, 8) * 0.6 + 0.2
    values = torch.tensor([0.1, -0.05])
    torch.testing.assert_close(
        adjust(images, "brightness", values), images + values.view(-1, 1, 1, 1)
    )
    contrasted = adjust(images, "contrast", torch.tensor([0.5, 1.5]))
    torch.testing.assert_close(contrasted.mean((2, 3)), images.mean((2, 3)))  # per channel
    row = torch.tensor([1.0, 0.05, 1.3, 0.1, 0.7])  # ordering 1: saturation, brightness, ...
    expected = images[:1]
    for operation, value in zip(ORDERINGS[1], (1.3, 0.05, 0.7, 0.1), strict=True):
        expected = adjust(expected, operation, torch.tensor([value]))
    torch.testing.assert_close(distort_colors(images[:1], row[None]), expected.clamp(0, 1))


def test_colour_distortion_is_clipped_to_unit_range() -> None:
    torch.manual_seed(0)
    images = torch.rand(16, 3, 8, 8)
    rows = torch.stack([draw_color_parameters(fast=False) for _ in range(16)])
    rows[:, 1] = BRIGHTNESS_MAX_DELTA  # push values over 1
    out = distort_colors(images, rows)
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.max() == 1.0


def test_training_output_is_scaled_to_minus_one_one() -> None:
    torch.manual_seed(0)
    image = torch.randint(0, 256, (3, 120, 160), dtype=torch.uint8)
    sample = InceptionTraining(48, fast=False)(image)
    assert isinstance(sample, Distorted)
    assert sample.image.shape == (3, 48, 48) and sample.image.dtype == torch.uint8
    finished = finish_images(sample, HALF, HALF)
    assert finished.dtype == torch.float32 and finished.shape == (3, 48, 48)
    assert finished.min() >= -1.0 and finished.max() <= 1.0


def test_evaluation_is_central_crop_of_0875_resized_and_scaled() -> None:
    window = central_crop(375, 500)  # tf.image.central_crop: int((h - h * 0.875) / 2)
    assert (window.top, window.left, window.height, window.width) == (23, 31, 329, 438)
    image = torch.randint(0, 256, (3, 375, 500), dtype=torch.uint8)
    out = InceptionEvaluation(299)(image)
    assert out.shape == (3, 299, 299) and out.dtype == torch.uint8
    assert torch.equal(out, resize_square(window.of(image), 299, "bilinear"))
    finished = finish_images(out, HALF, HALF)
    assert finished.min() >= -1.0 and finished.max() <= 1.0
    torch.testing.assert_close(finished, out.float() / 255 * 2 - 1)  # (x - 0.5) * 2


def spec(**keys: object) -> DataSpec:
    base = dict(name="imagenet", root="/x", num_classes=2, in_chans=3, input_size=32)
    base.update(mean=[0.5] * 3, std=[0.5] * 3)
    return DataSpec.from_config({**base, **keys})


def test_augment_takes_true_false_and_the_tf_slim_modes() -> None:
    assert spec(augment=True).augment == "standard"
    assert spec(augment=False).augment is None
    assert spec(augment="inception").tf_slim and spec(augment="inception_fast").tf_slim
    with pytest.raises(InputError, match="data.augment='crop' is not an augmentation"):
        spec(augment="crop")
    with pytest.raises(InputError, match="set data.mean and data.std to 0.5"):
        spec(augment="inception", mean=[0.485, 0.456, 0.406])


def test_grey_data_sets_refuse_tf_slim_preprocessing() -> None:
    from inception_cli.data import check_data_config

    embedded = dict(name="embedded", num_classes=10, in_chans=1, input_size=75)
    embedded.update(mean=[0.5], std=[0.5], augment="inception")
    with pytest.raises(InputError, match="data=embedded takes data.augment"):
        check_data_config(embedded)


def test_uint8_rounding_is_the_only_difference_from_float() -> None:
    """Carried as uint8 after the resize, the image differs from TF-slim's float image by half
    an 8-bit step at most before the scaling: one step after it."""
    torch.manual_seed(0)
    image = torch.randint(0, 256, (1, 3, 60, 80), dtype=torch.uint8).float()
    exact = torch.nn.functional.interpolate(image, size=(32, 32), mode="bilinear") / 255
    rounded = resize_square(image[0].to(torch.uint8), 32, "bilinear").float() / 255
    assert (exact[0] - rounded).abs().max() <= 0.5 / 255 + 1e-6


def tf_rgb_to_hsv(pixel: list[float]) -> tuple[float, float, float]:
    """TensorFlow's kernel (adjust_hue_op.cc, rgb_to_hsv) on one pixel, in Python floats."""
    red, green, blue = pixel
    value, low = max(pixel), min(pixel)
    spread = value - low
    saturation = spread / value if value > 0 else 0.0
    if spread <= 0:
        return 0.0, saturation, value
    norm = 1.0 / (6.0 * spread)
    if red == value:
        hue = norm * (green - blue)
    elif green == value:
        hue = norm * (blue - red) + 2.0 / 6.0
    else:
        hue = norm * (red - green) + 4.0 / 6.0
    return (hue + 1.0 if hue < 0 else hue), saturation, value


def tf_hsv_to_rgb(hue: float, saturation: float, value: float) -> list[float]:
    chroma = saturation * value
    sixths = hue * 6.0
    x = chroma * (1.0 - abs(sixths % 2.0 - 1.0))
    sector = min(max(int(sixths // 1), 0), 5)
    rgb = [(chroma, x, 0.0), (x, chroma, 0.0), (0.0, chroma, x), (0.0, x, chroma)]
    rgb += [(x, 0.0, chroma), (chroma, 0.0, x)]
    return [channel + value - chroma for channel in rgb[sector]]


def tf_distort_one_image(image: torch.Tensor, row: list[float]) -> torch.Tensor:
    """TF-slim's distort_color on one (3, H, W) image, pixel by pixel, written out."""
    ordering, *values = row
    value_of = dict(zip(("brightness", "saturation", "hue", "contrast"), values, strict=True))
    pixels = image.double()
    for operation in ORDERINGS[round(ordering)]:
        amount = value_of[operation]
        if operation == "brightness":
            pixels = pixels + amount
        elif operation == "contrast":
            mean = pixels.mean(dim=(1, 2), keepdim=True)
            pixels = (pixels - mean) * amount + mean
        else:
            flat = pixels.flatten(1).T.tolist()
            out = []
            for pixel in flat:
                hue, saturation, value = tf_rgb_to_hsv(pixel)
                if operation == "saturation":
                    saturation = min(max(saturation * amount, 0.0), 1.0)
                else:
                    hue = (hue + amount) % 1.0
                out.append(tf_hsv_to_rgb(hue, saturation, value))
            pixels = torch.tensor(out, dtype=torch.float64).T.reshape(pixels.shape)
    return pixels.clamp(0.0, 1.0).float()


@pytest.mark.parametrize("fast", [False, True], ids=["four orderings", "fast mode"])
def test_colour_distortion_of_a_batch_is_each_images_own(fast: bool) -> None:
    """Distorted as a batch, with every ordering in it, each image is what TF-slim's
    distort_color makes of it alone (the batch takes the orderings' operations in one merged
    order, each image skipping the steps that are not its own)."""
    torch.manual_seed(0)
    images = torch.rand(24, 3, 6, 7)
    images[0] = 0.0  # V = 0 and no spread: S and H are 0
    images[1, :, :3] = 1.0  # no spread
    images[2, :2, 0], images[2, 2, 0] = 0.9, 0.1  # red and green tie for the maximum
    rows = torch.stack([draw_color_parameters(fast) for _ in range(len(images))])
    if not fast:
        rows[:, 0] = torch.arange(len(images)) % 4  # every ordering, interleaved
    batched = distort_colors(images.contiguous(memory_format=torch.channels_last), rows)
    for image, row, result in zip(images, rows.tolist(), batched, strict=True):
        torch.testing.assert_close(result, tf_distort_one_image(image, row), atol=2e-6, rtol=0)
    alone = torch.cat([distort_colors(images[i : i + 1], rows[i : i + 1]) for i in range(4)])
    torch.testing.assert_close(batched[:4], alone, atol=1e-6, rtol=0)


def test_colour_distortion_is_a_few_operations_whatever_the_batch() -> None:
    """On a GPU every operation is a kernel launch: the batch's operations do not grow with
    its images or with the orderings drawn for them."""
    from torch.profiler import profile

    def count(images: int) -> int:
        rows = torch.stack([draw_color_parameters(False) for _ in range(images)])
        rows[:, 0] = torch.arange(images) % 4
        batch = torch.rand(images, 3, 4, 4)
        distort_colors(batch, rows)  # the constants' first copy to the device
        with profile() as traced:
            distort_colors(batch, rows)
        return sum(
            1
            for event in traced.events()
            if event.name.startswith("aten::")
            and (event.cpu_parent is None or not event.cpu_parent.name.startswith("aten::"))
        )

    assert count(4) == count(128) <= 130
