"""What `inception train resume=runs/<id> [OVERRIDES]` may change, checked in the CLI process.

A continuation keeps what makes it the same run: the network, the data set, the recipe and the
global batch. It may run longer, log to more places, read its data from another place, and
spread the same global batch over another number of devices. Everything else is refused with
one line, before anything in the run directory is touched.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from inception_cli.config.compose import parse_overrides
from inception_cli.errors import InputError
from inception_cli.rundir import layout

# Keys (and groups) a continuation may override. Device counts and the per-device batch are
# allowed together, as long as the global batch stays what it was.
ALLOWED = (
    "trainer.max_epochs",
    "logger",
    "data.root",
    "data.num_workers",
    "data.pin_memory",
    "data.persistent_workers",
    "data.batch_size",
    "trainer.devices",
    "trainer.num_nodes",
    "trainer.accelerator",
    "trainer.strategy",
    "callbacks.progress_bar",
    "callbacks.checkpoint_every_n_train_steps",
)
RESUMES = "resumes.jsonl"


def allowed(key: str) -> bool:
    return any(key == a or key.startswith(f"{a}.") for a in ALLOWED)


def check_continuation(run_dir: Path, saved: DictConfig, overrides: Sequence[str]) -> DictConfig:
    """Refuse overrides that would make a different run, and a continuation with nothing to do;
    returns the saved config with the overrides applied."""
    parsed = parse_overrides(overrides)
    changed = saved.copy()
    for override in parsed:
        key = override.key_or_group
        if override.is_sweep_override() or not allowed(key):
            current = OmegaConf.select(saved, key, default=None)
            was = f" (the run has {key}={current})" if current is not None else ""
            raise InputError(
                f"resume= continues the same run and cannot change {key}{was}; "
                "start a new run for a different configuration"
            )
        if not key.startswith("logger"):
            OmegaConf.update(changed, key, override.value(), force_add=True)
    check_global_batch(saved, changed)
    check_more_epochs(run_dir, saved, changed)
    return changed


def global_batch(cfg: DictConfig) -> int:
    devices = cfg.trainer.get("devices", 1)
    count = (
        len(devices)
        if isinstance(devices, (list, tuple)) or OmegaConf.is_list(devices)
        else devices
    )
    if not isinstance(count, int):
        raise InputError(
            f"resume= needs a number for trainer.devices (got {count!r}) to keep the global batch"
        )
    nodes = int(cfg.trainer.get("num_nodes", 1) or 1)
    accumulate = int(cfg.trainer.get("accumulate_grad_batches", 1) or 1)
    return int(cfg.data.batch_size) * count * nodes * accumulate


def check_global_batch(saved: DictConfig, changed: DictConfig) -> None:
    before, after = global_batch(saved), global_batch(changed)
    if before != after:
        raise InputError(
            f"resume= must keep the global batch of {before} images (data.batch_size x devices "
            f"x nodes x accumulation); these overrides make it {after}"
        )


def check_more_epochs(run_dir: Path, saved: DictConfig, changed: DictConfig) -> None:
    summary = layout.read_summary(run_dir) or {}
    done = int(summary.get("epochs") or 0)
    wanted = int(changed.trainer.max_epochs)
    if wanted != int(saved.trainer.max_epochs):
        if OmegaConf.select(saved, "scheduler._target_", default="").endswith(".cosine"):
            raise InputError(
                "resume= cannot change trainer.max_epochs under the cosine schedule (its length "
                "would change and the learning rate jump); start a new run instead"
            )
        if wanted <= done:
            raise InputError(
                f"trainer.max_epochs={wanted} is not above the {done} epochs the run has done; "
                f"pass a larger value to train it longer"
            )
    elif summary.get("status") == "finished":
        raise InputError(
            f"{run_dir.name} has finished ({done} epochs); to train it longer pass "
            f"trainer.max_epochs=N with N > {done}"
        )


def record_continuation(run_dir: Path, overrides: Sequence[str], how: str = "resume=") -> None:
    """Append this continuation, with its time, how it came (`resume=`, or a restarted job that
    continues by itself) and its overrides, to resumes.jsonl in the run."""
    line = json.dumps({"at": layout.now_iso(), "how": how, "overrides": list(overrides)})
    with (run_dir / RESUMES).open("a", encoding="utf-8") as file:
        file.write(line + "\n")
