"""The Trainer's strategy: what `trainer.strategy` asks for, with data parallelism only where
there is more than one process, and its wrapper built on the stream the training runs on.

- One process in all (one device on one node): no DistributedDataParallel. Lightning wraps
  even a single device in DDP when `ddp` is asked for (the `8gpu` preset with
  `trainer.devices=1`, as the paper experiment is run on one GPU): every step then copies each
  gradient into a bucket and back, divides it by one and all-reduces it over one process, about
  2,250 more operations a step for Inception-v4 (`python benchmarks/step_dispatches.py`).
- Several processes: Lightning (2.6.6 and earlier) builds DistributedDataParallel under a new
  CUDA stream. DDP registers its gradient hooks there, which creates every parameter's
  AccumulateGrad node on that side stream, and each backward pass then crosses streams once per
  parameter (PyTorch warns: "The AccumulateGrad node's stream does not match the stream of the
  node that produced the incoming gradient"). Lightning's own fix (pull request 21746) builds
  the wrapper on the default stream; `CurrentStreamDDPStrategy` does so until a release has it.
"""

from __future__ import annotations

from typing import Any

from lightning.pytorch.strategies import DDPStrategy, StrategyRegistry
from omegaconf import DictConfig
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from inception_cli.training.cluster import process_count


class CurrentStreamDDPStrategy(DDPStrategy):
    """Lightning's DDP strategy, with the network wrapped on the current CUDA stream."""

    def _setup_model(self, model: nn.Module) -> DistributedDataParallel:
        return DistributedDataParallel(
            module=model, device_ids=self.determine_ddp_device_ids(), **self._ddp_kwargs
        )


def resolve_strategy(trainer_cfg: DictConfig) -> Any:
    """The `strategy` argument of the Trainer for `trainer_cfg`: `auto` (one device) where a
    single process would be wrapped in DDP, `CurrentStreamDDPStrategy` with the arguments of the
    named DDP variant (`ddp`, `ddp_spawn`, `ddp_find_unused_parameters_true`, ...) or of `auto`
    on several processes, and anything else as it was asked for."""
    from lightning.fabric.utilities.imports import _IS_INTERACTIVE

    strategy = trainer_cfg.get("strategy", "auto")
    if not isinstance(strategy, str):
        return strategy  # a strategy given by _target_: the user's own choice
    processes = process_count(trainer_cfg)
    name = strategy
    if name == "auto":
        if processes <= 1 or _IS_INTERACTIVE:  # in a notebook Lightning forks instead
            return strategy
        name = "ddp"  # what Lightning's `auto` chooses for several processes
    if name not in StrategyRegistry or StrategyRegistry[name]["strategy"] is not DDPStrategy:
        return strategy
    if processes <= 1:
        return "auto"
    return CurrentStreamDDPStrategy(**StrategyRegistry[name]["init_params"])
