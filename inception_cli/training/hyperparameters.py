"""Every logger receives the run's hyperparameters when fitting starts: W&B as the run's config,
TensorBoard as hparams (metrics.csv has none: the config is in .hydra/config.yaml)."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl


class LogHyperparameters(pl.Callback):
    """Hands `hyperparameters` (tracking.run_hyperparameters) to each logger of the Trainer.
    Nothing calls `save_hyperparameters`: the LightningModule holds the network and factories,
    not the config, so Lightning would have nothing useful to log by itself."""

    def __init__(self, hyperparameters: dict[str, Any]) -> None:
        self.hyperparameters = hyperparameters

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for logger in trainer.loggers:
            logger.log_hyperparams(self.hyperparameters)  # rank 0 only, in each logger
