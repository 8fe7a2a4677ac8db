"""The Inception-ResNet blocks, residual scaling and the schema of Fig 15, shared by both
residual networks.

Inception-ResNet-v1 (Figs 10, 11, 13) and Inception-ResNet-v2 (Figs 16, 17, 19) build the same
three blocks with other filter counts, so each block takes its counts (at width 1) from the
family, as the grid reductions do (`reductions.py`); `ResidualStages` holds one network's counts.

Every block ends in a 1x1 convolution with bias and without BatchNorm or activation that maps
the concatenated branches back to the block's input channels; its output is scaled before the
addition (Fig 20): `out = ReLU(x + scale * branch)`. The scale multiplies the projection's
weights and bias rather than its output (`layers.scaled_conv`), and the 1x1 layers that open the
branches run as one convolution (`parallel.parallel_pointwise`): the same function, fewer passes
over the activations. Module names (`branch0`, `branch1`, `branch2`, `conv2d`) follow timm's port
of the TF-slim Inception-ResNet-v2, so its published weights load as is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from inception_cli.models.layers import BasicConv2d, InceptionNet, scaled, scaled_conv
from inception_cli.models.parallel import parallel_pointwise
from inception_cli.models.reductions import ReductionA, ReductionB
from inception_cli.models.scales import DEFAULT_RESIDUAL_SCALE, ResidualScale, stage_scales

__all__ = [
    "DEFAULT_RESIDUAL_SCALE",
    "InceptionResNet",
    "InceptionResNetA",
    "InceptionResNetB",
    "InceptionResNetC",
    "ResidualScale",
    "ResidualStages",
    "stage_scales",
]


class InceptionResNetA(nn.Module):
    """Inception-ResNet-A, the 35x35 block (v1: Fig 10; v2: Fig 16; TF-slim Block35):
    1x1 32 ‖ 1x1 32 → 3x3 32 ‖ 1x1 32 → 3x3 `branch2[0]` → 3x3 `branch2[1]`, then the scaled
    residual. Inception-ResNet-v1 uses branch2 = (32, 32), Inception-ResNet-v2 (48, 64)."""

    def __init__(
        self, in_chs: int, scale: float, width: float, *, branch2: tuple[int, int]
    ) -> None:
        super().__init__()
        self.scale = float(scale)
        c32 = scaled(32, width)
        mid, out = (scaled(c, width) for c in branch2)
        self.branch0 = BasicConv2d(in_chs, c32, 1)
        self.branch1 = nn.Sequential(
            BasicConv2d(in_chs, c32, 1),
            BasicConv2d(c32, c32, 3, padding=1),
        )
        self.branch2 = nn.Sequential(
            BasicConv2d(in_chs, c32, 1),
            BasicConv2d(c32, mid, 3, padding=1),
            BasicConv2d(mid, out, 3, padding=1),
        )
        self.conv2d = nn.Conv2d(c32 + c32 + out, in_chs, 1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0, x1, x2 = parallel_pointwise(x, (self.branch0, self.branch1[0], self.branch2[0]))
        branches = torch.cat((x0, self.branch1[1:](x1), self.branch2[1:](x2)), 1)
        return self.relu(x + scaled_conv(branches, self.conv2d, self.scale))


class FactorisedResidualBlock(nn.Module):
    """The two-branch residual block of the 17x17 and 8x8 grids: 1x1 `branch0` ‖
    1x1 `branch1[0]` → 1xk `branch1[1]` → kx1 `branch1[2]`, then the scaled residual and, unless
    `activate` is false, a ReLU."""

    kernel: int

    def __init__(
        self,
        in_chs: int,
        scale: float,
        width: float,
        *,
        branch0: int,
        branch1: tuple[int, int, int],
        activate: bool = True,
    ) -> None:
        super().__init__()
        self.scale = float(scale)
        c0 = scaled(branch0, width)
        c1, c1_row, c1_col = (scaled(c, width) for c in branch1)
        k, pad = self.kernel, self.kernel // 2
        self.branch0 = BasicConv2d(in_chs, c0, 1)
        self.branch1 = nn.Sequential(
            BasicConv2d(in_chs, c1, 1),
            BasicConv2d(c1, c1_row, (1, k), padding=(0, pad)),
            BasicConv2d(c1_row, c1_col, (k, 1), padding=(pad, 0)),
        )
        self.conv2d = nn.Conv2d(c0 + c1_col, in_chs, 1)
        self.relu: nn.Module = nn.ReLU(inplace=True) if activate else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0, x1 = parallel_pointwise(x, (self.branch0, self.branch1[0]))
        branches = torch.cat((x0, self.branch1[1:](x1)), 1)
        return self.relu(x + scaled_conv(branches, self.conv2d, self.scale))


class InceptionResNetB(FactorisedResidualBlock):
    """Inception-ResNet-B, the 17x17 block (v1: Fig 11; v2: Fig 17; TF-slim Block17), with 1x7
    and 7x1 convolutions. Inception-ResNet-v1 uses branch0 = 128, branch1 = (128, 128, 128);
    Inception-ResNet-v2 branch0 = 192, branch1 = (128, 160, 192)."""

    kernel = 7


class InceptionResNetC(FactorisedResidualBlock):
    """Inception-ResNet-C, the 8x8 block (v1: Fig 13; v2: Fig 19; TF-slim Block8), with 1x3 and
    3x1 convolutions. Inception-ResNet-v1 uses branch0 = 192, branch1 = (192, 192, 192);
    Inception-ResNet-v2 branch0 = 192, branch1 = (192, 224, 256). `activate=False` leaves out
    the final ReLU, as in the last block of the released Inception-ResNet-v2."""

    kernel = 3


@dataclass(frozen=True)
class ResidualStages:
    """The filter counts of one residual network at width 1: its three residual blocks, each
    called as `block(in_chs, scale, width)`, and the counts of its two reductions."""

    block_a: Callable[..., nn.Module]
    reduction_a: tuple[int, int, int, int]  # k, l, m, n of Table 1
    block_b: Callable[..., nn.Module]
    reduction_b: tuple[int, int, int, int]  # a, b, c1, c2 of `reductions.ReductionB`
    block_c: Callable[..., nn.Module]

    def build(
        self,
        in_chs: int,
        width: float,
        scales: tuple[float, float, float],
        repeats: tuple[int, int, int],
    ) -> tuple[nn.Sequential, ReductionA, nn.Sequential, ReductionB, nn.Sequential]:
        """The stages from 35x35 to 8x8, in order: `repeats[0]` blocks A, Reduction-A,
        `repeats[1]` blocks B, Reduction-B, `repeats[2]` blocks C. Each network stores them
        under its own names (timm's, where weights exist)."""
        repeat_a, repeat_b, repeat_c = repeats
        scale_a, scale_b, scale_c = scales
        blocks_a = nn.Sequential(*[self.block_a(in_chs, scale_a, width) for _ in range(repeat_a)])
        reduction_a = ReductionA(in_chs, *self.reduction_a, width)
        chs = reduction_a.out_chs
        blocks_b = nn.Sequential(*[self.block_b(chs, scale_b, width) for _ in range(repeat_b)])
        reduction_b = ReductionB(chs, *self.reduction_b, width)
        chs = reduction_b.out_chs
        blocks_c = nn.Sequential(*[self.block_c(chs, scale_c, width) for _ in range(repeat_c)])
        return blocks_a, reduction_a, blocks_b, reduction_b, blocks_c


class InceptionResNet(InceptionNet):
    """The schema of Fig 15, which the paper draws for both residual networks: a stem,
    5 x Inception-ResNet-A, Reduction-A, 10 x Inception-ResNet-B, Reduction-B,
    5 x Inception-ResNet-C, average pooling, dropout and the classifier.

    A network gives its filter counts (`stages`) and its stem (`build_stem`, `forward_stem`).
    `residual_scale` is one float or one per stage (A, B, C); see Fig 20.
    """

    classifier_name = "classif"
    residual = True
    stages: ClassVar[ResidualStages]

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
        chs = self.build_stem(in_chans, width)
        stages = self.stages.build(chs, width, scales, repeats=(5, 10, 5))
        self.blocks_a, self.reduction_a, self.blocks_b, self.reduction_b, self.blocks_c = stages
        self.build_head(self.reduction_b.out_chs, num_classes, drop_rate)

    def build_stem(self, in_chans: int, width: float) -> int:
        """Add the stem's layers; returns its output channels."""
        raise NotImplementedError

    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_stem(x)  # 35x35 for a 299 input
        x = self.blocks_a(x)
        x = self.reduction_a(x)  # 17x17
        x = self.blocks_b(x)
        x = self.reduction_b(x)  # 8x8
        return self.blocks_c(x)
