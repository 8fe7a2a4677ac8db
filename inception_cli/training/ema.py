"""Exponential moving average of the weights (the paper evaluates the running average)."""

from __future__ import annotations

import torch
from torch import nn


def ema_decay(decay: float, updates: int) -> float:
    """min(decay, (1 + t) / (10 + t)) after t updates, as TensorFlow's
    ExponentialMovingAverage(num_updates=t): short runs are not dominated by the initial weights."""
    return min(decay, (1 + updates) / (10 + updates))


@torch.no_grad()
def update_ema(average: nn.Module, model: nn.Module, decay: float) -> None:
    """average = decay * average + (1 - decay) * model, for weights and BatchNorm statistics;
    integer buffers (BatchNorm's batch counts) are copied. Two multi-tensor operations in all,
    whatever the depth of the network: one per tensor would be about 900 kernel launches a
    step for Inception-v4 on a GPU."""
    averaged, latest, counted, counts = [], [], [], []
    for ema_value, value in zip(_state(average), _state(model), strict=True):
        if ema_value.is_floating_point():
            averaged.append(ema_value)
            latest.append(value)
        else:
            counted.append(ema_value)
            counts.append(value)
    if averaged:
        torch._foreach_lerp_(averaged, latest, 1.0 - decay)
    if counted:
        torch._foreach_copy_(counted, counts)


def _state(model: nn.Module) -> list[torch.Tensor]:
    return [*model.parameters(), *model.buffers()]
