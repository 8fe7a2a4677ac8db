"""Inception-ResNet-v2 (Szegedy et al., 2016), in two versions.

`irv2` is the network the authors released in TF-slim, the one the published ImageNet weights
belong to: a stem ending in Mixed_5b (35x35x320), 10 x Inception-ResNet-A (Block35, scale 0.17),
Reduction-A (Mixed_6a), 20 x Inception-ResNet-B (Block17, scale 0.10), Reduction-B (Mixed_7a),
9 x Inception-ResNet-C (Block8, scale 0.20), one last Block8 without scaling or ReLU, and a 1x1
convolution to 1536 channels. Module names reproduce timm's `inception_resnet_v2` (a port of the
TF-slim model), so the state dict keys are the same and published weights load as is.

`irv2_paper` is the network as the paper prints it (Figs 3, 16, 7, 17, 18, 19, 15): the
Inception-v4 stem (35x35x384), 5 x Inception-ResNet-A, Reduction-A, 10 x Inception-ResNet-B,
Reduction-B, 5 x Inception-ResNet-C, then pooling. The printed channel counts of Figs 17 and 19
(1154, 2048) do not follow from the reductions before them (1152, 2144); here every residual
projection maps back to the channels its block actually receives. docs/models.md lists every
difference between the two.

Both versions build the residual blocks with the filter counts of Figs 16, 17 and 19, from the
classes they share with Inception-ResNet-v1 (`residual_blocks.py`).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from inception_cli.models.inception_v4 import stem as inception_v4_stem
from inception_cli.models.layers import (
    BasicConv2d,
    InceptionNet,
    PoolProjection,
    check_width,
    scaled,
)
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

__all__ = ["InceptionResNetV2", "InceptionResNetV2Paper"]

# The residual blocks of Inception-ResNet-v2, with their filter counts at width 1.
block_a = partial(InceptionResNetA, branch2=(48, 64))  # Fig 16, TF-slim Block35
block_b = partial(InceptionResNetB, branch0=192, branch1=(128, 160, 192))  # Fig 17, Block17
block_c = partial(InceptionResNetC, branch0=192, branch1=(192, 224, 256))  # Fig 19, Block8


class Mixed5b(nn.Module):
    """Last layer of the released stem (TF-slim Mixed_5b, not in the paper), 35x35 → 320:
    1x1 96 ‖ 1x1 48 → 5x5 64 ‖ 1x1 64 → 3x3 96 → 3x3 96 ‖ avg pool → 1x1 64."""

    def __init__(self, in_chs: int, width: float) -> None:
        super().__init__()
        c48, c64, c96 = scaled(48, width), scaled(64, width), scaled(96, width)
        self.branch0 = BasicConv2d(in_chs, c96, 1)
        self.branch1 = nn.Sequential(
            BasicConv2d(in_chs, c48, 1),
            BasicConv2d(c48, c64, 5, padding=2),
        )
        self.branch2 = nn.Sequential(
            BasicConv2d(in_chs, c64, 1),
            BasicConv2d(c64, c96, 3, padding=1),
            BasicConv2d(c96, c96, 3, padding=1),
        )
        self.branch3 = PoolProjection(in_chs, c64)
        self.out_chs = c96 + c64 + c96 + c64

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)), 1)


class InceptionResNetV2(InceptionNet):
    """Inception-ResNet-v2 as released in TF-slim (the published weights' network).

    `forward_features` returns (B, 1536 at width 1, 8, 8) for a 299x299 input.
    `residual_scale` is one float or one per stage (A, B, C), 0.17/0.10/0.20 as released; the
    last Inception-ResNet-C block always adds its branch unscaled and without ReLU, as released.
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
        c32, c64, c80, c192 = (scaled(c, width) for c in (32, 64, 80, 192))

        # Stem: 299 → 149 → 147 → 147 → 73 → 73 → 71 → 35.
        self.conv2d_1a = BasicConv2d(in_chans, c32, 3, stride=2)
        self.conv2d_2a = BasicConv2d(c32, c32, 3)
        self.conv2d_2b = BasicConv2d(c32, c64, 3, padding=1)
        self.maxpool_3a = nn.MaxPool2d(3, stride=2)
        self.conv2d_3b = BasicConv2d(c64, c80, 1)
        self.conv2d_4a = BasicConv2d(c80, c192, 3)
        self.maxpool_5a = nn.MaxPool2d(3, stride=2)
        self.mixed_5b = Mixed5b(c192, width)
        chs = self.mixed_5b.out_chs

        self.repeat = nn.Sequential(*[block_a(chs, scale_a, width) for _ in range(10)])
        self.mixed_6a = ReductionA(chs, 256, 256, 384, 384, width)
        chs = self.mixed_6a.out_chs
        self.repeat_1 = nn.Sequential(*[block_b(chs, scale_b, width) for _ in range(20)])
        self.mixed_7a = ReductionB(chs, 384, 288, 288, 320, width)
        chs = self.mixed_7a.out_chs
        self.repeat_2 = nn.Sequential(*[block_c(chs, scale_c, width) for _ in range(9)])
        self.block8 = block_c(chs, 1.0, width, activate=False)
        num_features = scaled(1536, width)
        self.conv2d_7b = BasicConv2d(chs, num_features, 1)
        self.build_head(num_features, num_classes, drop_rate)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv2d_1a(x)
        x = self.conv2d_2a(x)
        x = self.conv2d_2b.then_max_pool(x, self.maxpool_3a)  # 73x73
        x = self.conv2d_3b(x)
        x = self.conv2d_4a.then_max_pool(x, self.maxpool_5a)  # 35x35
        x = self.mixed_5b(x)
        x = self.repeat(x)
        x = self.mixed_6a(x)
        x = self.repeat_1(x)
        x = self.mixed_7a(x)
        x = self.repeat_2(x)
        x = self.block8(x)
        return self.conv2d_7b(x)


class InceptionResNetV2Paper(InceptionNet):
    """Inception-ResNet-v2 as printed in the paper: Inception-v4 stem (Fig 3), 5 x
    Inception-ResNet-A (Fig 16), Reduction-A (Fig 7, k, l, m, n = 256, 256, 384, 384), 10 x
    Inception-ResNet-B (Fig 17), Reduction-B (Fig 18), 5 x Inception-ResNet-C (Fig 19), average
    pooling, dropout, fully connected classifier (Fig 15).

    Channels at width 1: 384 (35x35), 1152 (17x17; Fig 17 prints 1154), 2144 (8x8; Fig 19
    prints 2048). `forward_features` returns (B, 2144 at width 1, 8, 8) for a 299x299 input.
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

        stem_layers, chs = inception_v4_stem(in_chans, width)
        self.stem = nn.Sequential(*stem_layers)
        self.blocks_a = nn.Sequential(*[block_a(chs, scale_a, width) for _ in range(5)])
        self.reduction_a = ReductionA(chs, 256, 256, 384, 384, width)
        chs = self.reduction_a.out_chs
        self.blocks_b = nn.Sequential(*[block_b(chs, scale_b, width) for _ in range(10)])
        self.reduction_b = ReductionB(chs, 384, 288, 288, 320, width)
        chs = self.reduction_b.out_chs
        self.blocks_c = nn.Sequential(*[block_c(chs, scale_c, width) for _ in range(5)])
        self.build_head(chs, num_classes, drop_rate)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.blocks_a(x)
        x = self.reduction_a(x)
        x = self.blocks_b(x)
        x = self.reduction_b(x)
        return self.blocks_c(x)


register_model(
    ModelInfo(
        name="irv2",
        builder=InceptionResNetV2,
        description="Inception-ResNet-v2 as released in TF-slim (published weights)",
        residual=True,
        timm_name="inception_resnet_v2",
        pretrained_tags=("inception_resnet_v2.tf_in1k", "inception_resnet_v2.tf_ens_adv_in1k"),
    )
)

register_model(
    ModelInfo(
        name="irv2_paper",
        builder=InceptionResNetV2Paper,
        description="Inception-ResNet-v2 as printed in the paper (Figs 3, 16-19, 15)",
        residual=True,
    )
)
