"""What a run was set up with: its seed, its other settings (to group seeds), its batch.

Read from the resolved config the run saved (`layout.load_config`), or from summary.json for runs
copied without it. Two runs whose settings differ only in `seed` (and in bookkeeping that does
not change training: where files go, loggers, progress bars) are seeds of one experiment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inception_cli.rundir import layout

# Keys that change nothing of what is trained; a key ending in "." covers its subtree.
BOOKKEEPING = (
    "seed",
    "resume",
    "paths.",
    "logger.",
    "callbacks.",
    "trainer.enable_progress_bar",
    "trainer.enable_model_summary",
)
# What summary.json records of the settings, for runs without their config.
SUMMARY_KEYS = ("model", "width", "data", "num_classes", "max_epochs")


@dataclass(frozen=True)
class RunSettings:
    seed: int | None
    width: float | None
    data: str | None
    num_classes: int | None
    max_epochs: int | None
    residual_scale: str | None  # as the config wrote it: "1.0", "[0.17, 0.1, 0.2]"
    global_batch: int | None  # images per optimizer step over all devices; None if unknown
    wall_time_s: float | None
    # Everything but the seed and bookkeeping, as (dotted key, JSON value): equal for seeds.
    comparable: tuple[tuple[str, str], ...]
    source: str  # "config" or "summary"


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """{"model.width": 0.25, ...}; lists stay whole values."""
    if not isinstance(tree, Mapping):
        return {prefix.rstrip("."): tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}{key}."))
    return flat


def is_bookkeeping(key: str) -> bool:
    return any(key == k or (k.endswith(".") and key.startswith(k)) for k in BOOKKEEPING)


def comparable(flat: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted(
            (key, json.dumps(value, sort_keys=True, default=str))
            for key, value in flat.items()
            if not is_bookkeeping(key)
        )
    )


def positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value > 0 and float(value).is_integer() else None


def device_count(devices: Any) -> int | None:
    """Lightning's `devices`: a count, or a list of device ids; "auto" and -1 say nothing."""
    if isinstance(devices, list | tuple):
        return len(devices) or None
    if isinstance(devices, str) and devices.strip().isdigit():
        return positive_int(int(devices))
    return positive_int(devices)


def global_batch(flat: dict[str, Any]) -> int | None:
    """Images per optimizer step: batch per device x devices x nodes x accumulated batches."""
    factors = [
        positive_int(flat.get("data.batch_size")),
        device_count(flat.get("trainer.devices")),
        positive_int(flat.get("trainer.num_nodes", 1)),
        positive_int(flat.get("trainer.accumulate_grad_batches", 1)),
    ]
    if any(factor is None for factor in factors):
        return None
    total = 1
    for factor in factors:
        total *= int(factor or 1)
    return total


def integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def read_config(run_dir: Path) -> dict[str, Any] | None:
    """The run's resolved config as plain data; None without a readable one."""
    if not layout.has_config(run_dir):
        return None
    try:
        from omegaconf import OmegaConf

        container = OmegaConf.to_container(layout.load_config(run_dir), resolve=False)
    except Exception:  # a torn or hand-edited file: fall back on summary.json
        return None
    return (
        {str(key): value for key, value in container.items()}
        if isinstance(container, dict)
        else None
    )


def from_config(config: dict[str, Any], summary: dict[str, Any]) -> RunSettings:
    flat = flatten(config)
    scale = flat.get("model.residual_scale")
    return RunSettings(
        seed=integer(flat.get("seed")),
        width=number(flat.get("model.width")),
        data=str(flat["data.name"]) if flat.get("data.name") is not None else None,
        num_classes=positive_int(flat.get("data.num_classes")),
        max_epochs=positive_int(flat.get("trainer.max_epochs")),
        residual_scale=None if scale is None else json.dumps(scale),
        global_batch=global_batch(flat),
        wall_time_s=number(summary.get("wall_time_s")),
        comparable=comparable(flat),
        source="config",
    )


def from_summary(summary: dict[str, Any], model: str) -> RunSettings:
    flat = {key: summary.get(key) for key in SUMMARY_KEYS}
    flat["model"] = model
    data = summary.get("data")
    return RunSettings(
        seed=integer(summary.get("seed")),
        width=number(summary.get("width")),
        data=str(data) if data is not None else None,
        num_classes=positive_int(summary.get("num_classes")),
        max_epochs=positive_int(summary.get("max_epochs")),
        residual_scale=None,
        global_batch=None,
        wall_time_s=number(summary.get("wall_time_s")),
        comparable=comparable(flat),
        source="summary",
    )


def read_settings(run_dir: Path, summary: dict[str, Any], model: str) -> RunSettings:
    config = read_config(run_dir)
    return from_config(config, summary) if config is not None else from_summary(summary, model)
