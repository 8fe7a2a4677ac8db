"""Building blocks shared by every family: the conv-BN-ReLU unit and channel scaling."""

from __future__ import annotations

import torch
from torch import nn


def scaled(channels: int, width: float) -> int:
    """Number of channels of a layer after applying the width multiplier (at least 1)."""
    return max(1, int(round(channels * width)))


class BasicConv2d(nn.Module):
    """Convolution without bias, BatchNorm (eps 1e-3, as TF-slim) and ReLU.

    Keys (`conv`, `bn`) follow timm's port of the TF-slim models so weights load without renaming.
    """

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        kernel_size: int | tuple[int, int],
        stride: int = 1,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_chs, out_chs, kernel_size, stride=stride, padding=padding, bias=False
        )
        self.bn = nn.BatchNorm2d(out_chs, eps=1e-3)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))
