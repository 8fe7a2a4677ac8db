"""Shared test set-up: one torch thread per process (the suite runs on small shared CPUs, where
several OpenMP threads per process fight over the cores and make tiny networks far slower)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.user import inception as run_in

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is a dependency
    pass


def run_inception(
    args: list[str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI the way a user does, in `cwd`."""
    return run_in(cwd, *args, timeout=timeout)


@pytest.fixture
def inception(tmp_path: Path):
    """`inception(*args)` runs the CLI in a fresh directory and returns the finished process."""

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return run_inception(list(args), tmp_path, timeout=timeout)

    return run


def modules_loaded_by_import(module: str, candidates: tuple[str, ...]) -> list[str]:
    """Which of `candidates` a fresh interpreter has loaded after `import module`."""
    code = (
        f"import sys, {module}\n"
        f"print(','.join(sorted(name for name in {candidates!r} if name in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [name for name in done.stdout.strip().split(",") if name]


@pytest.fixture
def loaded_by_import():
    """`loaded_by_import(module, candidates)`: the candidates that `import module` loads."""
    return modules_loaded_by_import
