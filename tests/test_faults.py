"""Every failure of every command is one line and an exit status (2 the input, 4 the machine,
1 the tool), a traceback only with INCEPTION_DEBUG=1; and what is read from disk is trusted no
further than it must be: a torn metrics.csv, images beyond the pixel limit, an index.json naming
files outside its pack, and an evaluation that would write over its own result."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import logging
import os
import struct
import subprocess
import zlib
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image
from rich.console import Console
from support.user import TINY, assert_one_line_error, inception, trained_in_process
from typer.testing import CliRunner

from inception_cli.cli import app
from inception_cli.config.compose import compose_train_config
from inception_cli.config.rules import check_values
from inception_cli.data import build_dataset, build_evaluation_images
from inception_cli.data import image_folder as image_folder_module
from inception_cli.data.imagenet_val import open_imagenet_val
from inception_cli.data.pack_encoding import encode_image
from inception_cli.data.packing import PackSettings, pack, parse_size
from inception_cli.data.shard_index import read_index
from inception_cli.errors import DEBUG_HINT, describe_failure
from inception_cli.rundir import layout
from inception_cli.training.csv_logger import RunCSVLogger

TESTS = Path(__file__).parent
CONF = TESTS.parent / "conf"


def assert_one_error_line(
    done: subprocess.CompletedProcess[str], status: int, expected: str
) -> None:
    """`status`, and one line `error: ...` holding `expected` to end stderr (after Lightning's
    start-up lines, "GPU available: ...", when training had begun); no traceback."""
    assert done.returncode == status, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    said = [line for line in lines if line.startswith("error: ")]
    assert said == lines[-1:] and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert expected in said[0] and "HYDRA_FULL_ERROR" not in done.stderr, said[0]


def runs_in(cwd: Path) -> list[Path]:
    runs = cwd / "runs"
    return sorted(p for p in runs.iterdir() if not p.name.startswith(".")) if runs.is_dir() else []


# ------------------------------------------------------------------ one line, every failure


def test_a_classifier_of_one_class_is_refused_before_training(tmp_path: Path) -> None:
    done = inception(tmp_path, "train", "data=synthetic", "data.num_classes=1")
    assert_one_line_error(done, "data.num_classes=1 is out of range: it must be an integer >= 2")
    assert runs_in(tmp_path) == []


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "INCEPTION_DEBUG=1"])
def test_runs_dir_under_a_regular_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, debug: bool
) -> None:
    """NotADirectoryError raised in the resolver that claims the run directory, before the
    task starts, wrapped by OmegaConf: one line naming the file in the way."""
    (tmp_path / "a_file").write_text("x")
    if debug:
        monkeypatch.setenv("INCEPTION_DEBUG", "1")
    done = inception(tmp_path, "train", *TINY, f"paths.runs_dir={tmp_path / 'a_file' / 'runs'}")
    expected = f"{tmp_path / 'a_file'} is a file, not a folder; choose a path under a folder"
    if not debug:
        assert_one_line_error(done, expected)
        assert DEBUG_HINT in done.stderr and "HYDRA_FULL_ERROR" not in done.stderr
        return
    assert done.returncode == 2
    assert "Traceback" in done.stderr and "NotADirectoryError" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: cannot use {tmp_path}")


def test_a_target_that_cannot_be_built_is_one_line_and_leaves_no_run(tmp_path: Path) -> None:
    """Hydra's instantiation error (four lines and HYDRA_FULL_ERROR today) as one line; the
    run that never started leaves no directory."""
    done = inception(tmp_path, "train", *TINY, "+callbacks.extra.x._target_=torch.nn.Linear")
    assert_one_line_error(done, "cannot build callbacks.extra.x (torch.nn.modules.linear.Linear)")
    assert "missing 2 required positional arguments" in done.stderr
    assert "HYDRA_FULL_ERROR" not in done.stderr and "full_key" not in done.stderr
    assert runs_in(tmp_path) == []


class DiskFullAt(pl.Callback):
    """Raises ENOSPC, as a write to a full disk does, after optimizer step `step`."""

    def __init__(self, step: int, path: str) -> None:
        self.step, self.path = step, path

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_step == self.step:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.path)


def test_a_full_disk_during_training_is_one_line_exit_4_and_summary_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    )
    done = inception(
        tmp_path,
        "train",
        *TINY,
        "data.num_train=16",
        f"+callbacks.extra.disk._target_={__name__}.DiskFullAt",
        "+callbacks.extra.disk.step=2",
        f"+callbacks.extra.disk.path={tmp_path / 'full'}",
    )
    assert_one_error_line(
        done, 4, f"no space left on the disk: {tmp_path / 'full'}; free space there"
    )
    (run_dir,) = runs_in(tmp_path)
    summary = json.loads(layout.summary_path(run_dir).read_text())
    assert summary["status"] == "failed" and "No space left" in summary["error"]


def test_every_command_turns_a_fault_into_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The guard of the CLI: a machine's fault is status 4, the tool's own 1, each one line."""
    import inception_cli.tasks.data_pack as data_pack
    import inception_cli.tasks.models_table as models_table

    runner = CliRunner()
    no_locks = OSError(errno.ENOLCK, os.strerror(errno.ENOLCK), str(tmp_path / "x.lock"))
    cases: list[tuple[Any, str, list[str], Exception, int, str]] = [
        (models_table, "print_models_table", ["models"], no_locks, 4, "gives no file locks"),
        (data_pack, "run_pack", ["data", "pack", "a", "b"], BrokenProcessPool("a child died"),
         4, "a worker process failed (a child died)"),
        (models_table, "print_models_table", ["models"], ValueError("oops\nmore"), 1,
         "ValueError: oops: a fault of inception itself"),
    ]  # fmt: skip
    for module, name, args, error, status, expected in cases:

        def fail(*_: Any, _error: Exception = error, **__: Any) -> None:
            raise _error

        monkeypatch.setattr(module, name, fail)
        result = runner.invoke(app, args)
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == status and len(lines) == 1, result.stderr
        assert lines[0].startswith("error: ") and expected in lines[0]
        assert "INCEPTION_DEBUG=1" in lines[0]
    monkeypatch.setenv("INCEPTION_DEBUG", "1")
    result = runner.invoke(app, ["models"])
    assert "Traceback" in result.stderr and result.stderr.strip().endswith(
        "the traceback to report"
    )


def resolver_failure(error: OSError) -> Exception:
    """`error` raised in a resolver, as OmegaConf wraps it when the value is read."""

    def resolver() -> None:
        raise error

    OmegaConf.register_new_resolver("fails_for_test", resolver)
    try:
        OmegaConf.select(OmegaConf.create({"x": "${fails_for_test:}"}), "x")
    except Exception as wrapped:
        return wrapped
    finally:
        OmegaConf.clear_resolver("fails_for_test")
    raise AssertionError("the resolver did not fail")


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        (errno.ENOSPC, 4, "no space left on the disk: /data/x; free space there"),
        (errno.EACCES, 4, "permission denied: /data/x; give this user access"),
        (errno.EIO, 4, "input/output error: /data/x: the disk or the file system failed"),
        (errno.ENOLCK, 4, "the file system gives no file locks: /data/x"),
        (errno.ENOTDIR, 2, "cannot use /data/x"),
        (errno.ENOENT, 2, "No such file or directory: /data/x; check the path"),
    ],
)
def test_os_errors_name_what_to_do_whatever_wraps_them(
    code: int, status: int, expected: str
) -> None:
    error = OSError(code, os.strerror(code), "/data/x")
    for raised in (error, resolver_failure(error)):
        failure = describe_failure(raised)
        assert (failure.status, failure.message.endswith(DEBUG_HINT)) == (status, True)
        assert expected in failure.message and "\n" not in failure.message


def test_hydra_and_lightning_refusals_are_input() -> None:
    from hydra.utils import instantiate
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    with pytest.raises(Exception) as raised:  # noqa: B017 - whatever Hydra wraps it in
        instantiate({"opt": {"_target_": "torch.optim.SGD", "params": [], "lr": 0.1}})
    failure = describe_failure(raised.value)
    assert failure.status == 2 and failure.message.startswith("cannot build opt (torch.optim")
    assert "ValueError: optimizer got an empty parameter list" in failure.message
    lightning = describe_failure(MisconfigurationException("`val_check_interval` is 2"))
    assert lightning.status == 2 and "`val_check_interval` is 2" in lightning.message


NEW_RULES = {
    "seed": (["seed=5000000000"], "it must be an integer in [0, 4294967295]"),
    "one_class": (["data.num_classes=1"], "an integer >= 2"),
    "val_check": (["trainer.val_check_interval=1.5"], "or a fraction in (0, 1]"),
    "clip": (["trainer.gradient_clip_algorithm=foo"], "one of norm, value"),
    "sanity": (["trainer.num_sanity_val_steps=-5"], "an integer >= 0 or -1"),
    "overfit": (["trainer.overfit_batches=2.5"], "a count of batches >= 0 or a fraction"),
    "reload": (["trainer.reload_dataloaders_every_n_epochs=-1"], "an integer >= 0"),
    "betas": (["optimizer=adamw", "+optimizer.betas=[0.9,1.5]"], "two numbers in [0, 1)"),
    "nesterov": (["optimizer=sgd", "optimizer.momentum=0"], "needs optimizer.momentum > 0"),
    "pixels": (["data=imagenet", "data.root=/x", "data.max_image_pixels=0"], "an integer >= 1"),
}


@pytest.mark.parametrize("case", list(NEW_RULES))
def test_numbers_torch_and_lightning_refuse_are_refused_first(case: str) -> None:
    from inception_cli.errors import InputError

    overrides, expected = NEW_RULES[case]
    with pytest.raises(InputError) as refused:
        check_values(compose_train_config(overrides))
    assert expected in str(refused.value) and "\n" not in str(refused.value)


# ------------------------------------------------------------------------ a torn metrics.csv


def logged_run(folder: Path, steps: int = 3) -> bytes:
    """metrics.csv as the logger writes it: one row per step; its bytes."""
    logger = RunCSVLogger(folder)
    for step in range(steps):
        logger.write_row({"epoch": 0, "train/loss": 2.5 - step / 4}, step=step)
    return (folder / layout.METRICS).read_bytes()


@pytest.mark.parametrize(
    ("cut", "kept_rows"),
    [(5, 2), (1, 3), (0, 3)],
    ids=["row cut short", "line feed missing", "whole"],
)
def test_a_torn_last_row_is_left_out_and_cut_before_the_next_append(
    tmp_path: Path, cut: int, kept_rows: int
) -> None:
    from inception_cli.comparison.curves import read_rows

    whole = logged_run(tmp_path)
    assert whole.endswith(b"\r\n")
    (tmp_path / layout.METRICS).write_bytes(whole[: len(whole) - cut])
    assert [row["step"] for row in layout.read_metrics(tmp_path)] == ["0", "1", "2"][:kept_rows]
    warnings: list[str] = []
    assert len(read_rows(tmp_path, warnings) or []) == kept_rows and warnings == []

    RunCSVLogger(tmp_path).write_row({"epoch": 0, "train/loss": 1.0}, step=3)  # a resumed run
    rows = layout.read_metrics(tmp_path)
    assert [row["step"] for row in rows] == ["0", "1", "2"][:kept_rows] + ["3"]
    assert rows[-1]["train/loss"] == "1.0" and rows[-1]["epoch"] == "0"
    lines = (tmp_path / layout.METRICS).read_bytes().split(b"\r\n")
    assert lines[-1] == b"" and len({line.count(b",") for line in lines[:-1]}) == 1


def test_a_row_run_on_into_a_torn_one_is_left_out(tmp_path: Path) -> None:
    """What an append without the repair left: the torn row and the next one on one line."""
    whole = logged_run(tmp_path)
    (tmp_path / layout.METRICS).write_bytes(whole[:-5] + whole[whole.index(b"\r\n") + 2 :])
    assert [row["step"] for row in layout.read_metrics(tmp_path)] == ["0", "1", "1", "2"]


def test_a_torn_header_is_written_again(tmp_path: Path) -> None:
    (tmp_path / layout.METRICS).write_text("epoch,st")
    assert layout.read_metrics(tmp_path) == []
    RunCSVLogger(tmp_path).write_row({"epoch": 0, "train/loss": 2.0}, step=0)
    (row,) = layout.read_metrics(tmp_path)
    assert row["step"] == "0" and row["train/loss"] == "2.0"


# ------------------------------------------------------------------------ the pixel limit


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header says width x height, with almost no pixel data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def write_png(path: Path, side: int, grey: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (side, side), (grey,) * 3).save(path)


def imagenet_config(root: Path, **keys: Any) -> dict[str, Any]:
    cfg = OmegaConf.to_container(OmegaConf.load(CONF / "data" / "imagenet.yaml"))
    assert isinstance(cfg, dict)
    cfg.update(root=str(root), num_classes=2, input_size=8, augment=False, num_workers=0)
    return {**cfg, **keys}


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The (height, width) of every image the folder loaders decode."""
    sizes: list[tuple[int, int]] = []
    real = image_folder_module.decode_image

    def spy(data: Any, **keys: Any) -> torch.Tensor:
        image = real(data, **keys)
        sizes.append(tuple(image.shape[-2:]))
        return image

    monkeypatch.setattr(image_folder_module, "decode_image", spy)
    return sizes


def test_images_over_the_limit_are_skipped_with_their_path_before_decoding(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, decoded: list[tuple[int, int]]
) -> None:
    for split in ("train", "val"):
        write_png(tmp_path / split / "n01" / "a.png", 20, 40)  # 400 pixels
        write_png(tmp_path / split / "n01" / "b.png", 40, 90)  # 1,600: over
        write_png(tmp_path / split / "n02" / "c.png", 20, 140)
    training = build_dataset(imagenet_config(tmp_path, max_image_pixels=1000), "train")
    with caplog.at_level(logging.WARNING):
        labels = [training[index][1] for index in range(len(training))]
    assert labels == [0, 1, 1]  # b.png's place is taken by the next image
    assert (
        f"{tmp_path / 'train' / 'n01' / 'b.png'} is 40 x 40 = 1,600 pixels, over the limit of 1,000 (data.max_image_pixels)"
        in caplog.text
    )
    assert (40, 40) not in decoded

    evaluation = build_evaluation_images(imagenet_config(tmp_path, max_image_pixels=1000), "val")
    assert [image is None for image, _ in (evaluation.dataset[i] for i in range(3))] == [
        False,
        True,
        False,
    ]


def test_a_30000_px_png_is_refused_from_its_header_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, decoded: list[tuple[int, int]]
) -> None:
    """Pillow's default limit; torchvision would allocate 2.7 GB for it."""
    folder = tmp_path / "val" / "n01"
    write_png(folder / "a.png", 16, 50)
    (folder / "huge.png").write_bytes(png_header(30000, 30000))
    images = open_imagenet_val(tmp_path, "val")
    with caplog.at_level(logging.WARNING):
        results = [images[i][0] for i in range(len(images))]
    assert [image is None for image in results] == [False, True]
    assert decoded == [(16, 16)] and str(folder / "huge.png") in caplog.text
    assert encode_image(folder / "huge.png", max_side=320) is None  # `data pack` leaves it out


def test_packing_checks_the_size_it_decodes_at(tmp_path: Path) -> None:
    """A JPEG shrunk to --max-side decodes at 1/8 of its size: the limit applies to that."""
    path = tmp_path / "big.jpg"
    Image.new("RGB", (1600, 1200), (90, 90, 90)).save(path, quality=90)
    assert encode_image(path, max_side=200, max_pixels=100_000) is not None  # 200 x 150
    assert encode_image(path, max_side=None, max_pixels=100_000) is None
    assert encode_image(path, max_side=None, max_pixels=2_000_000) is not None


@pytest.fixture
def small_pack(tmp_path: Path) -> Path:
    """train/ and val/ of two classes: 16 px images and one of 48 px in each split."""
    source = tmp_path / "source"
    for split in ("train", "val"):
        for label, wnid in enumerate(("n01", "n02")):
            for index in range(2):
                write_png(source / split / wnid / f"{index}.png", 16, 30 + 60 * label + 10 * index)
        write_png(source / split / "n02" / "9_big.png", 48, 250)
    destination = tmp_path / "pack"
    pack(source, destination, PackSettings(shard_bytes=parse_size("64KiB")), Console(quiet=True))
    return destination


def shards_config(root: Path, **keys: Any) -> dict[str, Any]:
    base = dict(name="shards", root=str(root), num_classes=2, in_chans=3, input_size=8)
    base.update(mean=[0.5] * 3, std=[0.5] * 3, augment=False, batch_size=2)
    return {**base, **keys}


def test_shards_skip_images_over_the_limit(
    small_pack: Path, caplog: pytest.LogCaptureFixture
) -> None:
    limit = 32 * 32
    training = build_dataset(
        shards_config(small_pack, max_image_pixels=limit), "train", pixels="uint8"
    )
    reader = training.reader  # type: ignore[attr-defined]
    sides = [Image.open(io.BytesIO(reader.read(i))).size[0] for i in range(len(reader))]
    big = sides.index(48)
    with caplog.at_level(logging.WARNING):
        labels = [training[index][1] for index in range(len(training))]
    expected = [int(label) for label in reader.labels]
    expected[big] = expected[(big + 1) % len(expected)]  # the next sample takes its place
    assert labels == expected
    assert (
        f"{small_pack / 'train-000000.tar'} (sample {big}) is 48 x 48 = 2,304 pixels" in caplog.text
    )
    assert "over the limit of 1,024 (data.max_image_pixels)" in caplog.text

    evaluation = build_evaluation_images(shards_config(small_pack, max_image_pixels=limit), "val")
    images = [evaluation.dataset[i][0] for i in range(len(evaluation.dataset))]
    assert [image is None for image in images] == [False, False, False, False, True]
    whole = build_evaluation_images(shards_config(small_pack), "val")  # Pillow's limit
    assert all(whole.dataset[i][0] is not None for i in range(len(whole.dataset)))


# ------------------------------------------------------------------- index.json stays inside


@pytest.mark.parametrize("name", ["../outside.tar", "/etc/passwd", "sub/train.tar", "..", ""])
def test_an_index_naming_a_file_outside_the_pack_is_refused(small_pack: Path, name: str) -> None:
    from inception_cli.errors import InputError

    record = json.loads((small_pack / "index.json").read_text())
    record["splits"]["train"]["shards"][0]["name"] = name
    (small_pack / "index.json").write_text(json.dumps(record))
    with pytest.raises(InputError, match="not a file inside the pack") as refused:
        read_index(small_pack)
    assert "\n" not in str(refused.value)


def test_training_on_such_a_pack_is_one_line(small_pack: Path, tmp_path: Path) -> None:
    record = json.loads((small_pack / "index.json").read_text())
    record["splits"]["val"]["shards"][0]["name"] = str(tmp_path / "elsewhere.tar")
    (small_pack / "index.json").write_text(json.dumps(record))
    done = inception(
        tmp_path, "train", "data=shards", f"data.root={small_pack}", "data.num_classes=2"
    )
    assert_one_line_error(done, "not a file inside the pack")


# ------------------------------------------------------ eval --output never overwrites itself


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("eval_output")
    trained_in_process(cwd, "tiny", TINY)
    return cwd


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_eval_output_never_writes_over_a_file(workdir: Path) -> None:
    from inception_cli.tasks.evaluate import run_eval

    run_dir = workdir / "runs" / "tiny"
    first = inception(workdir, "eval", str(run_dir), "--limit", "4", "--output", "r.npz")
    assert first.returncode == 0, first.stderr[-3000:]
    result = json.loads((workdir / "r.npz").read_text())  # the result is JSON, whole
    with np.load(workdir / "r.predictions.npz", allow_pickle=False) as saved:
        assert len(saved["positions"]) == 4 == result["images"]["evaluated"]
    kept = {name: digest(workdir / name) for name in ("r.npz", "r.predictions.npz")}

    run_eval([str(run_dir)], limit=4, output=workdir / "r.npz")
    assert {name: digest(workdir / name) for name in kept} == kept
    json.loads((workdir / "r-1.npz").read_text())
    assert (workdir / "r-1.predictions.npz").stat().st_size > 0

    (workdir / "s.npz").write_bytes(b"the user's own file")
    run_eval([str(run_dir)], limit=4, output=workdir / "s.json")
    assert (workdir / "s.npz").read_bytes() == b"the user's own file"
    assert not (workdir / "s.json").exists() and (workdir / "s-1.json").is_file()
    np.load(io.BytesIO((workdir / "s-1.npz").read_bytes()), allow_pickle=False).close()
