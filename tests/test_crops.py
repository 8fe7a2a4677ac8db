"""The 1-, 10- and 144-crop protocols of inception_cli/data/crops.py."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from inception_cli.data.crops import make_crops, make_crops_batch, multi_crop_scales

SIZE = 32
MIDDLE = slice(SIZE // 2 - 2, SIZE // 2 + 2)
SHAPES = {"portrait": (3, 60, 40), "landscape": (3, 40, 60), "square": (3, 50, 50)}


def resized_like_protocol(image: torch.Tensor, shorter: int) -> torch.Tensor:
    """The shorter side resized to `shorter` with the interpolate call the protocol uses."""
    _, height, width = image.shape
    if height <= width:
        size = (shorter, int(shorter * width / height))
    else:
        size = (int(shorter * height / width), shorter)
    return F.interpolate(
        image[None], size=size, mode="bilinear", align_corners=False, antialias=True
    )[0]


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("n_crops", [1, 10, 144])
def test_crop_count_and_shape(shape: tuple[int, int, int], n_crops: int) -> None:
    crops = make_crops(torch.rand(shape), n_crops, SIZE)
    assert crops.shape == (n_crops, shape[0], SIZE, SIZE)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("n_crops", [10, 144])
def test_second_half_mirrors_first_half(shape: tuple[int, int, int], n_crops: int) -> None:
    crops = make_crops(torch.rand(shape), n_crops, SIZE)
    half = n_crops // 2
    assert torch.equal(crops[half:], crops[:half].flip(-1))
    assert not torch.equal(crops[0], crops[half])  # random pixels are not symmetric


def test_144_crop_scales_follow_googlenet_ratios() -> None:
    assert multi_crop_scales(224) == [256, 288, 320, 352]
    assert multi_crop_scales(299) == [342, 384, 427, 470]


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_144_corner_crops_of_largest_scale_are_image_corners(orientation: str) -> None:
    image = torch.rand(SHAPES[orientation])
    crops = make_crops(image, 144, SIZE)
    resized = resized_like_protocol(image, multi_crop_scales(SIZE)[-1])
    largest = 3 * 18  # crops of scale k start at 18 k; squares at +0, +6, +12
    first_square, last_square = largest, largest + 12
    torch.testing.assert_close(crops[first_square + 0], resized[:, :SIZE, :SIZE])  # top-left
    torch.testing.assert_close(crops[last_square + 3], resized[:, -SIZE:, -SIZE:])  # bottom-right
    if orientation == "landscape":  # left square's bottom-left, right square's top-right
        torch.testing.assert_close(crops[first_square + 2], resized[:, -SIZE:, :SIZE])
        torch.testing.assert_close(crops[last_square + 1], resized[:, :SIZE, -SIZE:])
    else:  # top square's top-right, bottom square's bottom-left
        torch.testing.assert_close(crops[first_square + 1], resized[:, :SIZE, -SIZE:])
        torch.testing.assert_close(crops[last_square + 2], resized[:, -SIZE:, :SIZE])


def test_144_whole_square_is_the_centre_square_resized() -> None:
    image = torch.rand(SHAPES["landscape"])
    crops = make_crops(image, 144, SIZE)
    shorter = multi_crop_scales(SIZE)[0]
    resized = resized_like_protocol(image, shorter)
    offset = round((resized.shape[-1] - shorter) / 2)
    square = resized[:, :, offset : offset + shorter]
    expected = F.interpolate(
        square[None], size=(SIZE, SIZE), mode="bilinear", align_corners=False, antialias=True
    )[0]
    torch.testing.assert_close(crops[6 + 5], expected)  # scale 0, centre square, whole


def test_square_image_gives_three_identical_squares() -> None:
    crops = make_crops(torch.rand(SHAPES["square"]), 144, SIZE)
    for scale in range(4):
        base = 18 * scale
        assert torch.equal(crops[base : base + 6], crops[base + 6 : base + 12])
        assert torch.equal(crops[base : base + 6], crops[base + 12 : base + 18])


def test_10_crop_corners_are_corners_of_single_crop_scale() -> None:
    image = torch.rand(SHAPES["portrait"])
    crops = make_crops(image, 10, SIZE, crop_fraction=0.875)
    resized = resized_like_protocol(image, math.floor(SIZE / 0.875))
    torch.testing.assert_close(crops[0], resized[:, :SIZE, :SIZE])
    torch.testing.assert_close(crops[1], resized[:, :SIZE, -SIZE:])
    torch.testing.assert_close(crops[2], resized[:, -SIZE:, :SIZE])
    torch.testing.assert_close(crops[3], resized[:, -SIZE:, -SIZE:])
    torch.testing.assert_close(crops[4], make_crops(image, 1, SIZE, crop_fraction=0.875)[0])


def bright_centre(height: int, width: int, side: int) -> torch.Tensor:
    image = torch.zeros(1, height, width)
    top, left = (height - side) // 2, (width - side) // 2
    image[:, top : top + side, left : left + side] = 1.0
    return image


@pytest.mark.parametrize("shape", [(64, 96), (96, 64), (80, 80)])
def test_centred_pattern_appears_in_centre_crops_only(shape: tuple[int, int]) -> None:
    image = bright_centre(*shape, side=16)
    single = make_crops(image, 1, SIZE)[0]
    assert single[:, MIDDLE, MIDDLE].min() > 0.9
    assert single[:, :4, :4].max() < 0.01  # the crop's corners stay dark

    crops = make_crops(image, 144, SIZE)
    centre_square = 3 * 18 + 6  # largest scale, the centre square
    centre_crop = crops[centre_square + 4]
    assert centre_crop[:, MIDDLE, MIDDLE].min() > 0.9
    # in the top-left corner crop the pattern sits towards the bottom right, and vice versa
    top_left, bottom_right = crops[centre_square], crops[centre_square + 3]
    half = SIZE // 2
    assert top_left[:, half:, half:].sum() > 0 and top_left[:, :half, :half].sum() == 0
    assert bottom_right[:, :half, :half].sum() > 0 and bottom_right[:, half:, half:].sum() == 0
    # the whole square keeps the pattern in its middle
    assert crops[centre_square + 5][:, MIDDLE, MIDDLE].min() > 0.5


def test_single_crop_matches_resize_then_centre_crop() -> None:
    image = torch.rand(SHAPES["landscape"])
    resized = resized_like_protocol(image, math.floor(SIZE / 0.875))
    top = round((resized.shape[1] - SIZE) / 2)
    left = round((resized.shape[2] - SIZE) / 2)
    expected = resized[:, top : top + SIZE, left : left + SIZE]
    torch.testing.assert_close(make_crops(image, 1, SIZE)[0], expected)


def test_batched_crops_equal_one_by_one() -> None:
    images = torch.rand(3, 3, 40, 56)
    batched = make_crops_batch(images, 144, SIZE)
    for index, image in enumerate(images):
        torch.testing.assert_close(batched[index], make_crops(image, 144, SIZE))


@pytest.mark.parametrize("n_crops", [0, 2, 12, 145])
def test_unknown_crop_count_raises(n_crops: int) -> None:
    with pytest.raises(ValueError, match="n_crops"):
        make_crops(torch.rand(3, 40, 40), n_crops, SIZE)


def test_crop_fraction_out_of_range_raises() -> None:
    with pytest.raises(ValueError, match="crop_fraction"):
        make_crops(torch.rand(3, 40, 40), 1, SIZE, crop_fraction=1.5)
