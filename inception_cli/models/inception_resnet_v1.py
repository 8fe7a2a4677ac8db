"""Inception-ResNet-v1 (Szegedy et al., 2016, Figs 14, 10, 7, 11, 12, 13, 15).

The cheaper residual network of the paper, drawn exactly as printed: the stem of Fig 14
(299x299x3 → 35x35x256), five Inception-ResNet-A blocks (Fig 10), Reduction-A (Fig 7 with
k, l, m, n = 192, 192, 256, 384 from Table 1), ten Inception-ResNet-B blocks (Fig 11),
Reduction-B (Fig 12), five Inception-ResNet-C blocks (Fig 13), then average pooling, dropout
(keep 0.8) and the classifier (Fig 15).

The residual blocks and the residual scaling (Fig 20) are shared with Inception-ResNet-v2
(`residual_blocks.py`), as are the two reduction blocks (`reductions.py`): each is
parameterised by its filter counts. No published weights exist for this network; module names
follow the TF-slim style of the v2 port (`conv2d_1a`, ...).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from inception_cli.models.layers import BasicConv2d, InceptionNet, check_width, scaled
from inception_cli.models.reductions import ReductionA, ReductionB
from inception_cli.models.registry import ModelInfo, register_model
from inception_cli.models.residual_blocks import (
    DEFAULT_RESIDUAL_SCALE,
    InceptionResNetA,
    InceptionResNetB,
    InceptionResNetC,
    ResidualScale,
    stage_scales,
)

__all__ = ["InceptionResNetV1"]

# The residual blocks of Inception-ResNet-v1, with their filter counts at width 1.
block_a = partial(InceptionResNetA, branch2=(32, 32))  # Fig 10
block_b = partial(InceptionResNetB, branch0=128, branch1=(128, 128, 128))  # Fig 11
block_c = partial(InceptionResNetC, branch0=192, branch1=(192, 192, 192))  # Fig 13


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

        self.blocks_a = nn.Sequential(*[block_a(c256, scale_a, width) for _ in range(5)])
        self.reduction_a = ReductionA(c256, 192, 192, 256, 384, width)
        chs = self.reduction_a.out_chs
        self.blocks_b = nn.Sequential(*[block_b(chs, scale_b, width) for _ in range(10)])
        self.reduction_b = ReductionB(chs, 384, 256, 256, 256, width)
        chs = self.reduction_b.out_chs
        self.blocks_c = nn.Sequential(*[block_c(chs, scale_c, width) for _ in range(5)])
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
