"""The one table of what each config value may be: ranges, choices, and what Lightning accepts.

Checked in the CLI process on the composed config (every value of a sweep), before the training
process starts and before a run directory exists. Types are checked as overrides are parsed
(config.py); this table adds the ranges and choices that a type does not say. A key whose value
is null is not checked (null means "Lightning's or the tool's default"). Torch-free.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from inception_cli import catalog
from inception_cli.data.spec import AUGMENTATION_CHOICES, TF_SLIM_AUGMENTATIONS
from inception_cli.errors import InputError
from inception_cli.models.scales import stage_scales

Check = Callable[[Any], bool]
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu")
# optimizer.lr_scaling: how the rate stated for optimizer.lr_reference_batch follows the global
# batch (training/optimizers.py applies it).
LR_SCALINGS = ("linear", "sqrt", "none")
PRECISIONS = (
    "auto", "32-true", "32", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64-true", "64",
    "transformer-engine", "16", "bf16",
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    check: Check
    says: str  # what the value must be, as the one-line error states it


def number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def at_least(low: float, *, integer: bool = True) -> Rule:
    kind = "an integer" if integer else "a number"
    return Rule(
        lambda v: number(v) and (not integer or float(v).is_integer()) and v >= low,
        f"{kind} >= {low:g}",
    )


def within(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Rule:
    left, right = "(" if low_open else "[", ")" if high_open else "]"

    def inside(v: Any) -> bool:
        if not number(v):
            return False
        above = v > low if low_open else v >= low
        below = v < high if high_open else v <= high
        return above and below

    if high == math.inf:
        return Rule(inside, f"a number {'>' if low_open else '>='} {low:g}")
    return Rule(inside, f"a number in {left}{low:g}, {high:g}{right}")


def one_of(*choices: str) -> Rule:
    return Rule(lambda v: str(v) in choices, f"one of {', '.join(choices)}")


def devices(value: Any) -> bool:
    """What Lightning's Trainer takes: a count >= 1, -1 or "auto", or a list of device indices."""
    if isinstance(value, list | tuple) or OmegaConf.is_list(value):
        return len(value) > 0 and all(isinstance(v, int) and v >= 0 for v in value)
    if isinstance(value, str):
        return value == "auto" or value.isdigit() and int(value) >= 1 or value == "-1"
    return isinstance(value, int) and not isinstance(value, bool) and (value >= 1 or value == -1)


def batch_limit(value: Any) -> bool:
    """Lightning's limit_*_batches: a count of batches, or a fraction of them."""
    if isinstance(value, bool) or not number(value):
        return False
    return value >= 0 if isinstance(value, int) else 0.0 <= value <= 1.0


def check_interval(value: Any) -> bool:
    """Lightning's val_check_interval: a count of batches >= 1, or a fraction of an epoch."""
    if isinstance(value, bool) or not number(value):
        return False
    return value >= 1 if isinstance(value, int) else 0.0 < value <= 1.0


def betas(value: Any) -> bool:
    """Adam's pair of decay rates, each in [0, 1)."""
    if not (isinstance(value, list | tuple) or OmegaConf.is_list(value)) or len(value) != 2:
        return False
    return all(number(v) and 0.0 <= v < 1.0 for v in value)


def augmentation(value: Any) -> bool:
    """data.augment: a bool, or the name of a TF-slim preprocessing."""
    return isinstance(value, bool) or str(value) in ("true", "false", *TF_SLIM_AUGMENTATIONS)


def residual_scale(value: Any) -> bool:
    """model.residual_scale: numbers that the residual blocks accept (models/scales.py)."""
    values = list(value) if isinstance(value, list | tuple) or OmegaConf.is_list(value) else [value]
    try:
        stage_scales(values)
    except ValueError:
        return False
    return all(number(v) for v in values)


POSITIVE = within(0.0, math.inf, low_open=True)
SEED_MAX = 2**32 - 1  # numpy's seeds are unsigned 32-bit (Lightning's seed_everything)
COUNT_OR_ALL = Rule(lambda v: v == -1 or at_least(0).check(v), "an integer >= 0 or -1 (all)")
# Keys whose values take more forms than their default's type (trainer.devices=auto, =[0,1];
# data.augment=inception).
OWN_TYPES = frozenset({"trainer.devices", "data.augment"})
RULES: dict[str, Rule] = {
    "seed": Rule(
        lambda v: at_least(0).check(v) and v <= SEED_MAX, f"an integer in [0, {SEED_MAX}]"
    ),
    "loss.label_smoothing": within(0.0, 1.0, high_open=True),
    "loss.aux_weight": within(0.0, math.inf),
    "ema.decay": within(0.0, 1.0, low_open=True, high_open=True),
    "model.width": POSITIVE,
    "model.drop_rate": within(0.0, 1.0, high_open=True),
    "model.residual_scale": Rule(residual_scale, "a positive number, or one per stage (3)"),
    "data.batch_size": at_least(1),
    "data.num_workers": at_least(0),
    "data.num_classes": at_least(2),  # a classifier of one class (torchmetrics refuses it)
    "data.input_size": at_least(1),
    "data.max_image_pixels": at_least(1),
    "data.in_chans": at_least(1),
    "data.num_train": at_least(1),
    "data.num_val": at_least(1),
    "data.crop_fraction": within(0.0, 1.0, low_open=True),
    "data.color_jitter": within(0.0, math.inf),
    "data.augment": Rule(augmentation, AUGMENTATION_CHOICES),
    "optimizer.lr": POSITIVE,
    "optimizer.weight_decay": within(0.0, math.inf),
    "optimizer.momentum": within(0.0, 1.0, high_open=True),
    "optimizer.alpha": within(0.0, 1.0, low_open=True, high_open=True),
    "optimizer.eps": POSITIVE,
    "optimizer.betas": Rule(betas, "two numbers in [0, 1), e.g. [0.9, 0.999]"),
    "optimizer.dampening": within(0.0, 1.0),
    "optimizer.lr_reference_batch": at_least(1),
    "optimizer.lr_scaling": one_of(*LR_SCALINGS),
    "scheduler.decay_rate": within(0.0, 1.0, low_open=True),
    "scheduler.decay_epochs": POSITIVE,
    "scheduler.warmup_epochs": within(0.0, math.inf),
    "scheduler.min_lr_ratio": within(0.0, 1.0),
    "trainer.accelerator": one_of(*ACCELERATORS),
    "trainer.precision": one_of(*PRECISIONS),
    "trainer.devices": Rule(devices, 'a count >= 1, -1, "auto" or a list of device indices'),
    "trainer.num_nodes": at_least(1),
    "trainer.max_epochs": Rule(lambda v: v == -1 or at_least(1).check(v), "an integer >= 1 or -1"),
    "trainer.max_steps": Rule(lambda v: v == -1 or at_least(1).check(v), "an integer >= 1 or -1"),
    "trainer.min_epochs": at_least(0),
    "trainer.min_steps": at_least(0),
    "trainer.num_sanity_val_steps": COUNT_OR_ALL,
    "trainer.reload_dataloaders_every_n_epochs": at_least(0),
    "trainer.log_every_n_steps": at_least(1),
    "trainer.accumulate_grad_batches": at_least(1),
    "trainer.check_val_every_n_epoch": at_least(1),
    "trainer.gradient_clip_val": within(0.0, math.inf),
    "trainer.gradient_clip_algorithm": one_of("norm", "value"),
    "trainer.val_check_interval": Rule(
        check_interval, "a count of batches >= 1 or a fraction in (0, 1]"
    ),
    "trainer.overfit_batches": Rule(batch_limit, "a count of batches >= 0 or a fraction"),
    "trainer.limit_train_batches": Rule(batch_limit, "a count of batches >= 0 or a fraction"),
    "trainer.limit_val_batches": Rule(batch_limit, "a count of batches >= 0 or a fraction"),
    "callbacks.checkpoint_every_n_train_steps": at_least(0),
    "callbacks.progress_bar": one_of("rich", "tqdm", "none"),
    "divergence.max_loss": POSITIVE,
    "ddp_timeout_s": POSITIVE,
}


def check_nesterov(cfg: DictConfig) -> None:
    """torch's SGD takes Nesterov momentum only with a momentum and no dampening."""
    optimizer = OmegaConf.select(cfg, "optimizer", default=None, throw_on_missing=False)
    if not isinstance(optimizer, DictConfig) or optimizer.get("nesterov") is not True:
        return
    momentum, dampening = optimizer.get("momentum", 0), optimizer.get("dampening", 0)
    if not (number(momentum) and momentum > 0) or dampening != 0:
        raise InputError(
            f"optimizer.nesterov=true needs optimizer.momentum > 0 and optimizer.dampening=0 "
            f"(momentum={momentum}, dampening={dampening}); set them, or optimizer.nesterov=false"
        )


def check_values(cfg: DictConfig) -> None:
    """InputError naming the first value outside its rule, and the input-size floor of the
    model (the valid-padding stems need 75 px)."""
    for key, rule in RULES.items():
        value = OmegaConf.select(cfg, key, default=None, throw_on_missing=False)
        if value is not None and not rule.check(value):
            raise InputError(f"{key}={value!r} is out of range: it must be {rule.says}")
    check_nesterov(cfg)
    model = str(OmegaConf.select(cfg, "model.name", default=""))
    size = OmegaConf.select(cfg, "data.input_size", default=None, throw_on_missing=False)
    known = catalog.CATALOG.get(model)
    if known is not None and isinstance(size, int) and size < known.min_input_size:
        raise InputError(
            f"data.input_size={size} is below the {known.min_input_size} px that {model} accepts "
            f"(its stem has valid-padding stride-2 layers); use data.input_size>="
            f"{known.min_input_size}"
        )
