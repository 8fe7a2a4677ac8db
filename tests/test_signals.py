"""A stop signal at any moment stops the run at the next safe point, with last.ckpt at the step
reached and summary.json `interrupted` (training/signals.py): during start-up, a training step,
validation and a checkpoint write. The runs are trained in this process and signal it."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch

from inception_cli.config.compose import compose_train_config
from inception_cli.training import builders
from inception_cli.training.loop import train
from inception_cli.training.signals import RunInterrupted

HERE = Path(__file__).parent
# Synthetic data (debug=tiny): 4 optimizer steps an epoch, 2 validation batches after each.
# v3 has dropout and the auxiliary head: a resumed run has every source of randomness to restore.
RUN = ["debug=tiny", "model=v3", "trainer.max_epochs=2"]


class SignalAt(pl.Callback):
    """Sends this process `signums` once, at `hook` when the optimizer step is `step`."""

    def __init__(self, hook: str, step: int, *signums: int) -> None:
        self.hook, self.step, self.signums = hook, step, signums or (signal.SIGTERM,)
        self.validation_batches = 0

    def _at(self, hook: str, trainer: pl.Trainer) -> None:
        if hook == self.hook and trainer.global_step == self.step and self.signums:
            for signum in self.signums:
                os.kill(os.getpid(), signum)
            self.signums = ()

    def on_train_batch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        self._at("train_batch_start", trainer)

    def on_validation_batch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        self.validation_batches += 1
        self._at("validation_batch_start", trainer)


class Strays(list[int]):
    """Signals that reach this process while no run catches them: without it their default
    action would end pytest."""

    def __call__(self, signum: int, frame: Any) -> None:
        self.append(signum)


@pytest.fixture(autouse=True)
def strays() -> Iterator[Strays]:
    caught = Strays()
    previous = {s: signal.signal(s, caught) for s in (signal.SIGTERM, signal.SIGINT)}
    yield caught
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def with_callback(monkeypatch: pytest.MonkeyPatch, callback: pl.Callback) -> None:
    build = builders.build_callbacks
    monkeypatch.setattr(builders, "build_callbacks", lambda *a: [*build(*a), callback])


def interrupted(tmp_path: Path, *overrides: str) -> tuple[Path, RunInterrupted]:
    cfg = compose_train_config([*RUN, *overrides, f"paths.runs_dir={tmp_path}"])
    run_dir = tmp_path / "stopped"
    with pytest.raises(RunInterrupted) as stop:
        train(cfg, run_dir)
    return run_dir, stop.value


def last_step(run_dir: Path) -> int:
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    return int(checkpoint["global_step"])


def summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())


def assert_stopped_at(run_dir: Path, stop: RunInterrupted, step: int) -> None:
    assert (stop.signum, stop.step) == (signal.SIGTERM, step)
    assert last_step(run_dir) == step
    written = summary(run_dir)
    assert written["status"] == "interrupted" and written["interrupted_at_step"] == step
    assert written["steps"] == step


def test_a_signal_during_start_up_stops_before_the_first_step(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, strays: Strays
) -> None:
    build = builders.build_trainer

    def signalled_while_building(*args: Any) -> pl.Trainer:
        os.kill(os.getpid(), signal.SIGTERM)  # before the Trainer exists
        return build(*args)

    monkeypatch.setattr(builders, "build_trainer", signalled_while_building)
    run_dir, stop = interrupted(tmp_path)
    assert_stopped_at(run_dir, stop, 0)
    assert not strays, "the run caught the signal"
    assert signal.getsignal(signal.SIGTERM) is strays, "and put the handler before it back"


def test_a_signal_during_a_step_stops_once_it_is_taken(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with_callback(monkeypatch, SignalAt("train_batch_start", 2))
    run_dir, stop = interrupted(tmp_path)
    assert_stopped_at(run_dir, stop, 3)


def test_a_signal_during_validation_stops_after_its_batch_and_resume_validates_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reference = tmp_path / "reference"
    cfg = compose_train_config([*RUN, f"paths.runs_dir={tmp_path}"])
    assert train(cfg, reference)["status"] == "finished"

    sender = SignalAt("validation_batch_start", 4)  # the first validation, after step 4
    with_callback(monkeypatch, sender)
    run_dir, stop = interrupted(tmp_path)
    assert_stopped_at(run_dir, stop, 4)
    assert sender.validation_batches == 1, "stops within one validation batch"
    assert not any(row["val/top1_error"] for row in rows(run_dir)), "nothing of it is logged"

    monkeypatch.undo()
    assert train(cfg, run_dir, resume=True)["status"] == "finished"
    assert validations(run_dir) == validations(reference) and len(validations(run_dir)) == 2
    ours, theirs = weights(run_dir), weights(reference)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)


def test_a_signal_during_a_checkpoint_write_waits_for_the_whole_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    signalled_during_write(monkeypatch, signal.SIGTERM)
    run_dir, stop = interrupted(tmp_path, "callbacks.checkpoint_every_n_train_steps=2")
    assert_stopped_at(run_dir, stop, 2)


def test_a_second_ctrl_c_during_a_checkpoint_write_stops_after_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The second Ctrl+C stops at once, except in the middle of a write: then right after."""
    signalled_during_write(monkeypatch, signal.SIGINT, signal.SIGINT)
    cfg = compose_train_config(
        [*RUN, "callbacks.checkpoint_every_n_train_steps=2", f"paths.runs_dir={tmp_path}"]
    )
    with pytest.raises(SystemExit):  # Lightning's way out on KeyboardInterrupt
        train(cfg, tmp_path / "stopped")
    assert last_step(tmp_path / "stopped") == 2
    assert summary(tmp_path / "stopped")["status"] == "interrupted"


def signalled_during_write(monkeypatch: pytest.MonkeyPatch, *signums: int) -> None:
    """The first write of a checkpoint at step 2 gets `signums` once it has begun."""
    save: Callable[..., None] = torch.save
    pending = list(signums)

    def save_signalled(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(obj, dict) and obj.get("global_step") == 2 and pending:
            Path(f).write_bytes(b"\0" * 4096)  # part of a file on disk when the signals come
            while pending:
                os.kill(os.getpid(), pending.pop(0))
        save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save_signalled)


def rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "metrics.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def validations(run_dir: Path) -> list[tuple[str, str]]:
    return [(r["step"], r["val/top1_error"]) for r in rows(run_dir) if r["val/top1_error"]]


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    return checkpoint["state_dict"]


class SignalRankZeroInValidation(pl.Callback):
    """SIGTERM to rank 0 alone, as its first validation begins; every rank writes how many
    validation batches it has begun to `marker`.rank<r>."""

    def __init__(self, marker: str) -> None:
        self.marker, self.batches = marker, 0

    def on_validation_batch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        self.batches += 1
        Path(f"{self.marker}.rank{trainer.global_rank}").write_text(str(self.batches))
        if trainer.global_rank == 0 and self.batches == 1:
            os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.slow
def test_ddp_ranks_stop_together_on_a_signal_to_rank_zero_during_validation(
    tmp_path: Path,
) -> None:
    """Rank 0 passes the signal on to the rank it started, which ends its validation early too;
    both meet at the end of validation and stop at the same step."""
    marker = tmp_path / "validated"
    done = subprocess.run(
        [sys.executable, "-m", "inception_cli", "train", "debug=tiny", "data.num_val=32",
         "trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy=ddp",
         "+callbacks.extra.signal._target_=test_signals.SignalRankZeroInValidation",
         f"+callbacks.extra.signal.marker={marker}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE)},
    )  # fmt: skip
    assert done.returncode == 128 + signal.SIGTERM, done.stderr[-3000:]
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    said = [line for line in done.stderr.splitlines() if "continue with" in line]
    assert said and all(line.startswith("stopped by SIGTERM at step 2;") for line in said)
    assert last_step(run_dir) == 2  # 16 images, 4 a rank: 2 steps an epoch
    assert summary(run_dir)["status"] == "interrupted"
    # 16 validation images a rank, 4 batches: rank 1 heard of the signal and stopped early.
    assert int(Path(f"{marker}.rank1").read_text()) <= 2
    assert not any(row["val/top1_error"] for row in rows(run_dir))
