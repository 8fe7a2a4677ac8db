"""Building blocks shared by every family: the conv-BN-ReLU unit, channel scaling, the width
check, the filter concatenation and the classifier head."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn


def scaled(channels: int, width: float) -> int:
    """Number of channels of a layer after applying the width multiplier (at least 1)."""
    return max(1, int(round(channels * width)))


def check_width(width: float) -> None:
    """Every family accepts the same widths: any positive, finite multiplier."""
    if not math.isfinite(width) or width <= 0:
        raise ValueError(f"width must be a positive number, got {width}; 1.0 is the paper's size")


Pool = Callable[[torch.Tensor], torch.Tensor]


def is_pointwise(conv: nn.Conv2d) -> bool:
    """A 1x1 convolution with stride 1 and no padding: a linear map of each position's channels."""
    return conv.kernel_size == (1, 1) and conv.stride == (1, 1) and conv.padding == (0, 0)


def check_pointwise(conv: nn.Conv2d) -> None:
    if not is_pointwise(conv):
        raise ValueError(
            "only a 1x1 convolution with stride 1 commutes with pooling; got kernel "
            f"{conv.kernel_size}, stride {conv.stride}, padding {conv.padding}"
        )


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

    def then_max_pool(self, x: torch.Tensor, pool: Pool) -> torch.Tensor:
        """`pool(self(x))` for a max pooling, with the ReLU after the pooling: a monotone function
        commutes with taking a maximum, so the ReLU and its backward run on the pooled map (a
        quarter of the size for the stride-2 pools of the stems) and the full-size map is never
        rectified. Called this way, the layer's own forward hooks do not fire (the pool's do)."""
        return self.relu(pool(self.bn(self.conv(x))))

    def after_avg_pool(self, x: torch.Tensor, pool: Pool) -> torch.Tensor:
        """`self(pool(x))` for an average pooling and a 1x1 convolution, with the convolution
        first: both are linear maps, one across channels and one across positions, so they
        commute. The pooling then runs on this layer's output channels, which in every Inception
        block are far fewer than its input's (Inception-B of Fig 5: 128 instead of 1024)."""
        check_pointwise(self.conv)
        return self.relu(self.bn(pool(self.conv(x))))


def scaled_conv(x: torch.Tensor, conv: nn.Conv2d, scale: float) -> torch.Tensor:
    """`scale * conv(x)`, with the scale applied to the weights and bias (thousands of numbers)
    instead of the output (millions): the residual scaling of Fig 20 then costs no pass over the
    activations, forward or backward."""
    bias = None if conv.bias is None else conv.bias * scale
    return F.conv2d(
        x, conv.weight * scale, bias, conv.stride, conv.padding, conv.dilation, conv.groups
    )


class PoolProjection(nn.Sequential):
    """The pool branch of the TF-slim blocks (Figs 4-6, irv2's stem): 3x3 average pooling with
    SAME padding, which leaves the padding out of the average, then a 1x1 `BasicConv2d`.

    Keyed as the `nn.Sequential(pool, conv)` of timm's port (`.1.conv`, `.1.bn`), so published
    weights load; computed convolution first (see `BasicConv2d.after_avg_pool`).
    """

    def __init__(self, in_chs: int, out_chs: int) -> None:
        super().__init__(
            nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
            BasicConv2d(in_chs, out_chs, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool, projection = self
        # After fold_batchnorm the projection is a FoldedConv2d, which has the same method.
        return cast(BasicConv2d, projection).after_avg_pool(x, pool)


class Block(nn.Module):
    """A block that knows its output channels, so the next one can be sized at any width."""

    out_chs: int


class FilterConcat(Block):
    """The "Filter concat" of the paper's figures: every branch reads the block's input, and their
    outputs are concatenated along the channels in the order the branches are declared. A
    subclass declares its branches, and nothing else, as submodules."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.children()], 1)


class InceptionNet(nn.Module):
    """What every network of the paper ends with (Figs 9 and 15): average pooling, dropout
    (keep 0.8 by default) and a fully connected classifier, run after `forward_features`.

    A family passes its width multiplier to `__init__` (which checks it), builds its layers, then
    calls `build_head` last, so the classifier's keys come last in the state dict. The classifier
    is stored under `classifier_name`, which differs per family because the keys must match
    timm's: `last_linear` (v4), `fc` (v3), `classif` (the residual networks).
    """

    classifier_name: str
    residual = False
    default_input_size = 299
    min_input_size = 75
    num_classes: int
    num_features: int

    def __init__(self, width: float) -> None:
        super().__init__()
        check_width(width)

    def build_head(self, num_features: int, num_classes: int, drop_rate: float) -> None:
        self.num_features = num_features
        self.num_classes = num_classes
        self.global_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
        self.head_drop = nn.Dropout(drop_rate)
        setattr(self, self.classifier_name, nn.Linear(num_features, num_classes))

    def get_classifier(self) -> nn.Module:
        return self.get_submodule(self.classifier_name)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.head_drop(self.global_pool(x))
        return x if pre_logits else self.get_classifier()(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
