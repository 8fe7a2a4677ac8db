"""Inception-ResNet-v1 (Szegedy et al., 2016, Figs 14, 10, 7, 11, 12, 13, 15).

The cheaper residual network of the paper, drawn exactly as printed: the stem of Fig 14
(299x299x3 → 35x35x256), five Inception-ResNet-A blocks (Fig 10), Reduction-A (Fig 7 with
k, l, m, n = 192, 192, 256, 384 from Table 1), ten Inception-ResNet-B blocks (Fig 11),
Reduction-B (Fig 12), five Inception-ResNet-C blocks (Fig 13), then average pooling, dropout
(keep 0.8) and the classifier (Fig 15).

Every residual block ends in a 1x1 convolution with bias and without BatchNorm or activation
that maps the concatenated branches back to the block's input channels; its output is scaled
before the addition (Fig 20): `out = ReLU(x + scale * branch)`. The scale multiplies the
projection's weights and bias rather than its output (`layers.scaled_conv`), and the 1x1 layers
that open the branches run as one convolution (`parallel.parallel_pointwise`): the same function,
fewer passes over the activations.

The two reduction blocks are parameterised by their filter counts (`reductions.py`), so
Inception-v4 and Inception-ResNet-v2 build theirs from the same classes. No published weights
exist for this network; module names follow the TF-slim style of the v2 port (`conv2d_1a`, ...).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from inception_cli.errors import InputError
from inception_cli.models.layers import (
    BasicConv2d,
    InceptionNet,
    check_width,
    scaled,
    scaled_conv,
)
from inception_cli.models.parallel import parallel_pointwise
from inception_cli.models.reductions import ReductionA, ReductionB
from inception_cli.models.registry import ModelInfo, register_model

__all__ = ["InceptionResNetV1", "stage_scales"]

# Fig 20: the paper scales residuals by "between 0.1 and 0.3"; these are the values of the
# released Inception-ResNet-v2 (stages A, B, C), used as the default for every residual network.
DEFAULT_RESIDUAL_SCALE = (0.17, 0.10, 0.20)

ResidualScale = float | Sequence[float]


def stage_scales(residual_scale: ResidualScale) -> tuple[float, float, float]:
    """One residual scale (Fig 20) per stage A, B, C, from one float or three."""
    try:
        if isinstance(residual_scale, int | float):
            scales = [float(residual_scale)] * 3
        elif isinstance(residual_scale, str):
            raise TypeError
        else:
            scales = [float(s) for s in residual_scale]
    except (TypeError, ValueError):
        raise InputError(
            f"residual_scale must be one number or three (stages A, B, C), got "
            f"{residual_scale!r}; pass e.g. 0.1 or [0.17, 0.10, 0.20]"
        ) from None
    if len(scales) != 3:
        raise InputError(
            f"residual_scale must be one number or three (stages A, B, C), got {len(scales)} "
            f"values {scales}; pass e.g. 0.1 or [0.17, 0.10, 0.20]"
        )
    for s in scales:
        if not math.isfinite(s) or s <= 0:
            raise InputError(
                f"residual_scale must be positive, got {s}; the paper uses 0.1 to 0.3 (Fig 20)"
            )
    return scales[0], scales[1], scales[2]


class InceptionResNetA(nn.Module):
    """Inception-ResNet-A, the 35x35 block of Inception-ResNet-v1 (Fig 10):
    1x1 32 ‖ 1x1 32 → 3x3 32 ‖ 1x1 32 → 3x3 32 → 3x3 32, then a linear 1x1 back to the input
    channels (256 at width 1), scaled (Fig 20), added to the input, ReLU."""

    def __init__(self, in_chs: int, scale: float, width: float) -> None:
        super().__init__()
        self.scale = float(scale)
        c32 = scaled(32, width)
        self.branch0 = BasicConv2d(in_chs, c32, 1)
        self.branch1 = nn.Sequential(
            BasicConv2d(in_chs, c32, 1),
            BasicConv2d(c32, c32, 3, padding=1),
        )
        self.branch2 = nn.Sequential(
            BasicConv2d(in_chs, c32, 1),
            BasicConv2d(c32, c32, 3, padding=1),
            BasicConv2d(c32, c32, 3, padding=1),
        )
        self.conv2d = nn.Conv2d(3 * c32, in_chs, 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0, x1, x2 = parallel_pointwise(x, (self.branch0, self.branch1[0], self.branch2[0]))
        branches = torch.cat((x0, self.branch1[1:](x1), self.branch2[1:](x2)), 1)
        return self.relu(x + scaled_conv(branches, self.conv2d, self.scale))


class InceptionResNetB(nn.Module):
    """Inception-ResNet-B, the 17x17 block of Inception-ResNet-v1 (Fig 11):
    1x1 128 ‖ 1x1 128 → 1x7 128 → 7x1 128, then a linear 1x1 back to the input channels
    (896 at width 1), scaled (Fig 20), added to the input, ReLU."""

    def __init__(self, in_chs: int, scale: float, width: float) -> None:
        super().__init__()
        self.scale = float(scale)
        c128 = scaled(128, width)
        self.branch0 = BasicConv2d(in_chs, c128, 1)
        self.branch1 = nn.Sequential(
            BasicConv2d(in_chs, c128, 1),
            BasicConv2d(c128, c128, (1, 7), padding=(0, 3)),
            BasicConv2d(c128, c128, (7, 1), padding=(3, 0)),
        )
        self.conv2d = nn.Conv2d(2 * c128, in_chs, 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0, x1 = parallel_pointwise(x, (self.branch0, self.branch1[0]))
        branches = torch.cat((x0, self.branch1[1:](x1)), 1)
        return self.relu(x + scaled_conv(branches, self.conv2d, self.scale))


class InceptionResNetC(nn.Module):
    """Inception-ResNet-C, the 8x8 block of Inception-ResNet-v1 (Fig 13):
    1x1 192 ‖ 1x1 192 → 1x3 192 → 3x1 192, then a linear 1x1 back to the input channels
    (1792 at width 1), scaled (Fig 20), added to the input, ReLU."""

    def __init__(self, in_chs: int, scale: float, width: float) -> None:
        super().__init__()
        self.scale = float(scale)
        c192 = scaled(192, width)
        self.branch0 = BasicConv2d(in_chs, c192, 1)
        self.branch1 = nn.Sequential(
            BasicConv2d(in_chs, c192, 1),
            BasicConv2d(c192, c192, (1, 3), padding=(0, 1)),
            BasicConv2d(c192, c192, (3, 1), padding=(1, 0)),
        )
        self.conv2d = nn.Conv2d(2 * c192, in_chs, 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0, x1 = parallel_pointwise(x, (self.branch0, self.branch1[0]))
        branches = torch.cat((x0, self.branch1[1:](x1)), 1)
        return self.relu(x + scaled_conv(branches, self.conv2d, self.scale))


class InceptionResNetV1(InceptionNet):
    """Inception-ResNet-v1 (Figs 14 and 15): stem, 5 x Inception-ResNet-A, Reduction-A,
    10 x Inception-ResNet-B, Reduction-B, 5 x Inception-ResNet-C, average pooling, dropout,
    fully connected classifier.

    `forward_features` returns (B, 1792 at width 1, 8, 8) for a 299x299 input.
    `residual_scale` is one float or one per stage (A, B, C); see Fig 20.
    """

    classifier_name = "classif"
    residual = True

    def __init__(
        self,
        num_classes: int = 1000,
        width: float = 1.0,
        in_chans: int = 3,
        drop_rate: float = 0.2,
        residual_scale: ResidualScale = DEFAULT_RESIDUAL_SCALE,
    ) -> None:
        super().__init__()
        check_width(width)
        scale_a, scale_b, scale_c = stage_scales(residual_scale)
        c32, c64, c80, c192, c256 = (scaled(c, width) for c in (32, 64, 80, 192, 256))

        # Stem (Fig 14): 299 → 149 → 147 → 147 → 73 → 73 → 71 → 35.
        self.conv2d_1a = BasicConv2d(in_chans, c32, 3, stride=2)
        self.conv2d_2a = BasicConv2d(c32, c32, 3)
        self.conv2d_2b = BasicConv2d(c32, c64, 3, padding=1)
        self.maxpool_3a = nn.MaxPool2d(3, stride=2)
        self.conv2d_3b = BasicConv2d(c64, c80, 1)
        self.conv2d_4a = BasicConv2d(c80, c192, 3)
        self.conv2d_4b = BasicConv2d(c192, c256, 3, stride=2)

        self.blocks_a = nn.Sequential(*[InceptionResNetA(c256, scale_a, width) for _ in range(5)])
        self.reduction_a = ReductionA(c256, 192, 192, 256, 384, width)
        chs = self.reduction_a.out_chs
        self.blocks_b = nn.Sequential(*[InceptionResNetB(chs, scale_b, width) for _ in range(10)])
        self.reduction_b = ReductionB(chs, 384, 256, 256, 256, width)
        chs = self.reduction_b.out_chs
        self.blocks_c = nn.Sequential(*[InceptionResNetC(chs, scale_c, width) for _ in range(5)])
        self.build_head(chs, num_classes, drop_rate)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv2d_1a(x)
        x = self.conv2d_2a(x)
        x = self.conv2d_2b.then_max_pool(x, self.maxpool_3a)  # 73x73
        x = self.conv2d_3b(x)
        x = self.conv2d_4a(x)
        x = self.conv2d_4b(x)
        x = self.blocks_a(x)
        x = self.reduction_a(x)
        x = self.blocks_b(x)
        x = self.reduction_b(x)
        return self.blocks_c(x)


register_model(
    ModelInfo(
        name="irv1",
        builder=InceptionResNetV1,
        description="Inception-ResNet-v1 as printed in the paper (Figs 14, 10-13, 15)",
        residual=True,
    )
)
