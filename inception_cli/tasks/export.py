"""`inception export`: a run's network for use without this tool, as timm weights, an ONNX file
or a TorchScript module (inception_cli/weights/export.py writes and checks them).

The weights are those `inception eval` reads: the EMA weights of checkpoints/best.ckpt (else
last.ckpt) by default, the raw ones with `ema=False`. The folder is settled before anything is
loaded (`<run>/export/<format>`, or -1, -2 ... beside a taken one; never replaced), and the
files are written into a hidden folder beside it that takes its name only once they reproduce
the network's logits: a failed export leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from inception_cli import catalog
from inception_cli.errors import InputError
from inception_cli.evaluation.member_args import check_run_dir
from inception_cli.rundir import layout
from inception_cli.rundir.durable import fsync_dir
from inception_cli.rundir.outputs import cannot_write, numbered, requested_path
from inception_cli.weights.export import check_format, check_timm_architecture

__all__ = ["run_export"]

EXPORT_DIR = "export"  # <run>/export/<format>
WEIGHTS_NAMES = {"ema": "EMA", "model": "raw"}


def run_export(
    run_dir: Path, *, fmt: str = "onnx", output: Path | None = None, ema: bool = True
) -> Path:
    """Export the network of `run_dir` as `fmt` into a new folder and return that folder."""
    check_format(fmt)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir} is not a directory; give a run directory (runs/<id>)")
    check_run_dir(run_dir)
    if fmt == "timm":
        _check_timm_early(run_dir)
    target = requested_path(output, run_dir / EXPORT_DIR / fmt)
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} is a file, not a folder; choose another --output")
    made_parent = not target.parent.exists()
    staging = _staging_folder(target)
    console = Console()
    try:
        source, checkpoint = _export_source(run_dir, ema=ema, console=console)
        from inception_cli.weights.export import write_export

        difference = write_export(source, fmt, staging)
        folder = _publish(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if made_parent:  # the export/ folder this run made for nothing
            with contextlib.suppress(OSError):
                target.parent.rmdir()
        raise
    files = ", ".join(sorted(path.name for path in folder.iterdir()))
    weights = WEIGHTS_NAMES.get(source.metadata["weights"], source.metadata["weights"])
    console.print(
        f"exported the {weights} weights of {escape(str(checkpoint))} (step "
        f"{source.metadata['step']}) to {escape(str(folder))}: {escape(files)}; their logits "
        f"match the network's within {difference:.1e} (relative)",
        soft_wrap=True,
    )
    if fmt == "timm":
        console.print(
            f"load them with timm.create_model({escape(repr(f'local-dir:{folder.resolve()}'))}, "
            "pretrained=True)",
            soft_wrap=True,
        )
    return folder


def _check_timm_early(run_dir: Path) -> None:
    """A run whose network timm cannot build is refused before anything is loaded (a config
    that cannot be read is left to the loading, which says so)."""
    try:
        model_cfg = dict(layout.load_config(run_dir).get("model") or {})
        name = str(model_cfg["name"])
        catalog.entry(name)
    except Exception:  # omegaconf and YAML errors come in many types; see the docstring
        return
    check_timm_architecture(name, model_cfg)


def _staging_folder(target: Path) -> Path:
    """A new hidden folder beside `target`, on the same file system so that it can be renamed
    into place; InputError at once when the place cannot be written."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        )
    except OSError as error:
        raise cannot_write(target, error, "the export", "choose another --output") from None


def _publish(staging: Path, target: Path) -> Path:
    """Give the checked files their folder: `target`, else the first free -1, -2 ... beside it."""
    for candidate in numbered(target):
        if candidate.exists() or candidate.is_symlink():
            continue
        try:
            os.rename(staging, candidate)
        except OSError as error:
            if candidate.exists():  # taken meanwhile: the next name
                continue
            raise cannot_write(candidate, error, "the export", "choose another --output") from None
        for path in candidate.iterdir():
            with path.open("rb") as file:
                os.fsync(file.fileno())
        fsync_dir(candidate.parent)
        return candidate
    raise AssertionError("numbered() yields names without end")


def _export_source(run_dir: Path, *, ema: bool, console: Console) -> tuple[Any, Path]:
    """The run's network with the weights `inception eval` reads, and its checkpoint."""
    from inception_cli.evaluation.members import load_run_member
    from inception_cli.weights.export import ExportSource

    member = load_run_member(run_dir, ema=ema, console=console)
    assert member.checkpoint is not None  # a run's member always has one
    source = ExportSource(
        name=str(member.model_cfg["name"]),
        model=member.model,
        model_cfg=member.model_cfg,
        preprocessing=member.preprocessing.as_dict(),
        in_chans=member.in_chans,
        num_classes=member.num_classes,
        metadata=_provenance(run_dir, member.checkpoint, member.weights, member.model_cfg),
    )
    return source, member.checkpoint


def _provenance(
    run_dir: Path, checkpoint: Path, weights: str, model_cfg: dict[str, Any]
) -> dict[str, str]:
    """Where the exported weights came from, as text (what every format's metadata holds)."""
    from inception_cli.rundir.checkpoints import load_checkpoint

    # Memory-mapped: the step and epoch are read without reading the tensors again.
    saved = load_checkpoint(checkpoint, mmap=True)
    summary = layout.read_summary(run_dir) or {}
    return {
        "source": "inception-paper-lab",
        "run_id": run_dir.resolve().name,
        "checkpoint": str(checkpoint.relative_to(run_dir)),
        "weights": weights,
        "step": str(saved.get("global_step", "unknown")),
        "epoch": str(saved.get("epoch", "unknown")),
        "model": str(model_cfg["name"]),
        "model_config": json.dumps(model_cfg, sort_keys=True, default=str),
        # The revision the run was trained with, and the one that exported it.
        "git_rev": str(summary.get("git_rev") or "unknown"),
        "export_git_rev": layout.git_revision() or "unknown",
        "exported_at": layout.now_iso(),
    }
