"""Scale: the trainer's devices and nodes from a SLURM launcher, the global batch (the learning
rate it implies is training/optimizers.py's), and who acts on a scheduler's signals
(docs/cluster.md)."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from inception_cli.errors import InputError

SCHEDULER_WARNINGS = ("SIGUSR1", "SIGUSR2")  # sent ahead of a time limit or a preemption


def apply_launcher(cfg: DictConfig, launcher: Any) -> None:
    """Under hydra/launcher=slurm, the trainer's devices and nodes are the launcher's tasks per
    node and nodes: they are said once, where SLURM needs them."""
    target = str(OmegaConf.select(launcher, "_target_", default="") or "")
    if not target.endswith("SlurmLauncher"):
        return
    with open_dict(cfg):
        cfg.trainer.devices = int(launcher.tasks_per_node)
        cfg.trainer.num_nodes = int(launcher.nodes)


def device_count(trainer_cfg: DictConfig) -> int:
    """The devices per node a trainer config asks for, with `auto`/-1 counted as Lightning does."""
    devices = trainer_cfg.get("devices", 1)
    if OmegaConf.is_list(devices) or isinstance(devices, (list, tuple)):
        return len(devices)
    if str(devices) in ("auto", "-1"):
        accelerator = str(trainer_cfg.get("accelerator", "auto"))
        if accelerator in ("gpu", "cuda", "auto"):
            import torch

            if torch.cuda.is_available():
                return torch.cuda.device_count()
        return 1
    if isinstance(devices, str) and devices.isdigit():
        return int(devices)
    if not isinstance(devices, int):
        raise InputError(f"trainer.devices={devices!r} is not a device count or list")
    return devices


def process_count(trainer_cfg: DictConfig) -> int:
    """Training processes over every node: one per device."""
    return device_count(trainer_cfg) * int(trainer_cfg.get("num_nodes", 1) or 1)


def global_batch(cfg: DictConfig) -> int:
    """Images per optimizer step over every device: batch x devices x nodes x accumulation."""
    accumulate = int(cfg.trainer.get("accumulate_grad_batches", 1) or 1)
    return int(cfg.data.batch_size) * process_count(cfg.trainer) * accumulate


def cluster_plugins() -> list[Any]:
    """Under SLURM, Lightning's environment without its own auto-requeue: the run's signal
    handling (training/signals.py) checkpoints and requeues, so only one of them ever acts."""
    from lightning.fabric.plugins.environments import SLURMEnvironment

    if SLURMEnvironment.detect():
        return [SLURMEnvironment(auto_requeue=False)]
    return []


def requeue_after(signal_name: str) -> bool:
    """On a scheduler's warning (not a plain SIGTERM, which may be scancel or SLURM's own
    requeue), the job asks SLURM to requeue it; the restarted job continues the same run."""
    job = os.environ.get("SLURM_JOB_ID")  # an array task's own id, as scontrol wants it
    if signal_name not in SCHEDULER_WARNINGS or not job:
        return False
    done = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True, timeout=60)
    return done.returncode == 0
