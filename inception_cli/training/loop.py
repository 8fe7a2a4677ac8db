"""train(cfg, run_dir): one training run, start to finish, from a composed config.

The steps read top to bottom: seed, build the network, the data and the LightningModule (whose
docstring maps the paper's recipe to code), the callbacks that keep the run directory current,
the loggers and the Trainer; then fit, from the last checkpoint when the run continues.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from inception_cli.errors import InputError
from inception_cli.rundir import layout


def train(cfg: DictConfig, run_dir: Path, *, resume: bool = False) -> dict[str, Any]:
    """Train `cfg.model` on `cfg.data` and fill `run_dir`; returns the run's summary.

    With `resume` (or `cfg.resume` set) the run continues from its newest readable checkpoint."""
    import lightning.pytorch as pl

    from inception_cli.training.builders import (
        build_callbacks,
        build_loggers,
        build_model,
        build_module,
        build_trainer,
        describe_batch_and_rate,
        global_batch,
        run_facts,
    )
    from inception_cli.training.checkpointing import agreed_resume_checkpoint
    from inception_cli.training.datamodule import build_datamodule
    from inception_cli.training.environment import share_cpu_cores, use_fast_matmuls
    from inception_cli.training.report import print_summary
    from inception_cli.training.resume import keep_rows_before_checkpoint, skip_steps_already_sent
    from inception_cli.training.signals import catch_stop_signals, release_stop_signals
    from inception_cli.training.strategies import rank_failures_named

    catch_stop_signals()  # from here a stop signal waits for a safe point (training/signals.py)
    if trainer_rank_is_zero():
        print(describe_batch_and_rate(cfg), flush=True)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    share_cpu_cores(cfg.trainer)
    use_fast_matmuls()
    model = build_model(cfg.model)
    if cfg.compile:
        model.compile()
    datamodule = build_datamodule(cfg.data, int(cfg.seed))
    check_enough_data(datamodule, global_batch(cfg))
    module = build_module(cfg, model)
    callbacks = build_callbacks(cfg, run_dir, run_facts(cfg, model))
    loggers = build_loggers(cfg.logger, run_dir)
    trainer = build_trainer(cfg, run_dir, callbacks, loggers)

    ckpt_path = None
    if resume or cfg.get("resume"):
        ckpt_path, step = agreed_resume_checkpoint(run_dir)
        if trainer.is_global_zero:
            last_sent = keep_rows_before_checkpoint(run_dir, step)
            if last_sent is not None:
                skip_steps_already_sent(loggers, last_sent)
    try:
        with rank_failures_named(trainer, run_dir):
            trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
    finally:
        release_stop_signals()
        finish_wandb(loggers)
    summary = layout.read_summary(run_dir) or {}
    if trainer.is_global_zero:
        print_summary(summary, run_dir)
    return summary


def check_enough_data(datamodule: Any, batch: int) -> None:
    """A training set smaller than one global batch would train nothing and say `finished`."""
    datamodule.setup("fit")
    images = len(datamodule.train_set)
    if images < batch:
        raise InputError(
            f"the training data hold {images} images, fewer than one global batch of {batch} "
            "(training drops an incomplete last batch); add images or lower data.batch_size"
        )


def trainer_rank_is_zero() -> bool:
    from inception_cli.rundir.claims import global_rank

    return global_rank() == 0


def finish_wandb(loggers: list[Any]) -> None:
    """A W&B run left open would be continued by the next job of a sweep in this process."""
    if any(type(lg).__name__ == "WandbLogger" for lg in loggers) and "wandb" in sys.modules:
        sys.modules["wandb"].finish()
