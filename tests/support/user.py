"""The command line as a user runs it: a real subprocess (not an in-process call that
`os.execv` could replace), and a fingerprint of what an earlier run left on disk."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

TINY = ["debug=tiny", "data.num_train=8", "data.num_val=4"]


def inception(cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inception_cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"},
    )


def train_with_faults(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`inception train` in a subprocess with tests/support importable, so that an override
    such as `+callbacks.extra.fault._target_=faults.KillAt` finds the fault it names."""
    support = str(Path(__file__).parent)
    return subprocess.run(
        [sys.executable, "-m", "inception_cli", "train", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join([support, os.environ.get("PYTHONPATH", "")]),
            **(env or {}),
        },
    )


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under `folder` and the hash of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def assert_one_line_error(done: subprocess.CompletedProcess[str], expected: str) -> None:
    """Exit status 2, one line on stderr that starts with `error: ` and holds `expected`, no
    traceback."""
    assert done.returncode == 2, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert lines[0].startswith("error: ") and expected in lines[0], lines[0]


def finished_run(cwd: Path) -> Path:
    """Train the tiny run a user would have in `cwd`/runs and return its directory."""
    done = inception(cwd, "train", *TINY)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = [p for p in (cwd / "runs").iterdir() if p.is_dir() and p.name[0] != "."]
    return run_dir


def trained_in_process(workdir: Path, name: str, overrides: list[str]) -> Path:
    """A run trained in this process as the Hydra task trains it (config saved resolved), in
    `workdir`/runs/`name`: for tests that need a run but not the command line's start-up."""
    from omegaconf import OmegaConf

    from inception_cli.config.compose import compose_train_config
    from inception_cli.rundir import layout
    from inception_cli.training.loop import train

    cfg = compose_train_config(
        [*overrides, "callbacks.progress_bar=none", f"paths.runs_dir={workdir / 'runs'}"]
    )
    run_dir = workdir / "runs" / name
    (run_dir / ".hydra").mkdir(parents=True)
    layout.save_config(run_dir, OmegaConf.to_yaml(cfg, resolve=True))
    assert train(cfg, run_dir)["status"] == "finished"
    return run_dir
