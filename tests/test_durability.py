"""A full disk, an I/O error or a kill at any moment of a checkpoint write loses nothing: the
checkpoints already on disk stay whole, a run continues from previous.ckpt when last.ckpt is
missing or torn, and every rank continues from the checkpoint rank 0 chose."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
import torch

from inception_cli.rundir import claims, layout
from inception_cli.training import checkpointing
from inception_cli.training.checkpointing import (
    CheckpointNotWritten,
    DurableCheckpointIO,
    agreed_resume_checkpoint,
)
from tests.support.user import train_with_faults


def saved_step(path: Path) -> int:
    return int(torch.load(path, weights_only=True)["global_step"])


@pytest.fixture
def checkpoints(tmp_path: Path) -> Path:
    """A run directory whose last.ckpt is at step 8 and previous.ckpt at step 4."""
    io = DurableCheckpointIO()
    for step in (4, 8):
        io.save_checkpoint({"global_step": step}, layout.checkpoint(tmp_path, layout.LAST))
    return tmp_path


def test_a_new_last_checkpoint_keeps_the_one_before_as_previous(checkpoints: Path) -> None:
    assert saved_step(layout.checkpoint(checkpoints, layout.LAST)) == 8
    assert saved_step(layout.checkpoint(checkpoints, layout.PREVIOUS)) == 4


def test_a_full_disk_leaves_both_checkpoints_whole(
    checkpoints: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(obj: object, path: Path) -> None:
        Path(path).write_bytes(b"half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpointing.torch, "save", full_disk)
    with pytest.raises(CheckpointNotWritten) as caught:
        DurableCheckpointIO().save_checkpoint(
            {"global_step": 12}, layout.checkpoint(checkpoints, layout.LAST)
        )
    assert caught.value.errno == errno.ENOSPC
    assert "No space left on device" in str(caught.value) and "resume=" in str(caught.value)
    monkeypatch.undo()
    assert saved_step(layout.checkpoint(checkpoints, layout.LAST)) == 8
    assert saved_step(layout.checkpoint(checkpoints, layout.PREVIOUS)) == 4
    assert sorted(p.name for p in layout.checkpoints_dir(checkpoints).iterdir()) == [
        "last.ckpt",
        "previous.ckpt",
    ]


def test_torch_reporting_a_failed_write_as_runtime_error_is_one_line_too(
    checkpoints: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stream_failure(obj: object, path: Path) -> None:
        raise RuntimeError("[enforce fail at inline_container.cc:664]\nfile write failed")

    monkeypatch.setattr(checkpointing.torch, "save", stream_failure)
    with pytest.raises(CheckpointNotWritten, match="file write failed"):
        DurableCheckpointIO().save_checkpoint({}, layout.checkpoint(checkpoints, layout.LAST))


def test_a_kill_before_the_new_file_is_in_place_leaves_last_ckpt_there(
    checkpoints: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old last.ckpt becomes previous.ckpt only once the new one is whole, and last.ckpt
    exists at every moment: a kill just before the final rename finds both."""
    real_replace = os.replace

    def killed_at_the_rename(src: object, dst: object) -> None:
        if Path(str(dst)).name == "last.ckpt":
            raise KeyboardInterrupt  # the process dies here
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", killed_at_the_rename)
    with pytest.raises(KeyboardInterrupt):
        DurableCheckpointIO().save_checkpoint(
            {"global_step": 12}, layout.checkpoint(checkpoints, layout.LAST)
        )
    monkeypatch.undo()
    assert saved_step(layout.checkpoint(checkpoints, layout.LAST)) == 8
    assert saved_step(layout.checkpoint(checkpoints, layout.PREVIOUS)) == 8


def test_a_missing_last_checkpoint_still_counts_as_a_run_to_continue(checkpoints: Path) -> None:
    layout.checkpoint(checkpoints, layout.LAST).unlink()
    assert layout.has_checkpoint(checkpoints)
    path, step = checkpointing.resume_checkpoint(checkpoints)
    assert (path.name, step) == ("previous.ckpt", 4)


def test_every_rank_continues_from_the_checkpoint_rank_zero_chose(
    checkpoints: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    last = layout.checkpoint(checkpoints, layout.LAST)
    last.write_bytes(last.read_bytes()[:100])  # torn, as rank 0 reads it
    monkeypatch.setenv("RANK", "0")
    assert agreed_resume_checkpoint(checkpoints) == (
        layout.checkpoint(checkpoints, layout.PREVIOUS),
        4,
    )
    # Another rank would read last.ckpt whole (a later copy on its node's cache, say): it
    # takes rank 0's choice all the same.
    DurableCheckpointIO().save_checkpoint({"global_step": 8}, last)
    monkeypatch.setenv("RANK", "1")
    assert agreed_resume_checkpoint(checkpoints)[1] == 4


def test_a_choice_left_by_an_earlier_launch_is_not_read(
    checkpoints: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = layout.checkpoints_dir(checkpoints) / checkpointing.RESUME_CHOICE
    marker.write_text(json.dumps({"checkpoint": "previous.ckpt", "step": 4}))
    old = claims.process_started_at() - 2 * claims.LAUNCH_SPREAD_S
    os.utime(marker, (old, old))
    assert claims.read_fresh(marker) is None
    with pytest.raises(TimeoutError, match="rank 0 did not choose the checkpoint"):
        claims.wait_for_rank_zero(marker, "the checkpoint to resume from", timeout_s=0.5)


def train(cwd: Path, *args: str, run_id: str) -> subprocess.CompletedProcess[str]:
    return train_with_faults(cwd, *args, env={"INCEPTION_RUN_ID": run_id})


@pytest.mark.slow  # two training processes: about 30 s
def test_a_restarted_job_continues_from_previous_when_last_is_gone(tmp_path: Path) -> None:
    """A requeued job (the same launcher id) whose last.ckpt did not survive continues the same
    run directory from previous.ckpt: not from step 0, not in a new directory."""
    run = ["debug=tiny", "callbacks.checkpoint_every_n_train_steps=1"]
    killed = train(
        tmp_path,
        *run,
        "+callbacks.extra.fault._target_=faults.KillAt",
        f"+callbacks.extra.fault.marker={tmp_path / 'killed'}",
        "+callbacks.extra.fault.step=3",
        run_id="job-7",
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    run_dir = tmp_path / "runs" / "job-7"
    layout.checkpoint(run_dir, layout.LAST).unlink()

    again = train(
        tmp_path,
        *run,
        "+callbacks.extra.fault._target_=faults.KillAt",
        f"+callbacks.extra.fault.marker={tmp_path / 'killed'}",
        "+callbacks.extra.fault.step=3",
        run_id="job-7",
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resuming from previous.ckpt (step 2)" in again.stdout
    assert [p.name for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")] == [
        "job-7"
    ]
    summary = json.loads(layout.summary_path(run_dir).read_text())
    assert summary["status"] == "finished" and summary["steps"] == 4
