"""Inception-v4 (Szegedy et al., 2016, Figs 3-9).

The pure Inception network of the paper: the stem of Fig 3, four Inception-A blocks (Fig 4),
Reduction-A (Fig 7, shared with the residual networks in `reductions.py`), seven Inception-B
blocks (Fig 5), Reduction-B (Fig 8), three Inception-C blocks (Fig 6), then average pooling,
dropout (keep 0.8) and the classifier (Fig 9).

Module names reproduce timm's `inception_v4` (a port of the released TF-slim model), so the
state dict keys are the same (`features.N...`, `last_linear`) and published weights load as is.
Every convolution's width goes through `scaled(channels, width)`; each block reports its output
channels in `out_chs`, from which the next block and the classifier are sized.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from inception_cli.models.layers import (
    BasicConv2d,
    Block,
    FilterConcat,
    InceptionNet,
    PoolProjection,
    scaled,
)
from inception_cli.models.reductions import ReductionA
from inception_cli.models.registry import register_model

__all__ = ["InceptionV4"]


class Mixed3a(FilterConcat):
    """Stem (Fig 3), first filter concatenation: 3x3 max pool s2 ‖ 3x3 conv 96 s2, both valid."""

    def __init__(self, in_chs: int, width: float) -> None:
        super().__init__()
        self.maxpool = nn.MaxPool2d(3, stride=2)
        self.conv = BasicConv2d(in_chs, scaled(96, width), 3, stride=2)
        self.out_chs = in_chs + scaled(96, width)


class Mixed4a(FilterConcat):
    """Stem (Fig 3), second concatenation: 1x1 64 → 3x3 96 ‖ 1x1 64 → 1x7 64 → 7x1 64 → 3x3 96."""

    def __init__(self, in_chs: int, width: float) -> None:
        super().__init__()
        c64, c96 = scaled(64, width), scaled(96, width)
        self.branch0 = nn.Sequential(
            BasicConv2d(in_chs, c64, 1),
            BasicConv2d(c64, c96, 3),
        )
        self.branch1 = nn.Sequential(
            BasicConv2d(in_chs, c64, 1),
            BasicConv2d(c64, c64, (1, 7), padding=(0, 3)),
            BasicConv2d(c64, c64, (7, 1), padding=(3, 0)),
            BasicConv2d(c64, c96, 3),
        )
        self.out_chs = 2 * c96


class Mixed5a(FilterConcat):
    """Stem (Fig 3), last concatenation: 3x3 conv 192 s2 ‖ 3x3 max pool s2, both valid."""

    def __init__(self, in_chs: int, width: float) -> None:
        super().__init__()
        self.conv = BasicConv2d(in_chs, scaled(192, width), 3, stride=2)
        self.maxpool = nn.MaxPool2d(3, stride=2)
        self.out_chs = scaled(192, width) + in_chs


def stem(in_chans: int, width: float) -> tuple[list[nn.Module], int]:
    """The stem of Fig 3 (299x299x3 → 35x35x384), as the six layers timm keeps in `features.0-5`,
    and its output channels."""
    c32, c64 = scaled(32, width), scaled(64, width)
    mixed_3a = Mixed3a(c64, width)
    mixed_4a = Mixed4a(mixed_3a.out_chs, width)
    mixed_5a = Mixed5a(mixed_4a.out_chs, width)
    layers = [
        BasicConv2d(in_chans, c32, 3, stride=2),
        BasicConv2d(c32, c32, 3),
        BasicConv2d(c32, c64, 3, padding=1),
        mixed_3a,
        mixed_4a,
        mixed_5a,
    ]
    return layers, mixed_5a.out_chs


class InceptionA(FilterConcat):
    """Inception-A, the 35x35 block (Fig 4): 1x1 96 ‖ 1x1 64 → 3x3 96 ‖ 1x1 64 → 3x3 96 → 3x3 96 ‖
    avg pool → 1x1 96."""

    def __init__(self, in_chs: int, width: float) -> None:
        super().__init__()
        c64, c96 = scaled(64, width), scaled(96, width)
        self.branch0 = BasicConv2d(in_chs, c96, 1)
        self.branch1 = nn.Sequential(
            BasicConv2d(in_chs, c64, 1),
            BasicConv2d(c64, c96, 3, padding=1),
        )
        self.branch2 = nn.Sequential(
            BasicConv2d(in_chs, c64, 1),
            BasicConv2d(c64, c96, 3, padding=1),
            BasicConv2d(c96, c96, 3, padding=1),
        )
        self.branch3 = PoolProjection(in_chs, c96)
        self.out_chs = 4 * c96


class InceptionB(FilterConcat):
    """Inception-B, the 17x17 block (Fig 5): 1x1 384 ‖ 1x1 192 → 1x7 224 → 7x1 256 ‖
    1x1 192 → 7x1 192 → 1x7 224 → 7x1 224 → 1x7 256 ‖ avg pool → 1x1 128."""

    def __init__(self, in_chs: int, width: float) -> None:
        super().__init__()
        c128, c192, c224, c256, c384 = (scaled(c, width) for c in (128, 192, 224, 256, 384))
        self.branch0 = BasicConv2d(in_chs, c384, 1)
        self.branch1 = nn.Sequential(
            BasicConv2d(in_chs, c192, 1),
            BasicConv2d(c192, c224, (1, 7), padding=(0, 3)),
            BasicConv2d(c224, c256, (7, 1), padding=(3, 0)),
        )
        self.branch2 = nn.Sequential(
            BasicConv2d(in_chs, c192, 1),
            BasicConv2d(c192, c192, (7, 1), padding=(3, 0)),
            BasicConv2d(c192, c224, (1, 7), padding=(0, 3)),
            BasicConv2d(c224, c224, (7, 1), padding=(3, 0)),
            BasicConv2d(c224, c256, (1, 7), padding=(0, 3)),
        )
        self.branch3 = PoolProjection(in_chs, c128)
        self.out_chs = c384 + c256 + c256 + c128


class ReductionB(FilterConcat):
    """Reduction-B, 17x17 → 8x8 (Fig 8): 1x1 192 → 3x3 192 s2 ‖
    1x1 256 → 1x7 256 → 7x1 320 → 3x3 320 s2 ‖ 3x3 max pool s2."""

    def __init__(self, in_chs: int, width: float) -> None:
        super().__init__()
        c192, c256, c320 = scaled(192, width), scaled(256, width), scaled(320, width)
        self.branch0 = nn.Sequential(
            BasicConv2d(in_chs, c192, 1),
            BasicConv2d(c192, c192, 3, stride=2),
        )
        self.branch1 = nn.Sequential(
            BasicConv2d(in_chs, c256, 1),
            BasicConv2d(c256, c256, (1, 7), padding=(0, 3)),
            BasicConv2d(c256, c320, (7, 1), padding=(3, 0)),
            BasicConv2d(c320, c320, 3, stride=2),
        )
        self.branch2 = nn.MaxPool2d(3, stride=2)
        self.out_chs = c192 + c320 + in_chs


class InceptionC(Block):
    """Inception-C, the 8x8 block (Fig 6): 1x1 256 ‖ 1x1 384 → [1x3 256 ‖ 3x1 256] ‖
    1x1 384 → 3x1 448 → 1x3 512 → [1x3 256 ‖ 3x1 256] ‖ avg pool → 1x1 256."""

    def __init__(self, in_chs: int, width: float) -> None:
        super().__init__()
        c256, c384, c448, c512 = (scaled(c, width) for c in (256, 384, 448, 512))
        self.branch0 = BasicConv2d(in_chs, c256, 1)

        self.branch1_0 = BasicConv2d(in_chs, c384, 1)
        self.branch1_1a = BasicConv2d(c384, c256, (1, 3), padding=(0, 1))
        self.branch1_1b = BasicConv2d(c384, c256, (3, 1), padding=(1, 0))

        self.branch2_0 = BasicConv2d(in_chs, c384, 1)
        self.branch2_1 = BasicConv2d(c384, c448, (3, 1), padding=(1, 0))
        self.branch2_2 = BasicConv2d(c448, c512, (1, 3), padding=(0, 1))
        self.branch2_3a = BasicConv2d(c512, c256, (1, 3), padding=(0, 1))
        self.branch2_3b = BasicConv2d(c512, c256, (3, 1), padding=(1, 0))

        self.branch3 = PoolProjection(in_chs, c256)
        self.out_chs = 6 * c256

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = self.branch0(x)

        x1 = self.branch1_0(x)
        x1 = torch.cat((self.branch1_1a(x1), self.branch1_1b(x1)), 1)

        x2 = self.branch2_2(self.branch2_1(self.branch2_0(x)))
        x2 = torch.cat((self.branch2_3a(x2), self.branch2_3b(x2)), 1)

        x3 = self.branch3(x)
        return torch.cat((x0, x1, x2, x3), 1)


@register_model("v4")
class InceptionV4(InceptionNet):
    """Inception-v4 (Fig 9): stem, 4 x Inception-A, Reduction-A, 7 x Inception-B, Reduction-B,
    3 x Inception-C, average pooling, dropout, fully connected classifier.

    `forward_features` returns (B, 1536 at width 1, 8, 8) for a 299x299 input.
    """

    classifier_name = "last_linear"

    def __init__(
        self,
        num_classes: int = 1000,
        width: float = 1.0,
        in_chans: int = 3,
        drop_rate: float = 0.2,
    ) -> None:
        super().__init__(width)
        layers, chs = stem(in_chans, width)
        block_types: list[Callable[..., Block]] = [
            *[InceptionA] * 4,
            partial(ReductionA, k=192, l=224, m=256, n=384),  # Table 1, Inception-v4
            *[InceptionB] * 7,
            ReductionB,
            *[InceptionC] * 3,
        ]
        for block_type in block_types:
            block = block_type(chs, width=width)
            layers.append(block)
            chs = block.out_chs
        self.features = nn.Sequential(*layers)
        self.build_head(chs, num_classes, drop_rate)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)
