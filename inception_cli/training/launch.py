"""`inception train` in the CLI process: check the arguments, then hand them to the Hydra task.

Only hydra and omegaconf are imported here (no torch): mistakes get their one line before the
training process starts.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from inception_cli import runs
from inception_cli.config import (
    check_data,
    check_overrides,
    compose_train_config,
    first_of_each_sweep,
    load_run_config,
)
from inception_cli.errors import InputError

MULTIRUN_FLAGS = ("-m", "--multirun")


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
        return resume_argv(resume[-1].partition("=")[2], [o for o in overrides if o not in resume])

    check_overrides(overrides)
    cfg = compose_train_config(first_of_each_sweep(overrides), check=False)
    if multirun and is_distributed(cfg):
        raise InputError(
            "-m/--multirun with several devices hangs Lightning's DDP launcher; run each "
            "configuration on its own, or sweep with trainer.devices=1"
        )
    check_data(cfg)
    return (["--multirun"] if multirun else []) + overrides


def is_distributed(cfg: DictConfig) -> bool:
    devices = cfg.trainer.get("devices", 1)
    if OmegaConf.is_list(devices) or isinstance(devices, (list, tuple)):
        several = len(devices) > 1
    else:
        several = str(devices) in ("-1", "auto") or (isinstance(devices, int) and devices > 1)
    return several or int(cfg.trainer.get("num_nodes", 1) or 1) > 1


def resume_argv(target: str, extra: list[str]) -> list[str]:
    """Continue `target` in its own directory, from its last checkpoint, with its saved config."""
    run_dir = Path(target).expanduser().absolute()
    load_run_config(run_dir)
    if not runs.checkpoint(run_dir, "last").is_file():
        raise InputError(
            f"{run_dir} has no checkpoints/last.ckpt to resume from; start a new run instead"
        )
    return [
        f"--config-path={runs.config_path(run_dir).parent}",
        f"--config-name={runs.config_path(run_dir).stem}",
        f"hydra.run.dir={run_dir}",
        "hydra.output_subdir=null",
        "hydra.job.chdir=false",
        f"resume={run_dir}",
        *extra,
    ]
