"""One owner per run directory, directories that are never shared by accident, continuations
that stay the same run, and checkpoints that cannot run code when loaded."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from inception_cli.rundir.claims import RunLock, claim_new_dir, lock_holder

FAST = ["debug=tiny", "data.num_train=8", "data.num_val=4"]  # two steps, one epoch


def inception(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "inception_cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=600)
    return process.returncode, out, err


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file below `folder` and a hash of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("finished")
    code, _, err = finish(inception(cwd, "train", *FAST))
    assert code == 0, err[-3000:]
    (run_dir,) = (cwd / "runs").iterdir()
    return run_dir


def test_a_locked_run_is_refused_and_left_as_it_was(finished_run: Path) -> None:
    lock = RunLock(finished_run)
    lock.acquire()
    before = fingerprint(finished_run)
    try:
        holder = lock_holder(finished_run)
        assert holder is not None and holder["pid"] == os.getpid()
        code, _, err = finish(
            inception(
                finished_run.parent, "train", f"resume={finished_run}", "trainer.max_epochs=3"
            )
        )
    finally:
        lock.release()
    assert code == 2
    line = one_error_line(err)
    assert str(finished_run) in line and f"pid {os.getpid()}" in line
    assert fingerprint(finished_run) == before
    assert lock_holder(finished_run) is None


@pytest.mark.parametrize(
    "overrides,expected",
    [
        ([], "has finished (1 epochs)"),
        (["trainer.max_epochs=1"], "has finished (1 epochs)"),
        (["model=v4"], "cannot change model"),
        (["model.width=0.5"], "cannot change model.width (the run has model.width=0.1)"),
        (["optimizer=sgd"], "cannot change optimizer"),
        (["data=embedded"], "cannot change data"),
        (["data.batch_size=8"], "must keep the global batch of 4 images"),
    ],
)
def test_a_continuation_refuses_what_would_make_another_run(
    finished_run: Path, overrides: list[str], expected: str
) -> None:
    before = fingerprint(finished_run)
    code, _, err = finish(
        inception(finished_run.parent, "train", f"resume={finished_run}", *overrides)
    )
    assert code == 2
    assert expected in one_error_line(err)
    assert fingerprint(finished_run) == before


@pytest.mark.slow  # two training processes: about 30 s
def test_runs_and_sweeps_started_together_get_their_own_directories(tmp_path: Path) -> None:
    runs = [inception(tmp_path, "train", *FAST) for _ in range(2)]
    sweeps = [inception(tmp_path, "train", "-m", "model=v3", *FAST) for _ in range(2)]
    for process in runs + sweeps:
        code, _, err = finish(process)
        assert code == 0, err[-3000:]
    made = sorted(p.name for p in (tmp_path / "runs").iterdir() if p.is_dir() and p.name[0] != ".")
    single = [name for name in made if not name.endswith(("_sweep", "_sweep-1"))]
    swept = [name for name in made if name not in single]
    assert len(single) == 2 and len(swept) == 2, made
    for sweep in swept:
        assert [p.name for p in (tmp_path / "runs" / sweep).iterdir() if p.is_dir()] == ["0_v3"]


@pytest.mark.slow  # two training processes: about 30 s
def test_a_second_run_in_the_same_slurm_job_gets_a_new_directory(tmp_path: Path) -> None:
    env = {"SLURM_JOB_ID": "4242"}
    for _ in range(2):
        code, _, err = finish(inception(tmp_path, "train", *FAST, env=env))
        assert code == 0, err[-3000:]
    made = sorted(p.name for p in (tmp_path / "runs").iterdir() if p.is_dir() and p.name[0] != ".")
    assert made == ["slurm-4242_irv2", "slurm-4242_irv2-1"]
    for name in made:
        assert json.loads((tmp_path / "runs" / name / "summary.json").read_text())["steps"] == 2


def test_claiming_never_shares_a_directory(tmp_path: Path) -> None:
    names = [claim_new_dir(tmp_path, "2026-01-01_00-00-00_v4").name for _ in range(3)]
    assert names == [
        "2026-01-01_00-00-00_v4",
        "2026-01-01_00-00-00_v4-1",
        "2026-01-01_00-00-00_v4-2",
    ]


class WritesAFile:
    """Unpickling this calls open(path, "w"): the file appearing means code ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.path), "w"))


def test_a_checkpoint_that_would_run_code_is_refused(finished_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "planted"
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text(
        (finished_run / ".hydra" / "config.yaml").read_text()
    )
    (run_dir / "summary.json").write_text(json.dumps({"status": "running", "epochs": 0}))
    evidence = tmp_path / "code-ran.txt"
    (run_dir / "checkpoints").mkdir()
    for name in ("last.ckpt", "best.ckpt"):
        torch.save(
            {"global_step": 1, "payload": WritesAFile(evidence)}, run_dir / "checkpoints" / name
        )

    code, _, err = finish(inception(tmp_path, "train", f"resume={run_dir}"))
    assert code == 2 and "refusing to load it" in one_error_line(err)
    code, _, err = finish(inception(tmp_path, "eval", str(run_dir)))
    assert code == 2 and "refusing to load it" in one_error_line(err)
    assert not evidence.exists()


def test_a_saved_config_naming_foreign_code_is_refused(finished_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "foreign"
    shutil.copytree(finished_run / ".hydra", run_dir / ".hydra")
    text = (finished_run / ".hydra" / "config.yaml").read_text()
    (run_dir / ".hydra" / "config.yaml").write_text(
        text.replace("_target_: lightning.pytorch.Trainer", "_target_: os.system")
    )
    (run_dir / "checkpoints").mkdir()
    for name in ("last.ckpt",):
        (run_dir / "checkpoints" / name).write_bytes(
            (finished_run / "checkpoints" / name).read_bytes()
        )
    code, _, err = finish(inception(tmp_path, "train", f"resume={run_dir}", "trainer.max_epochs=3"))
    assert code == 2 and "'os.system'" in one_error_line(err)
