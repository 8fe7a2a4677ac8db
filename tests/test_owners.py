"""One owner, always: a second launch into a run directory in use, or into one that holds a run,
is refused and removes nothing; a second `data pack` into a DST being packed is refused; ranks
of a launch that reuses an id never read the choice an earlier launch left."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from inception_cli.rundir import claims
from inception_cli.rundir.claims import RunLock
from tests.support.user import TINY, assert_one_line_error, fingerprint, inception


@pytest.fixture
def live_run(tmp_path: Path):
    """A run directory that another trainer has just claimed: its saved config and its lock."""
    run_dir = tmp_path / "live"
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text("seed: 0\n")
    lock = RunLock(run_dir)
    lock.acquire()
    yield run_dir
    lock.release()


def test_a_run_directory_in_use_is_refused_and_kept(live_run: Path, tmp_path: Path) -> None:
    before = fingerprint(live_run)
    done = inception(tmp_path, "train", *TINY, f"hydra.run.dir={live_run}")
    assert_one_line_error(done, f"{live_run} is in use by another trainer (pid {os.getpid()}")
    assert fingerprint(live_run) == before


def test_a_run_directory_holding_a_run_is_refused(tmp_path: Path) -> None:
    first = inception(tmp_path, "train", *TINY, f"hydra.run.dir={tmp_path / 'mine'}")
    assert first.returncode == 0, first.stderr[-3000:]
    before = fingerprint(tmp_path / "mine")
    done = inception(tmp_path, "train", *TINY, f"hydra.run.dir={tmp_path / 'mine'}")
    assert_one_line_error(done, "holds a run already; continue it with resume=")
    assert fingerprint(tmp_path / "mine") == before


def test_the_training_task_started_into_a_live_directory_removes_nothing(
    live_run: Path, tmp_path: Path
) -> None:
    """What srun or torchrun start: the Hydra task itself, with no CLI in front of it. It takes
    the lock before Hydra saves its config, so the live run's config is not replaced either."""
    before = fingerprint(live_run)
    done = subprocess.run(
        [sys.executable, "-m", "inception_cli.tasks.train", *TINY, f"hydra.run.dir={live_run}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert_one_line_error(done, f"run {live_run} is in use by another trainer")
    after = fingerprint(live_run)
    assert {name: after.get(name) for name in before} == before  # Hydra may open train.log


def test_a_second_pack_into_the_same_destination_is_refused(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    packing = tmp_path / "dst"
    packing.mkdir()
    lock = RunLock(packing)
    lock.acquire()
    try:
        done = inception(tmp_path, "data", "pack", str(tmp_path / "src"), str(packing))
    finally:
        lock.release()
    assert_one_line_error(done, f"{packing} is being packed by pid {os.getpid()}")


def test_a_rank_waits_for_this_launchs_choice_not_an_earlier_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCEPTION_RUN_ID", "reused")
    monkeypatch.setenv("RANK", "1")
    marker = tmp_path / claims.CLAIMS / claims.launch_key("reused")
    marker.parent.mkdir()
    marker.write_text("reused")  # the directory an earlier launch with this id chose
    stale = claims.process_started_at() - 2 * claims.LAUNCH_SPREAD_S
    os.utime(marker, (stale, stale))

    def rank_zero_chooses() -> None:
        time.sleep(0.5)
        marker.write_text("reused-1")

    writer = threading.Thread(target=rank_zero_chooses)
    writer.start()
    try:
        assert claims.choose_run_name(tmp_path, "v3") == "reused-1"
    finally:
        writer.join()
