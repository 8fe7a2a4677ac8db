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

A rank that fails ends the job within a bounded time. Its ranks wait for each other at most
`ddp_timeout_s` (conf/train.yaml) at any collective, not torch's 30 minutes, so a rank that dies
or hangs alone (in a rank-0-only write, say) cannot hold the others longer; only the first
meeting, where the ranks that Lightning starts from rank 0 arrive after importing and building
everything, may take up to `START_UP_WAIT_S`. The failure itself ends as one line naming the
rank (`rank_failures_named`), and rank 0 ends the ranks it started.
"""

from __future__ import annotations

import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.strategies import DDPStrategy, StrategyRegistry
from omegaconf import DictConfig
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from inception_cli.errors import DEBUG_HINT, debugging
from inception_cli.training.cluster import process_count

DDP_TIMEOUT_S = 300.0  # conf/train.yaml's default, also for configs saved before the key existed
# The first meeting's allowance: ranks that Lightning starts from rank 0 begin only when it reaches
# fit, and each imports and builds everything before it comes.
START_UP_WAIT_S = 600.0
# What gloo and NCCL say when the rank at the other end of a collective is gone or silent (gloo's
# errors are RuntimeErrors; DDP's all-reduce fails inside backward, far from torch.distributed).
LOST_RANK = ("gloo", "nccl", "closed by peer", "reset by peer", "pair closure", "timed out")


class CurrentStreamDDPStrategy(DDPStrategy):
    """Lightning's DDP strategy, with the network wrapped on the current CUDA stream and every
    collective bounded by `timeout_s`."""

    def __init__(self, *, timeout_s: float = DDP_TIMEOUT_S, **kwargs: Any) -> None:
        super().__init__(timeout=timedelta(seconds=timeout_s), **kwargs)
        self.timeout_s = timeout_s

    def setup_distributed(self) -> None:
        # The process group is made with the start-up's allowance, then held to the timeout.
        self._timeout = timedelta(seconds=max(self.timeout_s, START_UP_WAIT_S))
        try:
            super().setup_distributed()
        finally:
            self._timeout = timedelta(seconds=self.timeout_s)
        if torch.distributed.is_initialized():
            set_timeout = getattr(torch.distributed, "set_timeout", None)
            if set_timeout is None:  # an older torch names it privately
                set_timeout = torch.distributed.distributed_c10d._set_pg_timeout
            set_timeout(self._timeout)

    def _setup_model(self, model: nn.Module) -> DistributedDataParallel:
        return DistributedDataParallel(
            module=model, device_ids=self.determine_ddp_device_ids(), **self._ddp_kwargs
        )


def resolve_strategy(trainer_cfg: DictConfig, timeout_s: float | None = None) -> Any:
    """The `strategy` argument of the Trainer for `trainer_cfg`: `auto` (one device) where a
    single process would be wrapped in DDP, `CurrentStreamDDPStrategy` with the arguments of the
    named DDP variant (`ddp`, `ddp_spawn`, `ddp_find_unused_parameters_true`, ...) or of `auto`
    on several processes and `timeout_s` (`ddp_timeout_s`), and anything else as it was asked
    for."""
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
    timeout = DDP_TIMEOUT_S if timeout_s is None else float(timeout_s)
    return CurrentStreamDDPStrategy(timeout_s=timeout, **StrategyRegistry[name]["init_params"])


@contextmanager
def rank_failures_named(trainer: pl.Trainer, run_dir: Path) -> Iterator[None]:
    """Around fit: in a job of several processes, a failure of this rank ends it with one line
    that names the rank, and exit status 1; the other ranks are ended or stop within the
    timeout. The stops every rank makes together (a signal, a divergence) and bad input pass
    on to the task, which prints them; INCEPTION_DEBUG=1 keeps the traceback."""
    try:
        yield
    except Exception as error:
        if trainer.world_size > 1 and not debugging():
            end_job_naming_rank(error, trainer, run_dir)
        raise


def end_job_naming_rank(error: Exception, trainer: pl.Trainer, run_dir: Path) -> None:
    from inception_cli.errors import InputError
    from inception_cli.training.divergence import RunDiverged
    from inception_cli.training.signals import RunInterrupted

    if isinstance(error, InputError | RunDiverged | RunInterrupted):
        return
    print(f"error: {rank_failure_line(error, trainer, run_dir)}", file=sys.stderr, flush=True)
    kill = getattr(trainer.strategy.launcher, "kill", None)
    if kill is not None:
        kill(signal.SIGKILL)  # the ranks this one started: they would wait for it in vain
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        # Closes the connections: ranks still waiting on this one hear of it at once.
        with suppress(Exception):
            torch.distributed.destroy_process_group()
    raise SystemExit(1) from error


def rank_failure_line(error: Exception, trainer: pl.Trainer, run_dir: Path) -> str:
    """What failed on this rank, in one line, and what to do."""
    text = str(error).strip()
    # Without the "[Errno 28] " of an OSError or the "[.../gloo/...cc:561] " of gloo's errors.
    first = re.sub(r"^\[[^\]]*\]\s*", "", text.splitlines()[0] if text else "")
    rank = trainer.global_rank
    lost = isinstance(error, torch.distributed.DistError) or (
        isinstance(error, RuntimeError) and any(m in text.lower() for m in LOST_RANK)
    )
    if lost:
        timeout = getattr(trainer.strategy, "timeout_s", None)
        within = f" within ddp_timeout_s={timeout:g}" if timeout is not None else ""
        what = (
            f"rank {rank} stopped: it lost the other ranks ({first.split('. ')[0]}); one of "
            f"them failed (its own line says why) or answered nothing{within}"
        )
    else:
        what = f"rank {rank} failed: {type(error).__name__}: {first or 'no message'}"
    if "resume=" not in what:
        what += f"; continue with: inception train resume={run_dir}"
    return f"{what} {DEBUG_HINT}"
