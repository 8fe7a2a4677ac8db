"""The recipe's optimizer from its config group: the arguments it is built with, and its learning
rate scaled from the batch it is stated for to the run's global batch (docs/cluster.md)."""

from __future__ import annotations

import math

from omegaconf import DictConfig, OmegaConf

from inception_cli.config.rules import LR_SCALINGS
from inception_cli.errors import InputError

# Keys of conf/optimizer that say how to scale the rate; the optimizer itself never sees them.
SCALING_KEYS = ("lr_reference_batch", "lr_scaling")


def effective_lr(optimizer_cfg: DictConfig, batch: int) -> float:
    """`optimizer.lr`, stated for `optimizer.lr_reference_batch`, scaled to `batch` by
    `optimizer.lr_scaling`."""
    lr = float(optimizer_cfg.lr)
    scaling = str(optimizer_cfg.get("lr_scaling", "none"))
    reference = optimizer_cfg.get("lr_reference_batch")
    if scaling not in LR_SCALINGS:
        raise InputError(f"optimizer.lr_scaling={scaling!r}; use one of {', '.join(LR_SCALINGS)}")
    if scaling == "none" or reference is None:
        return lr
    if int(reference) < 1:
        raise InputError(f"optimizer.lr_reference_batch={reference} must be a positive batch size")
    ratio = batch / int(reference)
    return lr * (ratio if scaling == "linear" else math.sqrt(ratio))


def optimizer_arguments(optimizer_cfg: DictConfig) -> DictConfig:
    """The optimizer config without the keys that only say how to scale its rate."""
    keep = [str(k) for k in optimizer_cfg if k not in SCALING_KEYS]
    return OmegaConf.masked_copy(optimizer_cfg, keep)
