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
import io
import json
import subprocess
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from inception_cli.rundir.durable import atomic_write_text, write_durably
from inception_cli.rundir.outputs import numbered

CONFIG = Path(".hydra") / "config.yaml"
OVERRIDES = (
    Path(".hydra") / "overrides.yaml"
)  # the task's command-line overrides, as Hydra saved them
METRICS = "metrics.csv"
SUMMARY = "summary.json"
CHECKPOINTS = "checkpoints"
EVAL = "eval"
# checkpoints/<name>.ckpt: the newest, the one before it (kept in case the newest is torn), and
# the one with the lowest validation error.
LAST, PREVIOUS, BEST = "last", "previous", "best"

DEFAULT_RUNS_DIR = Path("runs")  # conf/paths/default.yaml `runs_dir`
BENCH = "bench"  # runs/bench/: figures of `inception bench`


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


def checkpoint(run_dir: Path, which: str) -> Path:
    """checkpoints/<which>.ckpt of a run: `last` (resume) or `best` (eval)."""
    return run_dir / CHECKPOINTS / f"{which}.ckpt"


# What a run directory holds before its first step: a run that fails then left nothing to keep.
UNSTARTED_ENTRIES = frozenset({".hydra", ".lock", "train.log", "wandb_id"})


def has_checkpoint(run_dir: Path) -> bool:
    """The run has a checkpoint to continue from: last.ckpt, or previous.ckpt when a kill or a
    failed write left no whole last.ckpt."""
    return any(checkpoint(run_dir, which).is_file() for which in (LAST, PREVIOUS))


def discard_if_unstarted(run_dir: Path) -> bool:
    """Remove a run directory that a failed start left with nothing in it but its saved config
    and an empty log; anything else in it (metrics, checkpoints, a summary) keeps it."""
    import shutil

    try:
        entries = {entry.name for entry in run_dir.iterdir()}
    except OSError:
        return False
    log = run_dir / "train.log"
    if not entries <= UNSTARTED_ENTRIES or (log.exists() and log.stat().st_size > 0):
        return False
    shutil.rmtree(run_dir, ignore_errors=True)
    return True


def summary_path(run_dir: Path) -> Path:
    return run_dir / SUMMARY


def metrics_path(run_dir: Path) -> Path:
    return run_dir / METRICS


def checkpoints_dir(run_dir: Path) -> Path:
    return run_dir / CHECKPOINTS


def config_path(run_dir: Path) -> Path:
    """The resolved config a run ran with."""
    return run_dir / CONFIG


def save_config(run_dir: Path, yaml_text: str) -> None:
    """Replace the config Hydra saved (with interpolations) by the resolved one; only where
    Hydra made .hydra/, i.e. on the rank that owns the run directory."""
    path = config_path(run_dir)
    if path.parent.is_dir():
        atomic_write_text(path, yaml_text)


def has_config(run_dir: Path) -> bool:
    return config_path(run_dir).is_file()


def load_config(run_dir: Path) -> Any:
    """The resolved config of a run (an omegaconf DictConfig); FileNotFoundError without one.

    omegaconf is imported here, not at the top, so `compare` can use this module without it."""
    from omegaconf import DictConfig, OmegaConf

    path = config_path(run_dir)
    if not path.is_file():
        raise FileNotFoundError(path)
    cfg = OmegaConf.load(path)
    if not isinstance(cfg, DictConfig):
        raise ValueError(f"{path} does not hold a mapping")
    return cfg


def load_overrides(run_dir: Path) -> list[Any]:
    """The overrides a run was started with (.hydra/overrides.yaml), read as plain data."""
    import yaml

    path = run_dir / OVERRIDES
    if not path.is_file():
        return []
    overrides = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(overrides, list):
        raise ValueError(f"{path} does not hold a list of overrides")
    return overrides


def eval_dir(run_dir: Path) -> Path:
    return run_dir / EVAL


def runs_root(cfg: Any = None) -> Path:
    """Where run directories go: the config's `paths.runs_dir` when given, else ./runs."""
    configured = None
    if cfg is not None:
        paths = cfg.get("paths") if hasattr(cfg, "get") else None
        configured = paths.get("runs_dir") if paths is not None else None
    return Path(str(configured)) if configured else DEFAULT_RUNS_DIR


def bench_dir(root: Path = DEFAULT_RUNS_DIR) -> Path:
    return root / BENCH


def unique_path(path: Path) -> Path:
    """`path`, or path-1, path-2 ... beside it if it exists: results are never overwritten.
    (A name is only proposed here; `write_new_json` refuses a file that appeared meanwhile.)"""
    return next(candidate for candidate in numbered(path) if not candidate.exists())


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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
    return read_metrics_table(run_dir)[1]


def read_metrics_table(run_dir: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of metrics.csv. A last line without its line end (a run killed
    while writing it) is left out, and so is a row with filled cells beyond the header (a torn
    row that a later append ran on into): their numbers may be cut short.

    Raises OSError, UnicodeDecodeError or csv.Error for a file that cannot be read.
    """
    data = (run_dir / METRICS).read_bytes()
    if data.endswith(b"\r"):
        data += b"\n"  # only the line feed is missing: the row itself is whole
    elif not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    rows = []
    for row in reader:
        if any(row.pop(None, None) or ()):
            continue  # cells beyond the header: a torn row that another row ran on into
        rows.append(row)
    return list(reader.fieldnames or []), rows


def write_csv(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    """Replace `path` with these rows in one durable step (temporary file, fsync, rename)."""

    def write(file: Any) -> None:
        writer = csv.DictWriter(file, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)

    write_durably(path, write)


def write_new_json(path: Path, record: dict[str, Any]) -> None:
    """Write a result file that must not replace anything: fails if `path` appeared meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x") as file:
        file.write(dumps(record))


def strict_json(value: Any) -> Any:
    """`value` with every NaN and infinity replaced by null, so that it is strict JSON."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(item) for item in value]
    return value


def dumps(record: Any) -> str:
    """Strict JSON (no NaN or Infinity literals), indented, ending in a newline."""
    return json.dumps(strict_json(record), indent=2, allow_nan=False) + "\n"


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    atomic_write_text(run_dir / SUMMARY, dumps(summary))


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
