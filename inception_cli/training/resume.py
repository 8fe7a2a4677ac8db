"""What happens to a run directory when a run continues from its last checkpoint."""

from __future__ import annotations

from pathlib import Path

from inception_cli import runs


def checkpoint_step(ckpt_path: Path) -> int:
    """The optimizer step a checkpoint was saved at."""
    import torch

    # mmap: only the step is needed here; Lightning reads the tensors when it restores the run
    checkpoint = torch.load(ckpt_path, map_location="cpu", weights_only=False, mmap=True)
    return int(checkpoint.get("global_step", 0))


def keep_rows_before_checkpoint(run_dir: Path, ckpt_path: Path) -> None:
    """Steps after the checkpoint run again on resume; their old rows move to a side file."""
    if not (run_dir / runs.METRICS).is_file():
        return
    rows = runs.read_metrics(run_dir)
    if not rows:
        return
    step = checkpoint_step(ckpt_path)
    keep: list[dict[str, str]] = []
    replayed: list[dict[str, str]] = []
    for row in rows:
        (keep if not row.get("step") or int(float(row["step"])) < step else replayed).append(row)
    if not replayed:
        return
    fields = list(rows[0])
    runs.write_csv(runs.unique_path(run_dir / "metrics.replayed.csv"), fields, replayed)
    runs.write_csv(run_dir / runs.METRICS, fields, keep)
