"""`inception train`: the Hydra task, a thin entry point over `training.loop.train(cfg, run_dir)`.

Run as `python -m inception_cli.tasks.train [OVERRIDES]` (the CLI replaces itself with this), so
that Hydra owns argv, run directories and multirun, and Lightning's DDP launcher can start the
same module in every rank with `hydra.run.dir` pointing at the shared run directory.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from inception_cli.config.compose import TRAIN_CONFIG, config_dir
from inception_cli.config.resolvers import held_locks, register_resolvers
from inception_cli.errors import INPUT_EXIT_STATUS, InputError, describe_failure, report_failure
from inception_cli.rundir import layout
from inception_cli.rundir.claims import RunLock, RunLocked, global_rank
from inception_cli.training.cluster import apply_launcher, requeue_after
from inception_cli.training.continuation import record_continuation
from inception_cli.training.divergence import RunDiverged
from inception_cli.training.loop import train
from inception_cli.training.signals import RunInterrupted

__all__ = ["main", "train"]

register_resolvers(claim_run_dirs=True)
DIVERGED_EXIT_STATUS = 3  # not bad input (2), not a crash (1): the run itself went wrong
Task = Callable[[DictConfig], float]


def one_line_failures(task: Task) -> Task:
    """What escapes the task is one line and an exit status too: Hydra would print "Error
    executing job" and its own lines (inception_cli/errors.py)."""

    @functools.wraps(task)
    def guarded(cfg: DictConfig) -> float:
        try:
            return task(cfg)
        except Exception as err:  # each failure gets its one line
            sys.exit(report_failure(err))

    return guarded


@hydra.main(config_path=str(config_dir()), config_name=TRAIN_CONFIG, version_base="1.3")
@one_line_failures
def main(cfg: DictConfig) -> float:
    """Train one run; returns its best val/top1_error, what Hydra's sweepers (Optuna) minimise."""
    from hydra.core.hydra_config import HydraConfig

    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    apply_launcher(cfg, hydra_cfg.launcher)
    # An id from a launcher may name a run that is continuing (a requeued job): no resume= needed.
    continuing = not cfg.get("resume") and layout.has_checkpoint(run_dir)
    lock = held_locks.get(run_dir) or RunLock(run_dir)
    try:
        if global_rank() == 0 and not lock.held:
            lock.acquire()
            if continuing:
                record_continuation(run_dir, [], how="restarted job")
        if not cfg.get("resume") and hydra_cfg.output_subdir is not None:
            # Hydra saves the config with interpolations; eval and resume want the values.
            layout.save_config(run_dir, OmegaConf.to_yaml(cfg, resolve=True))
        return best_val_top1_error(train(cfg, run_dir, resume=continuing))
    except (InputError, RunLocked) as err:
        if owns_a_new_dir(cfg, hydra_cfg, lock, continuing):
            lock.release()
            layout.discard_if_unstarted(run_dir)  # a run that never started leaves nothing behind
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except RunDiverged as stop:
        print(
            f"{stop}; stopped before checkpointing it, so the checkpoints keep finite weights. "
            "Lower optimizer.lr or clip harder (trainer.gradient_clip_val)",
            file=sys.stderr,
        )
        sys.exit(DIVERGED_EXIT_STATUS)
    except RunInterrupted as stop:
        if global_rank() == 0 and requeue_after(stop.signal_name):
            print(f"{stop}; the SLURM job is requeued and will continue the run", file=sys.stderr)
        else:
            print(f"{stop}; continue with: inception train resume={run_dir}", file=sys.stderr)
        sys.exit(stop.exit_status)
    except Exception as err:  # one line; the status says whose fault it is
        failure = describe_failure(err)
        if failure.status == INPUT_EXIT_STATUS and owns_a_new_dir(cfg, hydra_cfg, lock, continuing):
            lock.release()
            layout.discard_if_unstarted(run_dir)  # e.g. a `_target_` that cannot be built
        sys.exit(report_failure(err, failure))
    finally:
        lock.release()


def owns_a_new_dir(cfg: DictConfig, hydra_cfg: Any, lock: RunLock, continuing: bool) -> bool:
    """This process made the run directory for a new run and holds its lock: a failed start may
    remove it. Never a directory given by `hydra.run.dir=` or one another trainer holds."""
    explicit = any(str(o).startswith("hydra.run.dir=") for o in hydra_cfg.overrides.hydra)
    new = not cfg.get("resume") and not continuing and global_rank() == 0
    return new and not explicit and lock.held


def best_val_top1_error(summary: dict[str, Any]) -> float:
    """The run's best validation top-1 error in percent; infinity when it never validated, so
    that a sweeper ranks it last rather than failing the sweep."""
    best = summary.get("best_val_top1_error")
    return float(best) if best is not None else math.inf


def run() -> None:
    """The module's entry point. What fails before the task starts (composing, the resolver
    that claims the run directory, saving the config) is one line and an exit status too."""
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises instead of printing its own lines
    try:
        main()
    except Exception as err:  # each failure gets its one line
        sys.exit(report_failure(err))


if __name__ == "__main__":
    from inception_cli.training.environment import quiet_third_party_noise

    quiet_third_party_noise()
    run()
