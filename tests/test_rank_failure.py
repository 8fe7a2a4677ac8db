"""A rank that fails ends a DDP job within a bounded time (`ddp_timeout_s`, not torch's 30
minutes), with one line naming the rank (training/strategies.py). The jobs run on two CPU
processes (gloo); the faults are the callbacks below, which the training processes import from
this file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lightning.pytorch as pl
import pytest
from omegaconf import OmegaConf

from inception_cli.config.compose import compose_train_config
from inception_cli.config.rules import check_values
from inception_cli.errors import InputError
from inception_cli.training.builders import build_trainer
from inception_cli.training.strategies import (
    DDP_TIMEOUT_S,
    CurrentStreamDDPStrategy,
    rank_failure_line,
    resolve_strategy,
)

HERE = Path(__file__).parent
DDP = [
    "debug=tiny",
    "trainer.accelerator=cpu",
    "trainer.devices=2",
    "trainer.strategy=ddp",
    "trainer.max_epochs=2",
]


class FailOnRank(pl.Callback):
    """On rank `rank`, after optimizer step 1: raise (`how="raise"`) or hang (`how="hang"`, as a
    rank stuck in a write would). Writes the time it did so to `marker`."""

    def __init__(self, rank: int, how: str, marker: str) -> None:
        self.rank, self.how, self.marker = rank, how, Path(marker)

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_rank != self.rank or trainer.global_step != 1:
            return
        self.marker.write_text(str(time.time()))
        if self.how == "hang":
            time.sleep(3600)
        raise RuntimeError(f"injected fault on rank {self.rank}")


def test_ddp_waits_ddp_timeout_s_by_default_and_as_set(tmp_path: Path) -> None:
    def strategy(*overrides: str) -> Any:
        cfg = compose_train_config(
            ["trainer=8gpu", "trainer.devices=2", "trainer.accelerator=cpu",
             "trainer.precision=32", "callbacks.progress_bar=none", *overrides,
             f"paths.runs_dir={tmp_path}"]
        )  # fmt: skip
        return build_trainer(cfg, tmp_path, callbacks=[], loggers=[]).strategy

    default, set_ = strategy(), strategy("ddp_timeout_s=7.5")
    assert type(default) is CurrentStreamDDPStrategy and default.timeout_s == DDP_TIMEOUT_S
    assert DDP_TIMEOUT_S <= 600, "minutes, not torch's 30"
    assert set_._timeout == timedelta(seconds=7.5), "what Lightning gives the process group"
    # A config saved before the key existed gets the default.
    old = resolve_strategy(OmegaConf.create({"strategy": "ddp", "devices": 2, "num_nodes": 1}))
    assert old.timeout_s == DDP_TIMEOUT_S


@pytest.mark.parametrize("value", [0, -5])
def test_a_timeout_that_is_not_positive_is_refused(value: float) -> None:
    with pytest.raises(InputError, match=r"ddp_timeout_s=.* must be a number > 0"):
        check_values(compose_train_config([f"ddp_timeout_s={value}"]))


def test_the_line_names_the_rank_and_tells_a_lost_rank_from_a_failed_one() -> None:
    trainer: Any = SimpleNamespace(global_rank=1, strategy=SimpleNamespace(timeout_s=300.0))
    run_dir = Path("runs/r")
    own = rank_failure_line(ValueError("bad value\nmore detail"), trainer, run_dir)
    assert own.startswith("rank 1 failed: ValueError: bad value; continue with: ")
    assert "\n" not in own and "resume=runs/r" in own and "INCEPTION_DEBUG=1" in own
    gloo = RuntimeError(
        "[/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:561] Connection closed by peer "
        "[127.0.0.1]:4002. This is typically caused by a remote worker crashing."
    )
    lost = rank_failure_line(gloo, trainer, run_dir)
    assert lost.startswith(
        "rank 1 stopped: it lost the other ranks (Connection closed by peer [127.0.0.1]:4002); "
    )
    assert "within ddp_timeout_s=300" in lost
    timed_out = RuntimeError("Application timeout caused pair closure")  # gloo, on a timeout
    assert "stopped: it lost" in rank_failure_line(timed_out, trainer, run_dir)
    disk = OSError(28, "No space left on device")
    assert "failed: OSError: No space left on device;" in rank_failure_line(disk, trainer, run_dir)


def run_ddp(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("INCEPTION_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "inception_cli", "train", *DDP, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    return done, time.time()


def fault(marker: Path, rank: int, how: str) -> list[str]:
    return [
        "+callbacks.extra.fault._target_=test_rank_failure.FailOnRank",
        f"+callbacks.extra.fault.rank={rank}",
        f"+callbacks.extra.fault.how={how}",
        f"+callbacks.extra.fault.marker={marker}",
    ]


def error_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return [line for line in done.stderr.splitlines() if line.startswith("error: ")]


@pytest.mark.slow
def test_a_rank_that_raises_ends_the_job_at_once_with_one_line_naming_it(tmp_path: Path) -> None:
    marker = tmp_path / "failed"
    done, ended = run_ddp(tmp_path, "ddp_timeout_s=120", *fault(marker, 1, "raise"))
    assert done.returncode != 0
    assert ended - float(marker.read_text()) < 60, "well within the 120 s the ranks may wait"
    lines = error_lines(done)
    named = [line for line in lines if line.startswith("error: rank 1 failed: RuntimeError")]
    assert len(named) == 1 and "injected fault on rank 1" in named[0], done.stderr[-3000:]
    # Rank 0, if it had the time to say anything, says it lost the other ranks.
    assert all(line in named or "rank 0 stopped: it lost" in line for line in lines), lines
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert json.loads((run_dir / "summary.json").read_text())["status"] != "finished"


@pytest.mark.slow
def test_a_rank_that_hangs_ends_the_job_after_ddp_timeout_s(tmp_path: Path) -> None:
    marker = tmp_path / "hung"
    done, ended = run_ddp(tmp_path, "ddp_timeout_s=10", *fault(marker, 1, "hang"))
    assert done.returncode != 0
    waited = ended - float(marker.read_text())
    assert 9 < waited < 60, f"rank 0 waited {waited:.0f} s for the rank that hangs an hour"
    lines = error_lines(done)
    assert len(lines) == 1 and lines[0].startswith("error: rank 0 stopped: it lost"), lines
    assert "within ddp_timeout_s=10" in lines[0]
