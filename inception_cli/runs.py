"""The run-directory layout: where a run keeps its config, metrics, summary and checkpoints.

    runs/<id>/.hydra/config.yaml   resolved config (`eval` and `resume` read it)
    runs/<id>/metrics.csv          one row per logging call
    runs/<id>/summary.json         status, best and final errors, wall time, git revision
    runs/<id>/checkpoints/         last.ckpt, best.ckpt
    runs/<id>/eval/*.json          results of `inception eval`

Only the standard library is used here, so `compare` can read runs without torch.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

CONFIG = Path(".hydra") / "config.yaml"
METRICS = "metrics.csv"
SUMMARY = "summary.json"
CHECKPOINTS = "checkpoints"
EVAL = "eval"

METRIC_COLUMNS = (
    "epoch",
    "step",
    "time/elapsed_s",
    "lr",
    "train/loss",
    "train/top1_error",
    "val/loss",
    "val/top1_error",
    "val/top5_error",
)
RESIDUAL_MODELS = frozenset({"irv1", "irv2", "irv2_paper"})
PURE_MODELS = frozenset({"v3", "v4"})


def is_run_dir(path: Path) -> bool:
    """A run holds metrics.csv or summary.json. A folder with only .hydra/config.yaml is a run
    that stopped before training began: there is nothing in it to compare, resume or evaluate."""
    return (path / SUMMARY).is_file() or (path / METRICS).is_file()


def iter_runs(path: Path) -> Iterator[Path]:
    """`path` itself if it is a run, else the runs one level below it (a multirun sweep folder)."""
    if is_run_dir(path):
        yield path
    elif path.is_dir():
        yield from (child for child in sorted(path.iterdir()) if is_run_dir(child))


def model_from_run_id(run_id: str) -> str | None:
    """Run ids end in the model name (conf/hydra/default.yaml): 2026-11-27_21-03-11_irv2,
    0_irv2_paper. The longest name is tried first, so irv2_paper is not read as irv2."""
    for model in sorted(RESIDUAL_MODELS | PURE_MODELS, key=len, reverse=True):
        if run_id == model or run_id.endswith(f"_{model}"):
            return model
    return None


def residual_by_name(model: str) -> bool | None:
    """For summaries that do not record `residual`; None for a model this tool does not build."""
    if model in RESIDUAL_MODELS:
        return True
    if model in PURE_MODELS:
        return False
    return None


def checkpoint(run_dir: Path, which: str) -> Path:
    return run_dir / CHECKPOINTS / f"{which}.ckpt"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def atomic_write_text(path: Path, text: str) -> None:
    """Readers never see a half-written file, even if the writer is killed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_summary(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / SUMMARY).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_metrics(run_dir: Path) -> list[dict[str, str]]:
    """The rows of metrics.csv, one per logging call; cells a row did not log are empty.

    Raises OSError, UnicodeDecodeError or csv.Error for a file that cannot be read.
    """
    with (run_dir / METRICS).open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def write_csv(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    """Replace `path` with these rows in one step (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def write_new_json(path: Path, record: dict[str, Any]) -> None:
    """Write a result file that must not replace anything: fails if `path` appeared meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x") as file:
        json.dump(record, file, indent=2)
        file.write("\n")


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    atomic_write_text(run_dir / SUMMARY, json.dumps(summary, indent=2, sort_keys=False) + "\n")


def git_revision(start: Path | None = None) -> str | None:
    """The commit of the checkout the tool runs from (None outside a git checkout)."""
    where = start or Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def latest_finished_run(root: Path) -> Path | None:
    """The most recently updated run under `root` (sweeps included) whose status is finished."""
    if not root.is_dir():
        return None
    candidates = []
    for child in root.iterdir():
        for run in iter_runs(child):
            summary = read_summary(run)
            if summary and summary.get("status") == "finished":
                candidates.append((str(summary.get("updated_at", "")), run.stat().st_mtime, run))
    return max(candidates)[2] if candidates else None
