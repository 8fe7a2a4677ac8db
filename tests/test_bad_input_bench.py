"""`inception bench` refusing bad input as a user meets it: one `error:` line, exit status 2,
no traceback, before anything is measured, and nothing a user had on disk changed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.user import assert_one_line_error, fingerprint, inception

# A network bench that would take a while if it got as far as measuring.
TINY_EVAL = ["--mode", "eval", "--size", "75", "--batch-size", "2", "width=0.125"]
TINY_DATA = ["--mode", "data", "--size", "75", "width=0.125", "steps=1", "warmup=1"]
TINY_DATA += ["workers=0", "peak_seconds=0", "--repeats", "1", "--precision", "32"]


def output_under_a_file(folder: Path) -> str:
    (folder / "notes.txt").write_text("keep")
    return str(folder / "notes.txt" / "bench.json")


def output_in_a_read_only_folder(folder: Path) -> str:
    locked = folder / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return str(locked / "bench.json")


@pytest.mark.parametrize(
    ("make_output", "expected"),
    [
        (output_under_a_file, "notes.txt is a file, not a folder"),
        (output_in_a_read_only_folder, "Permission denied"),
        (lambda folder: "/proc/inception-bench.json", "cannot write the figures to /proc"),
    ],
    ids=["under-a-regular-file", "read-only-folder", "proc"],
)
def test_unwritable_output_fails_before_measuring(
    tmp_path: Path, make_output: object, expected: str
) -> None:
    if make_output is output_in_a_read_only_folder and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    assert callable(make_output)
    output = make_output(tmp_path)
    before = fingerprint(tmp_path)
    done = inception(tmp_path, "bench", *TINY_EVAL, "--output", output, timeout=120)
    assert_one_line_error(done, expected)
    assert "matmul peak" not in done.stdout  # refused before the first timing
    assert fingerprint(tmp_path) == before and not (tmp_path / "runs").exists()


def write_images(folder: Path, count: int, extra: dict[str, bytes] | None = None) -> None:
    from inception_cli.benchmarking.data import write_synthetic_jpegs

    write_synthetic_jpegs(folder, count, classes=2)
    for name, data in (extra or {}).items():
        (folder / "train" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "train" / name).write_bytes(data)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, "fewer images than one batch (4)"),
        ({"class_2/.keep": b""}, "train holds no images (Found no valid file for the classes"),
    ],
    ids=["three-images", "empty-class-folder"],
)
def test_data_set_smaller_than_one_batch_is_said(
    tmp_path: Path, extra: dict[str, bytes], expected: str
) -> None:
    data = tmp_path / "images"
    write_images(data, 3, extra)
    before = fingerprint(data)
    arguments = ["--batch-size", "4", f"data.root={data}", "--output", str(tmp_path / "out")]
    done = inception(tmp_path, "bench", *TINY_DATA, *arguments, timeout=300)
    assert_one_line_error(done, expected)
    assert fingerprint(data) == before and not (tmp_path / "out").exists()


def test_a_non_image_among_the_images_gives_a_clean_result(tmp_path: Path) -> None:
    """The folder loader steps over the file (one warning), the pack leaves it out."""
    data = tmp_path / "images"
    write_images(data, 4, {"class_0/notes.JPEG": b"not an image"})
    arguments = ["--batch-size", "4", f"data.root={data}", "--output", str(tmp_path)]
    done = inception(tmp_path, "bench", *TINY_DATA, *arguments, timeout=300)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    (record,) = tmp_path.glob("v4-data-*.json")
    rows = json.loads(record.read_text())["results"]["data"]
    assert {row["dataset"] for row in rows} >= {"jpeg folder", "shards"}
