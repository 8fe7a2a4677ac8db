"""The 1-, 10- and 144-crop protocols of inception_cli/data/crops.py, checked against crops that
torchvision and PIL cut by the protocols' definitions (docs/eval.md)."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from torch import Tensor
from torchvision import transforms
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from inception_cli.data.crops import make_crops_batch, multi_crop_scales, single_crop_scale
from inception_cli.errors import InputError

SIZE = 32
MIDDLE = slice(SIZE // 2 - 2, SIZE // 2 + 2)
SHAPES = {"portrait": (3, 60, 40), "landscape": (3, 40, 60), "square": (3, 50, 50)}
ONE_STEP = 1 / 255  # one step of an 8-bit image


@pytest.fixture(autouse=True)
def _seeded() -> None:
    torch.manual_seed(0)


def crops_of_one(image: Tensor, n_crops: int, **options: object) -> Tensor:
    return make_crops_batch(image.unsqueeze(0), n_crops, SIZE, **options)[0]  # type: ignore[arg-type]


def smooth_image(height: int, width: int) -> Tensor:
    """uint8 (3, H, W) of slow waves in [26, 230]: bicubic resizing does not overshoot [0, 255]."""
    y = torch.linspace(0, 3, height)[:, None]
    x = torch.linspace(0, 4, width)[None, :]
    waves = [torch.sin(y + x), torch.cos(2 * y - x), torch.sin(x * y / 3)]
    return (255 * (0.5 + 0.4 * torch.stack(waves))).round().to(torch.uint8)


def reference_resize(image: Tensor, shorter: int, interpolation: str = "bilinear") -> Tensor:
    """torchvision's Resize: the shorter side to `shorter`, antialiased."""
    return TF.resize(image, [shorter], InterpolationMode(interpolation), antialias=True)


def reference_144_crops(image: Tensor, size: int) -> Tensor:
    """GoogLeNet's 144 crops in the documented order, cut with torchvision's functions."""
    crops: list[Tensor] = []
    for side in (256, 288, 320, 352):
        shorter = round(size * side / 224)
        scaled = reference_resize(image, shorter)
        height, width = scaled.shape[-2:]
        squares = [
            TF.crop(scaled, 0, 0, shorter, shorter),  # left, or top
            TF.center_crop(scaled, [shorter, shorter]),
            TF.crop(scaled, height - shorter, width - shorter, shorter, shorter),
        ]
        for square in squares:
            crops += TF.five_crop(square, [size, size])
            crops.append(TF.resize(square, [size, size], antialias=True))
    unmirrored = torch.stack(crops)
    return torch.cat([unmirrored, TF.horizontal_flip(unmirrored)])


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("n_crops", [1, 10, 144])
def test_crop_count_and_shape(shape: tuple[int, int, int], n_crops: int) -> None:
    crops = crops_of_one(torch.rand(shape), n_crops)
    assert crops.shape == (n_crops, shape[0], SIZE, SIZE)


def test_single_crop_scale_keeps_the_crop_fraction() -> None:
    assert single_crop_scale(299, 0.875) == 341  # docs/eval.md's example
    assert single_crop_scale(224, 0.875) == 256  # GoogLeNet's 256 px for 224 px crops
    assert single_crop_scale(75, 1.0) == 75


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic"])
def test_single_crop_is_torchvision_resize_then_centre_crop(
    shape: tuple[int, int, int], interpolation: str
) -> None:
    image = torch.rand(shape)
    reference = transforms.Compose(
        [
            transforms.Resize(
                single_crop_scale(SIZE, 0.875), InterpolationMode(interpolation), antialias=True
            ),
            transforms.CenterCrop(SIZE),
        ]
    )(image)
    ours = crops_of_one(image, 1, crop_fraction=0.875, interpolation=interpolation)[0]
    # The same float kernels on the same pixels: only the order of float operations may differ.
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-6)


# PIL resizes in two passes and rounds each to 8 bits. The first rounding (half a step) goes
# through the second pass, whose weights' absolute values sum to 1 for bilinear and to at most
# 1.25 for PIL's bicubic (a = -0.5); the second rounding adds half a step. In steps:
PIL_TOLERANCE = {"bilinear": 0.5 * 1.0 + 0.5, "bicubic": 0.5 * 1.25 + 0.5}
PIL_FIXED_POINT = 1e-5  # PIL's weights have 22 fractional bits: far below this


@pytest.mark.parametrize(("height", "width"), [(60, 40), (40, 60), (20, 28), (375, 500)])
@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_single_crop_matches_pil(height: int, width: int, interpolation: str) -> None:
    pixels = smooth_image(height, width)
    if interpolation == "bilinear":  # its weights are positive: any pixels stay in range
        pixels = torch.randint(0, 256, (3, height, width), dtype=torch.uint8)
    pil = Image.fromarray(pixels.permute(1, 2, 0).numpy())
    reference = transforms.Compose(
        [
            transforms.Resize(single_crop_scale(SIZE, 0.875), InterpolationMode(interpolation)),
            transforms.CenterCrop(SIZE),
            transforms.PILToTensor(),
        ]
    )(pil)
    ours = crops_of_one(pixels / 255, 1, crop_fraction=0.875, interpolation=interpolation)[0]
    tolerance = PIL_TOLERANCE[interpolation] * ONE_STEP + PIL_FIXED_POINT
    torch.testing.assert_close(ours, reference / 255, rtol=0, atol=tolerance)


def reference_10_crops(image: Tensor, size: int) -> Tensor:
    """torchvision's five crops at the single-crop scale, then their mirrors. (TenCrop would
    crop the mirrored image instead: the same corners, the mirrored ones in another order.)"""
    scaled = reference_resize(image, single_crop_scale(size, 0.875))
    unmirrored = torch.stack(TF.five_crop(scaled, [size, size]))
    return torch.cat([unmirrored, TF.horizontal_flip(unmirrored)])


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_10_crops_are_torchvision_five_crops_and_their_mirrors(
    shape: tuple[int, int, int],
) -> None:
    image = torch.rand(shape)
    ours = crops_of_one(image, 10, crop_fraction=0.875)
    torch.testing.assert_close(ours, reference_10_crops(image, SIZE))


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_144_crops_follow_the_documented_order(shape: tuple[int, int, int]) -> None:
    image = torch.rand(shape)
    torch.testing.assert_close(crops_of_one(image, 144), reference_144_crops(image, SIZE))


def test_each_image_of_a_batch_gets_its_own_crops() -> None:
    images = torch.rand(3, 3, 40, 56)
    batched = make_crops_batch(images, 144, SIZE)
    for index, image in enumerate(images):
        torch.testing.assert_close(batched[index], reference_144_crops(image, SIZE))
    tens = make_crops_batch(images, 10, SIZE)
    for index, image in enumerate(images):
        torch.testing.assert_close(tens[index], reference_10_crops(image, SIZE))


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("n_crops", [10, 144])
def test_second_half_mirrors_first_half(shape: tuple[int, int, int], n_crops: int) -> None:
    crops = crops_of_one(torch.rand(shape), n_crops)
    half = n_crops // 2
    assert torch.equal(crops[half:], crops[:half].flip(-1))
    assert not torch.equal(crops[0], crops[half])  # random pixels are not symmetric


def test_144_crop_scales_follow_googlenet_ratios() -> None:
    assert multi_crop_scales(224) == [256, 288, 320, 352]
    assert multi_crop_scales(299) == [342, 384, 427, 470]


def test_square_image_gives_three_identical_squares() -> None:
    crops = crops_of_one(torch.rand(SHAPES["square"]), 144)
    for scale in range(4):
        base = 18 * scale
        assert torch.equal(crops[base : base + 6], crops[base + 6 : base + 12])
        assert torch.equal(crops[base : base + 6], crops[base + 12 : base + 18])


def bright_centre(height: int, width: int, side: int) -> Tensor:
    image = torch.zeros(1, height, width)
    top, left = (height - side) // 2, (width - side) // 2
    image[:, top : top + side, left : left + side] = 1.0
    return image


@pytest.mark.parametrize("shape", [(64, 96), (96, 64), (80, 80)])
def test_centred_pattern_appears_in_centre_crops_only(shape: tuple[int, int]) -> None:
    image = bright_centre(*shape, side=16)
    single = crops_of_one(image, 1)[0]
    assert single[:, MIDDLE, MIDDLE].min() > 0.9
    assert single[:, :4, :4].max() < 0.01  # the crop's corners stay dark

    crops = crops_of_one(image, 144)
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


@pytest.mark.parametrize("n_crops", [0, 2, 12, 145])
def test_unknown_crop_count_raises(n_crops: int) -> None:
    with pytest.raises(InputError, match="use one of 1, 10, 144"):
        crops_of_one(torch.rand(3, 40, 40), n_crops)


def test_crop_fraction_out_of_range_raises() -> None:
    with pytest.raises(InputError, match="crop_fraction"):
        crops_of_one(torch.rand(3, 40, 40), 1, crop_fraction=1.5)


def test_unknown_interpolation_raises() -> None:
    with pytest.raises(InputError, match="nearest, bilinear, bicubic"):
        crops_of_one(torch.rand(3, 40, 40), 1, interpolation="lanczos")
