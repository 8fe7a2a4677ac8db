"""The index of a folder of packed shards (`inception data pack`, docs/data.md), torch-free.

    DST/index.json          what follows; written last, so its presence means a finished pack
    DST/train-000000.tar    WebDataset-style tar shards: <key>.jpg and <key>.cls per sample
    DST/val-000000.tar      ...

index.json holds the classes and, per split, its shards in order, each with its sample count,
byte size, sha256, and the offset and size of every image inside it and its label: the table a
map-style dataset reads samples from by global index, with one positioned read each. A shard is
named by a plain file name in DST: an index naming `../x.tar`, `/etc/x` or `sub/x.tar` is refused,
so that a pack copied from elsewhere reads nothing outside its folder.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inception_cli.errors import InputError
from inception_cli.rundir.durable import atomic_write_text

INDEX_FILE = "index.json"
FORMAT = "inception-shards"
VERSION = 1
PACK_HINT = "make one with `inception data pack SRC DST` (docs/data.md)"


def checked_name(name: Any) -> str:
    """A shard's name as the index gives it: a file directly inside the pack, else ValueError."""
    text = str(name)
    inside = text not in ("", ".", "..") and not any(c in text for c in ("/", "\\", "\0"))
    if not isinstance(name, str) or not inside:
        raise ValueError(
            f"it names the shard {text!r}, not a file inside the pack (a plain file name such "
            "as train-000000.tar)"
        )
    return text


@dataclass(frozen=True)
class ShardEntry:
    """One tar shard: where each sample's image lies in it, and how to check the whole file."""

    name: str
    bytes: int
    sha256: str
    offsets: list[int]  # of each image's data in the tar file
    sizes: list[int]
    labels: list[int]

    @property
    def samples(self) -> int:
        return len(self.labels)

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "samples": self.samples, **asdict(self)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ShardEntry:
        entry = cls(
            name=checked_name(record["name"]),
            bytes=int(record["bytes"]),
            sha256=str(record["sha256"]),
            offsets=[int(value) for value in record["offsets"]],
            sizes=[int(value) for value in record["sizes"]],
            labels=[int(value) for value in record["labels"]],
        )
        if not len(entry.offsets) == len(entry.sizes) == entry.samples == record["samples"]:
            raise ValueError(f"shard {entry.name}: the sample tables have different lengths")
        return entry


@dataclass(frozen=True)
class ShardIndex:
    classes: list[str]
    num_classes: int
    splits: dict[str, list[ShardEntry]]
    settings: dict[str, Any] = field(default_factory=dict)  # how it was packed
    skipped: dict[str, int] = field(default_factory=dict)  # unreadable files per split

    def samples(self, split: str) -> int:
        return sum(shard.samples for shard in self.splits.get(split, []))

    def record(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "classes": self.classes,
            "num_classes": self.num_classes,
            "settings": self.settings,
            "splits": {
                split: {
                    "samples": self.samples(split),
                    "skipped": self.skipped.get(split, 0),
                    "shards": [shard.record() for shard in shards],
                }
                for split, shards in self.splits.items()
            },
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ShardIndex:
        if record.get("format") != FORMAT or record.get("version") != VERSION:
            raise ValueError(f"not a {FORMAT} index of version {VERSION}")
        splits = {
            str(split): [ShardEntry.from_record(shard) for shard in content["shards"]]
            for split, content in record["splits"].items()
        }
        return cls(
            classes=[str(name) for name in record["classes"]],
            num_classes=int(record["num_classes"]),
            splits=splits,
            settings=dict(record.get("settings", {})),
            skipped={str(k): int(v["skipped"]) for k, v in record["splits"].items()},
        )


def index_path(root: Path) -> Path:
    return root / INDEX_FILE


def write_index(root: Path, index: ShardIndex) -> None:
    atomic_write_text(index_path(root), json.dumps(index.record(), separators=(",", ":")))


def read_index(root: Path) -> ShardIndex:
    """The index of the shards under `root`; InputError naming the problem when there is none."""
    path = index_path(root)
    if not root.is_dir():
        raise InputError(f"data.root={root} is not a folder; {PACK_HINT}")
    if not path.is_file():
        raise InputError(f"{root} holds no {INDEX_FILE} (not a finished pack); {PACK_HINT}")
    try:
        return ShardIndex.from_record(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{path} cannot be read as a shard index: {error}; {PACK_HINT}") from None


def check_shard_files(root: Path, shards: list[ShardEntry]) -> None:
    """Every shard is there with the size the index records (a cheap check: the checksums are
    verified by `inception data pack` when it writes or resumes a pack)."""
    for shard in shards:
        path = root / shard.name
        try:
            size = path.stat().st_size
        except OSError:
            raise InputError(f"shard {path} is missing; pack {root} again") from None
        if size != shard.bytes:
            raise InputError(
                f"shard {path} has {size} bytes but the index says {shard.bytes}: a torn copy; "
                f"copy it again or pack {root} again"
            )
