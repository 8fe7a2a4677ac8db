"""Inception-ResNet-v1 (Szegedy et al., 2016, Figs 14, 10, 7, 11, 12, 13, 15).

The cheaper residual network of the paper, drawn exactly as printed: the stem of Fig 14
(299x299x3 → 35x35x256), five Inception-ResNet-A blocks (Fig 10), Reduction-A (Fig 7 with
k, l, m, n = 192, 192, 256, 384 from Table 1), ten Inception-ResNet-B blocks (Fig 11),
Reduction-B (Fig 12), five Inception-ResNet-C blocks (Fig 13), then average pooling, dropout
(keep 0.8) and the classifier (Fig 15).

The schema of Fig 15, the residual blocks and the residual scaling (Fig 20) are shared with
Inception-ResNet-v2 (`residual_blocks.py`), as are the two reduction blocks (`reductions.py`):
each is parameterised by its filter counts. The stem is Inception-v3's (`stems.py`) with one more
strided convolution. No published weights exist for this network; module names follow the
TF-slim style of the v2 port (`conv2d_1a`, ...).
"""

from __future__ import annotations

from functools import partial

import torch

from inception_cli.models.registry import register_model
from inception_cli.models.residual_blocks import (
    InceptionResNet,
    InceptionResNetA,
    InceptionResNetB,
    InceptionResNetC,
    ResidualStages,
)
from inception_cli.models.stems import (
    SLIM_STEM_KEYS,
    V3_STEM,
    ConvSpec,
    add_layers,
    forward_layers,
)

__all__ = ["InceptionResNetV1"]

# Stem (Fig 14): 299 → 149 → 147 → 147 → 73 → 73 → 71 → 35.
STEM_KEYS = (*SLIM_STEM_KEYS, "conv2d_4b")
STEM = (*V3_STEM, ConvSpec(256, 3, stride=2))


@register_model("irv1")
class InceptionResNetV1(InceptionResNet):
    """Inception-ResNet-v1 (Figs 14 and 15): stem, 5 x Inception-ResNet-A, Reduction-A,
    10 x Inception-ResNet-B, Reduction-B, 5 x Inception-ResNet-C, average pooling, dropout,
    fully connected classifier.

    `forward_features` returns (B, 1792 at width 1, 8, 8) for a 299x299 input.
    """

    stages = ResidualStages(
        block_a=partial(InceptionResNetA, branch2=(32, 32)),  # Fig 10
        reduction_a=(192, 192, 256, 384),  # Table 1
        block_b=partial(InceptionResNetB, branch0=128, branch1=(128, 128, 128)),  # Fig 11
        reduction_b=(384, 256, 256, 256),  # Fig 12
        block_c=partial(InceptionResNetC, branch0=192, branch1=(192, 192, 192)),  # Fig 13
    )

    def build_stem(self, in_chans: int, width: float) -> int:
        return add_layers(self, STEM_KEYS, STEM, in_chans, width)

    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        return forward_layers(self, STEM_KEYS, x)
