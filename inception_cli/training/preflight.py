"""Everything `inception train` can check before the training process starts and before a run
directory exists: every job of a sweep, each value against its rule (config/rules.py), the
hardware a preset asks for, and the packages of the loggers it names. Torch-free."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from inception_cli.config.compose import compose_train_config, parse_overrides
from inception_cli.config.rules import check_values
from inception_cli.errors import InputError

MAX_SWEEP_JOBS_CHECKED = 64
# A logger's class -> the module it needs, and how to install it.
LOGGER_PACKAGES = {
    "TensorBoardLogger": (
        ("tensorboard", "tensorboardX"),
        "pip install 'inception-paper-lab[tensorboard]'",
    ),
    "WandbLogger": (("wandb",), "pip install wandb"),
    "MLFlowLogger": (("mlflow",), "pip install mlflow"),
    "CometLogger": (("comet_ml",), "pip install comet_ml"),
    "NeptuneLogger": (("neptune",), "pip install neptune"),
}
GPU_ACCELERATORS = ("gpu", "cuda")


def sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """The overrides of each job a `-m` sweep runs (Hydra's basic sweeper: every combination),
    at most MAX_SWEEP_JOBS_CHECKED of them."""
    parsed = parse_overrides(overrides)
    choices: list[list[str]] = []
    for override in parsed:
        prefix = "+" if override.is_add() else ("++" if override.is_force_add() else "")
        key = f"{prefix}{override.key_or_group}"
        if override.is_discrete_sweep():
            choices.append([f"{key}={value}" for value in override.sweep_string_iterator()])
        elif override.is_sweep_override():  # interval(a,b) for a sweeper: check its lower end
            choices.append([f"{key}={override.value().start}"])
        else:
            choices.append([str(override.input_line)])
    jobs = itertools.islice(itertools.product(*choices), MAX_SWEEP_JOBS_CHECKED)
    return [list(job) for job in jobs]


def has_gpu() -> bool:
    """An NVIDIA device is present (torch is not imported to ask)."""
    return Path("/proc/driver/nvidia/gpus").is_dir() or any(Path("/dev").glob("nvidia[0-9]*"))


def check_hardware(cfg: DictConfig) -> None:
    accelerator = str(cfg.trainer.get("accelerator", "auto"))
    precision = str(cfg.trainer.get("precision", "auto"))
    gpu = has_gpu()
    if accelerator in GPU_ACCELERATORS and not gpu:
        raise InputError(
            f"trainer.accelerator={accelerator} but this machine has no GPU; "
            "use trainer=cpu (or trainer.accelerator=cpu), or run on a GPU machine"
        )
    on_cpu = accelerator == "cpu" or (accelerator == "auto" and not gpu)
    if on_cpu and precision in ("16-mixed", "16", "16-true"):
        raise InputError(
            f"trainer.precision={precision} needs a GPU; on a CPU use bf16-mixed, 32-true or auto"
        )


def check_devices(cfg: DictConfig) -> None:
    devices = cfg.trainer.get("devices", 1)
    accelerator = str(cfg.trainer.get("accelerator", "auto"))
    on_cpu = accelerator == "cpu" or (accelerator == "auto" and not has_gpu())
    if on_cpu and (isinstance(devices, list | tuple) or OmegaConf.is_list(devices)):
        raise InputError(
            f"trainer.devices={list(devices)} names GPU indices; on a CPU give a number of "
            f"processes, e.g. trainer.devices={len(devices)}"
        )


def check_packages(cfg: DictConfig) -> None:
    for name, logger in (cfg.get("logger") or {}).items():
        target = str(OmegaConf.select(logger, "_target_", default="") or "")
        needs = LOGGER_PACKAGES.get(target.rpartition(".")[2])
        if needs and not any(importlib.util.find_spec(module) for module in needs[0]):
            raise InputError(
                f"logger {name} needs the {needs[0][0]} package, which is not installed: "
                f"{needs[1]} (or drop logger={name})"
            )


# What a deletion (~key) may remove, and what to write instead of the others.
DELETABLE = ("scheduler", "logger.", "callbacks.extra.")
INSTEAD = {
    "ema": "ema.enabled=false turns the moving average off",
    "scheduler": "",
    "logger": "logger=csv keeps only metrics.csv",
    "divergence": "divergence.max_loss=null keeps only the non-finite check",
}


def check_deletions(overrides: list[str]) -> None:
    for override in parse_overrides(overrides):
        if not override.is_delete():
            continue
        key = override.key_or_group
        if key.startswith(DELETABLE) and key != "logger.csv":
            continue
        instead = INSTEAD.get(key.split(".")[0], "")
        raise InputError(
            f"~{key} removes part of the config a run needs"
            + (f"; {instead}" if instead else "; override its value instead")
        )


def check_added_keys(cfg: DictConfig, overrides: list[str]) -> None:
    """`+trainer.max_epoch=3` adds a key the Trainer does not take: say so before it fails."""
    import inspect

    from hydra.utils import get_method

    for override in parse_overrides(overrides):
        if not (override.is_add() or override.is_force_add()) or "." not in override.key_or_group:
            continue
        parent_key, _, leaf = override.key_or_group.rpartition(".")
        target = OmegaConf.select(cfg, f"{parent_key}._target_", default=None)
        if not isinstance(target, str) or leaf.startswith("_"):
            continue
        try:
            parameters = inspect.signature(get_method(target)).parameters
        except Exception:  # a target that cannot be imported fails with its own message later
            continue
        takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        if not takes_any and leaf not in parameters:
            import difflib

            close = difflib.get_close_matches(leaf, list(parameters), n=1)
            hint = f"; did you mean {parent_key}.{close[0]}?" if close else ""
            raise InputError(f"{target} takes no argument {leaf!r} ({override.key_or_group}){hint}")


def preflight(cfg: DictConfig, overrides: list[str]) -> None:
    check_deletions(overrides)
    check_values(cfg)
    check_hardware(cfg)
    check_devices(cfg)
    check_packages(cfg)
    check_added_keys(cfg, overrides)


def check_every_job(overrides: list[str]) -> list[DictConfig]:
    """Compose and check each job of the sweep; returns their configs."""
    configs = []
    for job in sweep_jobs(overrides):
        cfg = compose_train_config(job, check=False)
        preflight(cfg, job)
        configs.append(cfg)
    return configs
