"""Process-wide settings of a training process: threads, matmul precision, quiet third parties."""

from __future__ import annotations

import logging
import os
import warnings

from omegaconf import DictConfig


def use_fast_matmuls() -> None:
    """TF32 for float32 matmuls and convolutions on GPUs that have it (bf16-mixed runs most ops
    in bf16 anyway); no effect on CPUs."""
    import torch

    if torch.cuda.is_available():
        torch.set_float32_matmul_precision("high")


def share_cpu_cores(trainer_cfg: DictConfig) -> None:
    """DDP on CPUs: give each process its share of the cores instead of all of them each,
    which oversubscribes the machine and makes every process many times slower."""
    import torch

    from inception_cli.training.cluster import device_count

    accelerator = str(trainer_cfg.get("accelerator", "auto"))
    on_cpu = accelerator == "cpu" or (accelerator == "auto" and not torch.cuda.is_available())
    if not on_cpu or "OMP_NUM_THREADS" in os.environ:
        return
    devices = device_count(trainer_cfg)
    if devices > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // devices))


def quiet_third_party_noise() -> None:
    """Silence, on purpose, warnings that are not the user's business:
    - LeafSpec: a deprecation inside Lightning's own pytree helper;
    - "does not have many workers": the embedded data live in memory, workers would only cost;
    - "smaller than the logging interval": short quick-look epochs, logged every 10 steps;
    - the srun hint: Lightning sees Slurm's commands installed; a run started without srun is
      meant to be one process (docs/cluster.md says how to run under srun);
    - "sync_dist=True" under DDP: the validation errors come from torchmetrics' compute(),
      which has reduced them over every rank already;
    - "checkpoint directory exists and is not empty": a resumed run writes into its own
      checkpoints/ on purpose (previous.ckpt and best.ckpt stay beside last.ckpt);
    - litlogger: an advertisement for a Lightning service."""
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    warnings.filterwarnings("ignore", message=".*The `srun` command is available.*")
    warnings.filterwarnings("ignore", message=".*sync_dist=True.*")
    warnings.filterwarnings("ignore", message=".*Checkpoint directory .* exists and is not empty.*")
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(
        lambda record: "litlogger" not in record.getMessage()
    )
