"""The pieces of a training run, each built from its config group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import nn

from inception_cli import catalog
from inception_cli.errors import InputError
from inception_cli.rundir import layout
from inception_cli.rundir.metrics import VAL_TOP1_ERROR
from inception_cli.training.cluster import cluster_plugins, global_batch
from inception_cli.training.module import InceptionClassifier
from inception_cli.training.optimizers import effective_lr, optimizer_arguments


def build_model(model_cfg: DictConfig) -> nn.Module:
    from inception_cli.models import create_model

    try:
        return create_model(**{str(k): v for k, v in model_cfg.items()})
    except (TypeError, ValueError) as err:
        raise InputError(f"cannot build model {model_cfg.name!r}: {err}") from None


def build_module(cfg: DictConfig, model: nn.Module) -> InceptionClassifier:
    """The LightningModule with the recipe of the config: loss, optimizer (its rate scaled to
    the global batch, training/optimizers.py), schedule, EMA."""
    lr = effective_lr(cfg.optimizer, global_batch(cfg))
    return InceptionClassifier(
        model,
        optimizer=instantiate(optimizer_arguments(cfg.optimizer), lr=lr),
        scheduler=instantiate(cfg.scheduler) if cfg.get("scheduler") else None,
        label_smoothing=cfg.loss.label_smoothing,
        aux_weight=cfg.loss.aux_weight,
        ema_decay=cfg.ema.decay if cfg.ema.enabled else None,
        channels_last=cfg.channels_last,
    )


def run_facts(cfg: DictConfig, model: nn.Module) -> dict[str, Any]:
    """What summary.json records about a run from its start."""
    return {
        "model": cfg.model.name,
        "residual": catalog.entry(cfg.model.name).residual,
        "params": sum(p.numel() for p in model.parameters()),
        "width": cfg.model.get("width", 1.0),
        "data": cfg.data.name,
        "num_classes": int(cfg.data.num_classes),
        "seed": int(cfg.seed),
        "git_rev": layout.git_revision(),
        "global_batch": global_batch(cfg),
        "effective_lr": effective_lr(cfg.optimizer, global_batch(cfg)),
    }


def build_callbacks(cfg: DictConfig, run_dir: Path, facts: dict[str, Any]) -> list[pl.Callback]:
    from inception_cli.training.checkpointing import LastCheckpoint, RandomState
    from inception_cli.training.csv_logger import StepRows
    from inception_cli.training.divergence import DivergenceGuard
    from inception_cli.training.hyperparameters import LogHyperparameters
    from inception_cli.training.perf import PerformanceMetrics
    from inception_cli.training.progress_bar import progress_bar
    from inception_cli.training.signals import GracefulStop
    from inception_cli.training.summary import RunSummary
    from inception_cli.training.tracking import run_hyperparameters

    last = LastCheckpoint(run_dir, cfg.callbacks.checkpoint_every_n_train_steps)
    perf = PerformanceMetrics(lambda: build_model(cfg.model), compiled=bool(cfg.compile))
    callbacks: list[pl.Callback] = [
        perf,  # first: its step figures are logged before StepRows writes the step's row
        LogHyperparameters(run_hyperparameters(cfg, facts)),
        StepRows(),  # before the checkpoints: a step's row is on disk before its checkpoint
        DivergenceGuard(cfg.divergence.max_loss),  # before them too: no non-finite checkpoint
        RandomState(),
        last,
        GracefulStop(last),
        pl.callbacks.ModelCheckpoint(
            dirpath=layout.checkpoints_dir(run_dir),
            filename="best",
            monitor=VAL_TOP1_ERROR,
            mode="min",
            save_top_k=1,
            auto_insert_metric_name=False,
            enable_version_counter=False,
        ),
        RunSummary(run_dir, facts),
    ]
    bar = progress_bar(cfg.callbacks.progress_bar, int(cfg.trainer.log_every_n_steps))
    if bar is not None:  # given one, Lightning adds no bar of its own
        callbacks.append(bar)
    extra = [instantiate(c) for c in cfg.callbacks.get("extra", {}).values()]
    return [*callbacks, *extra, perf.step_end]  # step_end last: the end of a step's work


def build_loggers(logger_cfg: DictConfig, run_dir: Path) -> list[Any]:
    """Every logger of the config, writing inside the run directory whatever its config says."""
    loggers = []
    for name, cfg in logger_cfg.items():
        if name == "wandb":
            from inception_cli.training.tracking import wandb_logger_arguments

            # A random id kept in the run directory, the sweep or experiment as its group.
            loggers.append(instantiate(cfg, **wandb_logger_arguments(run_dir, cfg)))
        elif name == "mlflow":
            from inception_cli.training.tracking import mlflow_logger_arguments

            # The run opened in its store, its id kept; None off rank 0, which alone logs.
            arguments = mlflow_logger_arguments(run_dir, cfg)
            if arguments is not None:
                loggers.append(instantiate(cfg, **arguments))
        else:
            loggers.append(instantiate(cfg, save_dir=str(run_dir)))
    return loggers


def build_trainer(
    cfg: DictConfig, run_dir: Path, callbacks: list[pl.Callback], loggers: list[Any]
) -> pl.Trainer:
    from inception_cli.hardware import resolve_precision
    from inception_cli.training.checkpointing import DurableCheckpointIO
    from inception_cli.training.strategies import resolve_strategy

    trainer: pl.Trainer = instantiate(
        cfg.trainer,
        precision=resolve_precision(cfg.trainer.precision, str(cfg.trainer.accelerator)),
        strategy=resolve_strategy(cfg.trainer, cfg.get("ddp_timeout_s")),
        logger=loggers,
        callbacks=callbacks,
        plugins=[DurableCheckpointIO(), *cluster_plugins()],
        default_root_dir=str(run_dir),
        enable_progress_bar=cfg.callbacks.progress_bar != "none",
        enable_checkpointing=True,
        # The loaders split the data over the ranks themselves (training/sampling.py).
        use_distributed_sampler=False,
    )
    return trainer


def describe_batch_and_rate(cfg: DictConfig) -> str:
    """The line a run starts with: the global batch and the learning rate it implies."""
    from inception_cli.training.cluster import device_count

    batch = global_batch(cfg)
    parts = (
        f"{cfg.data.batch_size} per device x {device_count(cfg.trainer)} devices x "
        f"{cfg.trainer.get('num_nodes', 1)} nodes x {cfg.trainer.get('accumulate_grad_batches', 1)}"
        " accumulated"
    )
    scaling = cfg.optimizer.get("lr_scaling", "none")
    reference = cfg.optimizer.get("lr_reference_batch")
    rule = (
        f"{cfg.optimizer.lr} for {reference} images, {scaling} scaling" if reference else "as set"
    )
    return (
        f"global batch {batch} ({parts}); learning rate "
        f"{effective_lr(cfg.optimizer, batch):.6g} ({rule})"
    )
