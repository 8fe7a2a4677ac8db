"""Reading W&B's offline run files as they are on disk (the wandb package no longer ships a
reader of its own): `runs/.../wandb/offline-run-*/run-<id>.wandb`."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BLOCK = 32768  # the .wandb file is a LevelDB log: 32 KiB blocks of 7-byte-headed chunks
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def wandb_records(path: Path) -> Iterator[Any]:
    """The protobuf records of a `run-<id>.wandb` file, in order."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B run file"
    position, pending = 7, b""
    while position + 7 <= len(data):
        left = BLOCK - position % BLOCK
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        if left < 7 or (length == 0 and kind == 0):
            position += left  # the zero padding at the end of a block
            continue
        chunk = data[position + 7 : position + 7 + length]
        position += 7 + length
        pending = chunk if kind in (FULL, FIRST) else pending + chunk
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            yield record


def read_offline_run(folder: Path) -> dict[str, Any]:
    """id, group, job type, tags, config keys, history keys, summary and artifacts of one
    `offline-run-*` folder."""
    (path,) = folder.glob("run-*.wandb")
    run: dict[str, Any] = {"config": set(), "history": set(), "summary": {}, "artifacts": []}
    for record in wandb_records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run.update(id=record.run.run_id, group=record.run.run_group)
            run.update(job_type=record.run.job_type, tags=list(record.run.tags))
        elif kind == "config":
            run["config"] |= {item.key for item in record.config.update}
        elif kind == "history":
            run["history"] |= {
                item.key or "/".join(item.nested_key) for item in record.history.item
            }
        elif kind == "summary":
            for item in record.summary.update:
                run["summary"][item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
        elif kind == "artifact":
            run["artifacts"].append((record.artifact.type, record.artifact.name))
    return run


def offline_runs(root: Path) -> list[dict[str, Any]]:
    return [
        {**read_offline_run(folder), "run_dir": folder.parent.parent}
        for folder in sorted(root.glob("*/*/wandb/offline-run-*"))
    ]
