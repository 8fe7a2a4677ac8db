"""Runs that are killed, interrupted or torn continue as if never stopped (docs/training.md,
"Faults"): the same per-step losses and, at the end, the same weights, bit for bit on the CPU."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
from pathlib import Path

import pytest
import torch

from tests.support.user import train_with_faults

# v3 has dropout and the auxiliary head; the embedded data are augmented: every source of
# randomness a run has is in play. 10 steps an epoch, a checkpoint every 4 steps.
RUN = [
    "debug=tiny",
    "data=embedded",
    "model=v3",
    "data.batch_size=4",
    "trainer.limit_train_batches=10",
    "trainer.limit_val_batches=2",
    "trainer.max_epochs=2",
    "callbacks.checkpoint_every_n_train_steps=4",
]


def train(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return train_with_faults(cwd, *args)


def the_run(cwd: Path) -> Path:
    (run_dir,) = [p for p in (cwd / "runs").iterdir() if p.is_dir()]
    return run_dir


def losses(run_dir: Path) -> dict[int, str]:
    """step -> train/loss as written (the text of the float, so equality is exact)."""
    with (run_dir / "metrics.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["train/loss"]]
    steps = [int(r["step"]) for r in rows]
    assert len(steps) == len(set(steps)), "every step is logged once"
    return {int(r["step"]): r["train/loss"] for r in rows}


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    return checkpoint["state_dict"]


def assert_same_run(resumed: Path, reference: Path) -> None:
    assert losses(resumed) == losses(reference)
    ours, theirs = weights(resumed), weights(reference)
    assert ours.keys() == theirs.keys() and any(k.startswith("ema_model.") for k in ours)
    different = [k for k in ours if not torch.equal(ours[k], theirs[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"
    summary = json.loads((resumed / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps"] == 20


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("reference")
    done = train(cwd, *RUN)
    assert done.returncode == 0, done.stderr[-3000:]
    return the_run(cwd)


KILL_POINTS = {
    "mid_epoch": ["at=step", "step=6"],  # two steps after the step-4 checkpoint
    "after_a_checkpoint": ["at=step", "step=8"],
    "at_the_epoch_boundary": ["at=epoch_end", "epoch=0"],
}


@pytest.mark.slow
@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_then_resume_equals_a_run_never_stopped(
    point: str, reference: Path, tmp_path: Path
) -> None:
    fault = [f"+callbacks.extra.fault.{arg}" for arg in KILL_POINTS[point]]
    killed = train(
        tmp_path,
        *RUN,
        "+callbacks.extra.fault._target_=faults.KillAt",
        f"+callbacks.extra.fault.marker={tmp_path / 'killed'}",
        *fault,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    run_dir = the_run(tmp_path)
    before = json.loads((run_dir / "summary.json").read_text())
    assert before["status"] == "running"

    resumed = train(tmp_path, f"resume={run_dir}", "trust_config=true")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_run(run_dir, reference)
    # The run's clock goes on: the same start, more wall time.
    after = json.loads((run_dir / "summary.json").read_text())
    assert after["started_at"] == before["started_at"]
    assert after["wall_time_s"] > before["wall_time_s"]


@pytest.mark.slow
def test_sigterm_stops_after_the_step_and_resume_finishes_the_same(
    reference: Path, tmp_path: Path
) -> None:
    stopped = train(
        tmp_path,
        *RUN,
        "+callbacks.extra.fault._target_=faults.SignalAt",
        f"+callbacks.extra.fault.marker={tmp_path / 'signalled'}",
        "+callbacks.extra.fault.step=6",
    )
    assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr[-3000:]
    run_dir = the_run(tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["interrupted_at_step"] == 7
    said = [line for line in stopped.stderr.splitlines() if "resume=" in line]
    assert said == [
        f"stopped by SIGTERM at step 7; continue with: inception train resume={run_dir}"
    ]

    resumed = train(tmp_path, f"resume={run_dir}", "trust_config=true")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_run(run_dir, reference)


@pytest.mark.slow
def test_a_torn_last_checkpoint_falls_back_to_the_previous_one(
    reference: Path, tmp_path: Path
) -> None:
    killed = train(
        tmp_path,
        *RUN,
        "+callbacks.extra.fault._target_=faults.KillAt",
        f"+callbacks.extra.fault.marker={tmp_path / 'killed'}",
        "+callbacks.extra.fault.step=9",
    )
    assert killed.returncode == -signal.SIGKILL
    run_dir = the_run(tmp_path)
    last = run_dir / "checkpoints" / "last.ckpt"
    assert (run_dir / "checkpoints" / "previous.ckpt").is_file()
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])  # a host crash mid-write

    resumed = train(tmp_path, f"resume={run_dir}", "trust_config=true")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming from previous.ckpt (step 4)" in resumed.stdout
    assert_same_run(run_dir, reference)


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_resumes_to_the_same_weights(tmp_path: Path) -> None:
    ddp = [*RUN, "trainer.accelerator=cpu", "trainer.devices=2", "trainer.strategy=ddp"]
    reference_dir = tmp_path / "reference"
    reference_dir.mkdir()
    done = train(reference_dir, *ddp)
    assert done.returncode == 0, done.stderr[-3000:]

    killed_dir = tmp_path / "killed"
    killed_dir.mkdir()
    killed = train(
        killed_dir,
        *ddp,
        "+callbacks.extra.fault._target_=faults.KillAt",
        f"+callbacks.extra.fault.marker={killed_dir / 'killed'}",
        "+callbacks.extra.fault.step=6",
    )
    assert killed.returncode != 0
    run_dir = the_run(killed_dir)
    resumed = train(killed_dir, f"resume={run_dir}", "trust_config=true")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # Gloo sums the two ranks' gradients in a fixed order on one machine, so the continuation
    # is exact here too; across machines or world sizes the sum's order, and so the last bits,
    # may differ.
    assert_same_run(run_dir, the_run(reference_dir))
