"""`inception train` in the CLI process: check the arguments, then hand them to the Hydra task.

Only hydra and omegaconf are imported here (no torch): mistakes get their one line before the
training process starts.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from inception_cli.config.compose import (
    check_data,
    check_overrides,
    compose_train_config,
    launcher_choice,
    load_run_config,
)
from inception_cli.errors import InputError, first_line
from inception_cli.rundir import layout
from inception_cli.rundir.claims import lock_holder, locked_message
from inception_cli.rundir.trust import check_same_config, check_saved_overrides
from inception_cli.training.continuation import check_continuation, record_continuation
from inception_cli.training.preflight import check_every_job, preflight

MULTIRUN_FLAGS = ("-m", "--multirun")
TRUST_CONFIG = "trust_config=true"  # with resume=: instantiate any _target_ the saved config names


def prepare_train_argv(args: list[str]) -> list[str]:
    """Check `inception train` arguments and return the argv for the Hydra task module."""
    multirun = any(a in MULTIRUN_FLAGS for a in args)
    overrides = [a for a in args if a not in MULTIRUN_FLAGS]
    flags = [a for a in overrides if a.startswith("-")]
    if flags:
        raise InputError(
            f"unknown option {flags[0]!r}; `inception train` takes Hydra overrides "
            "(key=value, +key=value, ~key) and -m/--multirun"
        )
    resume = [o for o in overrides if o.startswith("resume=")]
    if resume:
        if multirun:
            raise InputError("resume= continues one run; drop -m/--multirun")
        extra = [o for o in overrides if o not in resume and o != TRUST_CONFIG]
        return resume_argv(resume[-1].partition("=")[2], extra, trust=TRUST_CONFIG in overrides)

    check_overrides(overrides)
    check_explicit_dirs(overrides)
    configs = (
        check_every_job(overrides) if multirun else [compose_train_config(overrides, check=False)]
    )
    # Each job of a SLURM launcher is its own allocation: several devices per job are fine there.
    # A sweeper (hydra/sweeper=optuna) is not a launcher: its jobs still run in this process.
    local = launcher_choice(overrides) in (None, "basic")
    if multirun and local and any(is_distributed(cfg) for cfg in configs):
        raise InputError(
            "-m/--multirun with several devices hangs Lightning's DDP launcher, whatever the "
            "sweeper; run each configuration on its own, sweep with trainer.devices=1, or give "
            "each job its own allocation with hydra/launcher=slurm"
        )
    for cfg in configs:
        if not multirun:
            preflight(cfg, overrides)
        check_data(cfg)
    return (["--multirun"] if multirun else []) + overrides


EXPLICIT_DIRS = ("hydra.run.dir", "hydra.sweep.dir")


def check_explicit_dirs(overrides: list[str]) -> None:
    """A new run given its directory (`hydra.run.dir=`, `hydra.sweep.dir=`) must not take one
    another trainer is using or that holds a run already: Hydra would write its config there
    before the run could find out, and a failed start would clear it."""
    for override in overrides:
        key, _, value = override.partition("=")
        if key not in EXPLICIT_DIRS or not value:
            continue
        folder = Path(value).expanduser()
        holder = lock_holder(folder)
        if holder is not None:
            raise InputError(
                f"{folder} is in use by another trainer (pid {holder.get('pid', '?')} on "
                f"{holder.get('host', '?')}); give {key} another folder"
            )
        if layout.has_config(folder) or next(layout.iter_runs(folder), None) is not None:
            raise InputError(
                f"{folder} holds a run already; continue it with resume={folder} or give "
                f"{key} a new folder"
            )


def check_checkpoints_load(run_dir: Path) -> None:
    """Refuse, before the training process starts, checkpoints that would run code when loaded
    (the one torch import of the CLI process, for resume= only)."""
    from inception_cli.rundir.checkpoints import load_checkpoint

    for which in (layout.LAST, layout.PREVIOUS):
        path = layout.checkpoint(run_dir, which)
        # A torn one is passed over here: resume falls back to the other one and says so.
        if path.is_file():
            with contextlib.suppress(OSError, RuntimeError, EOFError, ValueError):
                load_checkpoint(path, mmap=True)


def is_distributed(cfg: DictConfig) -> bool:
    devices = cfg.trainer.get("devices", 1)
    if OmegaConf.is_list(devices) or isinstance(devices, (list, tuple)):
        several = len(devices) > 1
    else:
        several = str(devices) in ("-1", "auto") or (isinstance(devices, int) and devices > 1)
    return several or int(cfg.trainer.get("num_nodes", 1) or 1) > 1


def resume_argv(target: str, extra: list[str], *, trust: bool = False) -> list[str]:
    """Continue `target` in its own directory, from its last checkpoint, with the config it ran
    with and the overrides a continuation may take (training/continuation.py). The config is
    composed again from conf/ and the run's saved overrides, and only compared with the saved
    one (rundir/trust.py); with `trust`, Hydra reads the saved config as it is."""
    run_dir = Path(target).expanduser().absolute()
    saved = load_run_config(run_dir)
    if lock_holder(run_dir) is not None:
        raise InputError(locked_message(run_dir))
    if not layout.has_checkpoint(run_dir):
        raise InputError(
            f"{run_dir} has no checkpoints/last.ckpt to resume from; start a new run instead"
        )
    check_checkpoints_load(run_dir)
    changed = check_continuation(run_dir, saved, extra)
    if trust:
        composition = [
            f"--config-path={layout.config_path(run_dir).parent}",
            f"--config-name={layout.config_path(run_dir).stem}",
        ]
    else:
        composition = recomposed_overrides(run_dir, changed, extra)
    record_continuation(run_dir, extra)
    return [
        *composition,
        f"hydra.run.dir={run_dir}",
        "hydra.output_subdir=null",
        "hydra.job.chdir=false",
        f"resume={run_dir}",
        *extra,
    ]


def recomposed_overrides(run_dir: Path, changed: DictConfig, extra: list[str]) -> list[str]:
    """The run's saved overrides, once conf/ composed with them (and the continuation's) gives
    the saved config: nothing of the run directory but these values reaches Hydra."""
    where = run_dir / layout.OVERRIDES
    try:
        saved_overrides = layout.load_overrides(run_dir)
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read {where}: {first_line(err)}") from None
    overrides = check_saved_overrides(saved_overrides, where)
    check_same_config(
        changed, compose_train_config([*overrides, *extra]), layout.config_path(run_dir)
    )
    return overrides
