"""Learning-rate schedules, stepped once per optimizer step."""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def _warmup_factor(step: int, warmup_steps: int) -> float:
    return min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0


def staircase(
    optimizer: Optimizer,
    *,
    steps_per_epoch: int,
    total_steps: int,
    decay_rate: float = 0.94,
    decay_epochs: float = 2,
    warmup_epochs: float = 0,
) -> LambdaLR:
    """The paper's schedule (section 4): x`decay_rate` every `decay_epochs` epochs, in steps."""
    del total_steps
    warmup_steps = int(warmup_epochs * steps_per_epoch)
    decay_steps = max(1, int(decay_epochs * steps_per_epoch))

    def factor(step: int) -> float:
        return _warmup_factor(step, warmup_steps) * decay_rate ** (step // decay_steps)

    return LambdaLR(optimizer, factor)


def cosine(
    optimizer: Optimizer,
    *,
    steps_per_epoch: int,
    total_steps: int,
    warmup_epochs: float = 0,
    min_lr_ratio: float = 0.0,
) -> LambdaLR:
    """Cosine decay from the base rate to `min_lr_ratio` of it over `total_steps`."""
    warmup_steps = int(warmup_epochs * steps_per_epoch)

    def factor(step: int) -> float:
        if step < warmup_steps:
            return _warmup_factor(step, warmup_steps)
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)
