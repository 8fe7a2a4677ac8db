"""`inception train`: the Hydra task. `train(cfg)` is pure; `main` is the thin Hydra entry point.

Run as `python -m inception_cli.tasks.train [OVERRIDES]` (the CLI replaces itself with this), so
that Hydra owns argv, run directories and multirun, and Lightning's DDP launcher can start the
same module in every rank with `hydra.run.dir` pointing at the shared run directory.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from inception_cli import runs
from inception_cli.config import TRAIN_CONFIG, config_dir, register_resolvers
from inception_cli.errors import InputError

log = logging.getLogger(__name__)


def train(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Train `cfg.model` on `cfg.data` and fill `run_dir`; returns the run's summary."""
    import lightning.pytorch as pl
    from hydra.utils import instantiate

    from inception_cli.hardware import resolve_precision
    from inception_cli.lit.callbacks import AtomicCheckpointIO, LastCheckpoint, RunSummary
    from inception_cli.lit.datamodule import build_datamodule
    from inception_cli.lit.module import InceptionClassifier
    from inception_cli.models import create_model, model_info

    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    share_cpu_cores(cfg.trainer)
    use_fast_matmuls()
    model_kwargs = {str(k): v for k, v in cfg.model.items()}
    try:
        model = create_model(**model_kwargs)
    except (TypeError, ValueError) as err:
        raise InputError(f"cannot build model {cfg.model.name!r}: {err}") from None
    if cfg.compile:
        model.compile()
    datamodule = build_datamodule(cfg.data)
    module = InceptionClassifier(
        model,
        optimizer=instantiate(cfg.optimizer),
        scheduler=instantiate(cfg.scheduler) if cfg.get("scheduler") else None,
        label_smoothing=cfg.loss.label_smoothing,
        aux_weight=cfg.loss.aux_weight,
        ema_decay=cfg.ema.decay if cfg.ema.enabled else None,
        channels_last=cfg.channels_last,
    )

    static = {
        "model": cfg.model.name,
        "residual": model_info(cfg.model.name).residual,
        "params": sum(p.numel() for p in model.parameters()),
        "width": cfg.model.get("width", 1.0),
        "data": cfg.data.name,
        "num_classes": int(cfg.data.num_classes),
        "seed": int(cfg.seed),
        "git_rev": runs.git_revision(),
    }
    callbacks: list[pl.Callback] = [
        LastCheckpoint(run_dir, cfg.callbacks.checkpoint_every_n_train_steps),
        pl.callbacks.ModelCheckpoint(
            dirpath=run_dir / runs.CHECKPOINTS,
            filename="best",
            monitor="val/top1_error",
            mode="min",
            save_top_k=1,
            auto_insert_metric_name=False,
            enable_version_counter=False,
        ),
        RunSummary(run_dir, static),
    ]
    if cfg.callbacks.progress_bar == "rich":
        callbacks.append(pl.callbacks.RichProgressBar(leave=True))
    callbacks += [instantiate(c) for c in cfg.callbacks.get("extra", {}).values()]
    loggers = [_make_logger(name, c, run_dir) for name, c in cfg.logger.items()]

    trainer: pl.Trainer = instantiate(
        cfg.trainer,
        precision=resolve_precision(cfg.trainer.precision, str(cfg.trainer.accelerator)),
        logger=loggers,
        callbacks=callbacks,
        plugins=[AtomicCheckpointIO()],
        default_root_dir=str(run_dir),
        enable_progress_bar=cfg.callbacks.progress_bar != "none",
        enable_checkpointing=True,
    )
    ckpt_path = None
    if cfg.get("resume"):
        ckpt_path = runs.checkpoint(run_dir, "last")
        if trainer.is_global_zero:
            keep_rows_before_checkpoint(run_dir, ckpt_path)
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    finally:
        _finish_wandb(loggers)
    summary = runs.read_summary(run_dir) or {}
    if trainer.is_global_zero:
        print_summary(summary, run_dir)
    return summary


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

    devices = trainer_cfg.get("devices")
    if trainer_cfg.get("accelerator") != "cpu" or "OMP_NUM_THREADS" in os.environ:
        return
    if isinstance(devices, int) and devices > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // devices))


def _make_logger(name: str, logger_cfg: DictConfig, run_dir: Path) -> Any:
    from hydra.utils import instantiate

    # Every logger writes inside the run directory, whatever its config says.
    if name == "wandb":
        return instantiate(
            logger_cfg,
            save_dir=str(run_dir),
            name=logger_cfg.get("name") or run_dir.name,
            id=run_dir.name,
        )
    return instantiate(logger_cfg, save_dir=str(run_dir))


def _finish_wandb(loggers: list[Any]) -> None:
    if any(type(lg).__name__ == "WandbLogger" for lg in loggers) and "wandb" in sys.modules:
        sys.modules["wandb"].finish()


def keep_rows_before_checkpoint(run_dir: Path, ckpt_path: Path) -> None:
    """Steps after the checkpoint run again on resume; their old rows move to a side file."""
    import torch

    metrics = run_dir / runs.METRICS
    if not metrics.is_file():
        return
    # mmap: only the step is needed here; Lightning reads the tensors when it restores the run
    checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=False, mmap=True)
    step = int(checkpoint.get("global_step", 0))
    rows = runs.read_metrics(run_dir)
    if not rows:
        return
    fields = list(rows[0])
    keep: list[dict[str, str]] = []
    replayed: list[dict[str, str]] = []
    for row in rows:
        (keep if not row.get("step") or int(float(row["step"])) < step else replayed).append(row)
    if not replayed:
        return
    n = 1
    while (side := run_dir / f"metrics.replayed-{n}.csv").exists():
        n += 1
    runs.write_csv(side, fields, replayed)
    runs.write_csv(metrics, fields, keep)


def print_summary(summary: dict[str, Any], run_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    def pct(value: Any) -> str:
        return "—" if value is None else f"{value:.2f}%"

    table = Table(title="Training run", show_header=True)
    for column in ("model", "status", "epochs", "best top-1 err", "best top-5 err", "wall time"):
        table.add_column(column)
    minutes, seconds = divmod(float(summary.get("wall_time_s", 0.0)), 60)
    table.add_row(
        str(summary.get("model")),
        str(summary.get("status")),
        str(summary.get("epochs")),
        pct(summary.get("best_val_top1_error")),
        pct(summary.get("best_val_top5_error")),
        f"{int(minutes)}m{seconds:04.1f}s",
    )
    console = Console()
    console.print(table)
    console.print(f"run directory: {run_dir}", soft_wrap=True)


def save_resolved_config(cfg: DictConfig, run_dir: Path) -> None:
    """Hydra saves the config with interpolations; eval and resume want the values it ran with."""
    path = run_dir / runs.CONFIG
    if path.parent.is_dir():
        runs.atomic_write_text(path, OmegaConf.to_yaml(cfg, resolve=True))


register_resolvers()


@hydra.main(config_path=str(config_dir()), config_name=TRAIN_CONFIG, version_base="1.3")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    if not cfg.get("resume") and hydra_cfg.output_subdir is not None:
        save_resolved_config(cfg, run_dir)
    try:
        train(cfg, run_dir)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


def quiet_third_party_noise() -> None:
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(
        lambda record: "litlogger" not in record.getMessage()
    )


if __name__ == "__main__":
    quiet_third_party_noise()
    main()
