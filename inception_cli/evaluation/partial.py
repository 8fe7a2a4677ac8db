"""Partial results: what an interrupted evaluation computed, kept so that the same command
continues from there instead of starting again.

    <eval folder>/partial/<key>/key.json          what the key is made of, to read
    <eval folder>/partial/<key>/rank<r>-<id>.npz   Predictions of one process of one attempt

The eval folder is the first run's eval/ (runs/eval/ for published weights). The key is a digest
of what decides the result: the members (run directory, checkpoint file with its size and
modification time, EMA or raw weights, model config; published weights by tag), the crops, the
data (name, root, split, layout, blacklist, number of images), --limit, the precision and the
memory layout. The batch size and the number of processes only decide how the images are shared
out, so a continuation may change them. Each process rewrites its own file every
SAVE_INTERVAL_S seconds, durably (temporary file, fsync, rename), so a kill loses at most that
much work; a finished evaluation removes the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inception_cli.evaluation.data import EvalData
from inception_cli.evaluation.members import Member
from inception_cli.evaluation.predictions import Predictions, concatenate
from inception_cli.evaluation.settings import RunSettings
from inception_cli.rundir.durable import atomic_write_text

PARTIAL = "partial"
SAVE_INTERVAL_S = 10.0
# Seconds between saves, for slow shared file systems (longer) or tests (0: every batch).
SAVE_INTERVAL_ENV = "INCEPTION_EVAL_SAVE_INTERVAL_S"


def save_interval() -> float:
    try:
        return max(0.0, float(os.environ.get(SAVE_INTERVAL_ENV, SAVE_INTERVAL_S)))
    except ValueError:
        return SAVE_INTERVAL_S


def _member_identity(member: Member) -> dict[str, Any]:
    identity: dict[str, Any] = {"weights": member.weights, "model": member.model_cfg}
    if member.checkpoint is not None:
        stat = member.checkpoint.stat()
        identity["checkpoint"] = str(member.checkpoint.resolve())
        identity["checkpoint_bytes"] = stat.st_size
        identity["checkpoint_mtime_ns"] = stat.st_mtime_ns
    return identity


def key_parts(
    members: Sequence[Member],
    eval_data: EvalData,
    crops: int,
    limit: int | None,
    settings: RunSettings,
) -> dict[str, Any]:
    data = dict(eval_data.description)
    for name in ("root", "blacklist"):
        if data.get(name):
            data[name] = os.path.abspath(str(data[name]))
    return {
        "members": [_member_identity(member) for member in members],
        "crops": crops,
        "data": data,
        "images": len(eval_data.dataset),  # type: ignore[arg-type]
        "limit": limit,
        **settings.as_dict(),
    }


def digest(parts: dict[str, Any]) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class PartialResults:
    """One process's view of the partial results of one evaluation."""

    def __init__(self, eval_folder: Path, parts: dict[str, Any], rank: int) -> None:
        self.folder = eval_folder / PARTIAL / digest(parts)
        self.parts = parts
        # A new file per attempt and process: no two writers ever share a file.
        self.path = self.folder / f"rank{rank}-{os.getpid()}-{time.time_ns()}.npz"
        self.interval = save_interval()
        self.last_save = time.monotonic()

    def load(self, heads: int, k: int) -> Predictions:
        """Everything earlier attempts saved, each image once."""
        parts = []
        for path in sorted(self.folder.glob("rank*.npz")):
            try:
                parts.append(Predictions.load(path))
            except (OSError, ValueError, KeyError):
                continue  # written by another version, or damaged: those images are redone
        return concatenate(parts, heads, k).in_order()

    def due(self) -> bool:
        return time.monotonic() - self.last_save >= self.interval

    def save(self, predictions: Predictions) -> None:
        self.last_save = time.monotonic()
        if not len(predictions) and not len(predictions.unreadable):
            return
        key_file = self.folder / "key.json"
        if not key_file.exists():
            atomic_write_text(key_file, json.dumps(self.parts, indent=2, default=str) + "\n")
        predictions.save(self.path)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(OSError):  # partial/ itself, when no other evaluation left one
            self.folder.parent.rmdir()
