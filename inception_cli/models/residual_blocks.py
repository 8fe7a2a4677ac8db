"""The Inception-ResNet blocks and residual scaling, shared by both residual networks.

Inception-ResNet-v1 (Figs 10, 11, 13) and Inception-ResNet-v2 (Figs 16, 17, 19) build the same
three blocks with other filter counts, so each block takes its counts (at width 1) from the
family, as the grid reductions do (`reductions.py`).

Every block ends in a 1x1 convolution with bias and without BatchNorm or activation that maps
the concatenated branches back to the block's input channels; its output is scaled before the
addition (Fig 20): `out = ReLU(x + scale * branch)`. The scale multiplies the projection's
weights and bias rather than its output (`layers.scaled_conv`), and the 1x1 layers that open the
branches run as one convolution (`parallel.parallel_pointwise`): the same function, fewer passes
over the activations. Module names (`branch0`, `branch1`, `branch2`, `conv2d`) follow timm's port
of the TF-slim Inception-ResNet-v2, so its published weights load as is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from inception_cli.errors import InputError
from inception_cli.models.layers import BasicConv2d, scaled, scaled_conv
from inception_cli.models.parallel import parallel_pointwise

__all__ = [
    "DEFAULT_RESIDUAL_SCALE",
    "InceptionResNetA",
    "InceptionResNetB",
    "InceptionResNetC",
    "ResidualScale",
    "stage_scales",
]

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
