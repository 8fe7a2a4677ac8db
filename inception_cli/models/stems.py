"""The plain stem of Inception-v3 (v3 paper Table 1), which Inception-ResNet-v1 (Fig 14) and the
released Inception-ResNet-v2 begin with too, and the two helpers that build and run it.

timm keeps these layers as attributes of the network itself, under names that differ per family
(`Conv2d_1a_3x3` in Inception-v3, `conv2d_1a` in Inception-ResNet-v2), so their state dict keys
are `Conv2d_1a_3x3.conv.weight` rather than `stem.0.conv.weight`. A family therefore lists its
own keys beside the shared layers: `add_layers` sets them on the network under those keys and
`forward_layers` runs them in order. The stem of Inception-v4 (Fig 3), built from filter
concatenations, stays in `inception_v4.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

import torch
from torch import nn

from inception_cli.models.layers import BasicConv2d, scaled

__all__ = [
    "MAX_POOL",
    "SLIM_STEM_KEYS",
    "V3_STEM",
    "ConvSpec",
    "LayerSpec",
    "add_layers",
    "forward_layers",
]


@dataclass(frozen=True)
class ConvSpec:
    """A `BasicConv2d` of a stem, by its output channels at width 1."""

    out_chs: int
    kernel_size: int
    stride: int = 1
    padding: int = 0


MAX_POOL: Literal["max_pool"] = "max_pool"  # 3x3 max pooling, stride 2, valid
LayerSpec = ConvSpec | Literal["max_pool"]

# 299 → 149 → 147 → 147 → 73 → 73 → 71: the layers up to the 71x71x192 map of Fig 14.
V3_STEM: tuple[LayerSpec, ...] = (
    ConvSpec(32, 3, stride=2),
    ConvSpec(32, 3),
    ConvSpec(64, 3, padding=1),
    MAX_POOL,
    ConvSpec(80, 1),
    ConvSpec(192, 3),
)
# The keys of those layers in timm's port of Inception-ResNet-v2, which Inception-ResNet-v1 takes.
SLIM_STEM_KEYS = ("conv2d_1a", "conv2d_2a", "conv2d_2b", "maxpool_3a", "conv2d_3b", "conv2d_4a")


def add_layers(
    net: nn.Module, keys: Sequence[str], specs: Sequence[LayerSpec], in_chs: int, width: float
) -> int:
    """Build `specs` in order (which fixes their random initialisation) and set them on `net`
    under `keys`; returns the channels of the last convolution."""
    for position, (key, spec) in enumerate(zip(keys, specs, strict=True)):
        if isinstance(spec, ConvSpec):
            out_chs = scaled(spec.out_chs, width)
            conv = BasicConv2d(in_chs, out_chs, spec.kernel_size, spec.stride, spec.padding)
            net.add_module(key, conv)
            in_chs = out_chs
        elif position > 0 and isinstance(specs[position - 1], ConvSpec):
            net.add_module(key, nn.MaxPool2d(3, stride=2))
        else:
            raise ValueError(f"the max pooling {key!r} must follow a convolution")
    return in_chs


def forward_layers(net: nn.Module, keys: Sequence[str], x: torch.Tensor) -> torch.Tensor:
    """Run the layers `keys` of `net` in order. Each max pooling runs inside the convolution
    before it, ahead of that convolution's ReLU (`BasicConv2d.then_max_pool`)."""
    layers = [getattr(net, key) for key in keys]
    for layer, following in zip(layers, [*layers[1:], None], strict=True):
        if isinstance(layer, nn.MaxPool2d):
            continue
        if isinstance(following, nn.MaxPool2d):
            # After fold_batchnorm the layer is a FoldedConv2d, which has the same method.
            x = cast(BasicConv2d, layer).then_max_pool(x, following)
        else:
            x = layer(x)
    return x
