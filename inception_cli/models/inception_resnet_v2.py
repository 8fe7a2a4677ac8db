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

Both versions build their stages with the filter counts of Figs 16-19 (`STAGES`), from the
classes they share with Inception-ResNet-v1 (`residual_blocks.py`). The released stem begins as
Inception-v3's (`stems.py`).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from inception_cli.models.inception_v4 import stem as inception_v4_stem
from inception_cli.models.layers import (
    BasicConv2d,
    FilterConcat,
    InceptionNet,
    PoolProjection,
    scaled,
)
from inception_cli.models.registry import register_model
from inception_cli.models.residual_blocks import (
    DEFAULT_RESIDUAL_SCALE,
    InceptionResNet,
    InceptionResNetA,
    InceptionResNetB,
    InceptionResNetC,
    ResidualScale,
    ResidualStages,
    stage_scales,
)
from inception_cli.models.stems import (
    MAX_POOL,
    SLIM_STEM_KEYS,
    V3_STEM,
    add_layers,
    forward_layers,
)

__all__ = ["InceptionResNetV2", "InceptionResNetV2Paper"]

# The filter counts of Inception-ResNet-v2 at width 1, the same in both versions.
STAGES = ResidualStages(
    block_a=partial(InceptionResNetA, branch2=(48, 64)),  # Fig 16, TF-slim Block35
    reduction_a=(256, 256, 384, 384),  # Table 1, TF-slim Mixed_6a
    block_b=partial(InceptionResNetB, branch0=192, branch1=(128, 160, 192)),  # Fig 17, Block17
    reduction_b=(384, 288, 288, 320),  # Fig 18, TF-slim Mixed_7a
    block_c=partial(InceptionResNetC, branch0=192, branch1=(192, 224, 256)),  # Fig 19, Block8
)

# The released stem up to Mixed_5b: 299 → 149 → 147 → 147 → 73 → 73 → 71 → 35.
STEM_KEYS = (*SLIM_STEM_KEYS, "maxpool_5a")


class Mixed5b(FilterConcat):
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


@register_model("irv2")
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
        super().__init__(width)
        scales = stage_scales(residual_scale)
        chs = add_layers(self, STEM_KEYS, (*V3_STEM, MAX_POOL), in_chans, width)
        self.mixed_5b = Mixed5b(chs, width)
        stages = STAGES.build(self.mixed_5b.out_chs, width, scales, repeats=(10, 20, 9))
        self.repeat, self.mixed_6a, self.repeat_1, self.mixed_7a, self.repeat_2 = stages
        chs = self.mixed_7a.out_chs
        self.block8 = STAGES.block_c(chs, 1.0, width, activate=False)
        num_features = scaled(1536, width)
        self.conv2d_7b = BasicConv2d(chs, num_features, 1)
        self.build_head(num_features, num_classes, drop_rate)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = forward_layers(self, STEM_KEYS, x)  # 35x35
        x = self.mixed_5b(x)
        x = self.repeat(x)
        x = self.mixed_6a(x)  # 17x17
        x = self.repeat_1(x)
        x = self.mixed_7a(x)  # 8x8
        x = self.repeat_2(x)
        x = self.block8(x)
        return self.conv2d_7b(x)


@register_model("irv2_paper")
class InceptionResNetV2Paper(InceptionResNet):
    """Inception-ResNet-v2 as printed in the paper: Inception-v4 stem (Fig 3), 5 x
    Inception-ResNet-A (Fig 16), Reduction-A (Fig 7, k, l, m, n = 256, 256, 384, 384), 10 x
    Inception-ResNet-B (Fig 17), Reduction-B (Fig 18), 5 x Inception-ResNet-C (Fig 19), average
    pooling, dropout, fully connected classifier (Fig 15).

    Channels at width 1: 384 (35x35), 1152 (17x17; Fig 17 prints 1154), 2144 (8x8; Fig 19
    prints 2048). `forward_features` returns (B, 2144 at width 1, 8, 8) for a 299x299 input.
    """

    stages = STAGES

    def build_stem(self, in_chans: int, width: float) -> int:
        layers, chs = inception_v4_stem(in_chans, width)
        self.stem = nn.Sequential(*layers)
        return chs

    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        return self.stem(x)
