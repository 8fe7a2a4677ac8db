"""Sibling 1x1 convolutions run as one.

Many blocks open with several 1x1 conv-BN-ReLU layers that read the same input, one per branch
(Inception-ResNet-A, Fig 16: three of 32 channels). Each is a thin matrix product that reads the
whole input; stacked into one convolution they read it once and make one product wide enough
to use the hardware. BatchNorm and ReLU act per channel, so they apply to the stacked output
unchanged. The layers stay separate modules with their own keys; only `forward` stacks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from inception_cli.models.fusion import FoldedConv2d
from inception_cli.models.layers import BasicConv2d, is_pointwise

__all__ = ["parallel_pointwise"]


def parallel_pointwise(x: torch.Tensor, units: Sequence[nn.Module]) -> tuple[torch.Tensor, ...]:
    """`tuple(unit(x) for unit in units)` for 1x1 `BasicConv2d` (or folded) units, computed as
    one convolution, one BatchNorm and one ReLU over the stacked channels.

    In training the BatchNorm statistics of each channel are those of its own layer, and each
    layer's running statistics are updated as its own BatchNorm would. Units that cannot be
    stacked (other kernels, SyncBatchNorm, cumulative-average BatchNorm, mixed modes) run one by
    one.
    """
    if not stackable(units):
        return tuple(unit(x) for unit in units)
    convs: list[nn.Conv2d] = [unit.conv for unit in units]  # type: ignore[misc]
    sizes = [conv.out_channels for conv in convs]
    weight = torch.cat([conv.weight for conv in convs])
    if isinstance(units[0], FoldedConv2d):
        out = F.conv2d(x, weight, torch.cat([cast(torch.Tensor, conv.bias) for conv in convs]))
    else:
        norms: list[nn.BatchNorm2d] = [unit.bn for unit in units]  # type: ignore[misc]
        out = stacked_batch_norm(F.conv2d(x, weight), norms, sizes)
    return F.relu(out, inplace=True).split(sizes, 1)


def stacked_batch_norm(
    x: torch.Tensor, norms: Sequence[nn.BatchNorm2d], sizes: Sequence[int]
) -> torch.Tensor:
    """The BatchNorms `norms`, of `sizes` channels each, applied to their stacked channels `x`."""
    first = norms[0]
    running_mean = torch.cat([norm.running_mean for norm in norms])  # type: ignore[misc]
    running_var = torch.cat([norm.running_var for norm in norms])  # type: ignore[misc]
    out = F.batch_norm(
        x,
        running_mean,
        running_var,
        torch.cat([norm.weight for norm in norms]),
        torch.cat([norm.bias for norm in norms]),
        first.training,
        first.momentum,  # type: ignore[arg-type]
        first.eps,
    )
    if first.training:  # F.batch_norm updated the stacked copies; hand each layer its part
        # One multi-tensor kernel per kind of statistic, not one small kernel per layer.
        with torch.no_grad():
            torch._foreach_copy_(
                [cast(torch.Tensor, norm.running_mean) for norm in norms],
                list(running_mean.split(sizes)),
            )
            torch._foreach_copy_(
                [cast(torch.Tensor, norm.running_var) for norm in norms],
                list(running_var.split(sizes)),
            )
            torch._foreach_add_([cast(torch.Tensor, norm.num_batches_tracked) for norm in norms], 1)
    return out


def stackable(units: Sequence[nn.Module]) -> bool:
    """Whether `units` compute the same kind of layer on the same input, so that stacking them
    changes nothing: 1x1 convolutions alike but for their output channels, then BatchNorms with
    one configuration, in one mode."""
    kind = type(units[0])
    if kind not in (BasicConv2d, FoldedConv2d) or any(type(unit) is not kind for unit in units):
        return False
    convs: list[nn.Conv2d] = [unit.conv for unit in units]  # type: ignore[misc]
    if any(
        not is_pointwise(conv)
        or conv.dilation != (1, 1)
        or conv.groups != 1
        or conv.in_channels != convs[0].in_channels
        or (conv.bias is None) != (kind is BasicConv2d)
        for conv in convs
    ):
        return False
    if kind is FoldedConv2d:
        return True
    norms: list[nn.Module] = [unit.bn for unit in units]  # type: ignore[misc]
    first = norms[0]
    return all(
        type(norm) is nn.BatchNorm2d  # not SyncBatchNorm, which must see every rank's batch
        and norm.affine
        and norm.track_running_stats
        and norm.momentum is not None
        and norm.momentum == first.momentum
        and norm.eps == first.eps
        and norm.training == first.training
        for norm in norms
    )
