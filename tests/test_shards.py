"""`inception data pack` and `data=shards`: packing (index, checksums, tar layout, --max-side,
the flat validation layout), resuming a killed pack, reading every image once per epoch across
ranks and workers, the shard-major order's exact resume, and training from shards."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from rich.console import Console
from torch.utils.data import DataLoader
from typer.testing import CliRunner

from inception_cli.cli import app
from inception_cli.data import build_dataset, build_evaluation_images, check_data_config
from inception_cli.data.collate import collate_samples
from inception_cli.data.pack_encoding import encode_image
from inception_cli.data.packing import PackSettings, pack, parse_size
from inception_cli.data.shard_index import read_index
from inception_cli.data.tar_shards import ShardWriter, file_sha256
from inception_cli.errors import InputError
from inception_cli.training.sampling import EpochSampler, KeyedDataset

QUIET = Console(quiet=True)
CLASSES = ("n01", "n02", "n03")
STEP = 6  # grey levels of the test images, far enough apart to survive JPEG


def grey_level(image_id: int) -> int:
    return 12 + STEP * image_id


def write_source(root: Path, per_class: int = 8, val_per_class: int = 2) -> dict[Path, int]:
    """500x375 JPEGs, each of one grey level that names it; returns path -> image id."""
    ids: dict[Path, int] = {}
    for split, count in (("train", per_class), ("val", val_per_class)):
        for wnid in CLASSES:
            folder = root / split / wnid
            folder.mkdir(parents=True)
            for index in range(count):
                image_id = len(ids)
                path = folder / f"{wnid}_{index}.JPEG"
                Image.new("RGB", (500, 375), (grey_level(image_id),) * 3).save(path, quality=90)
                ids[path] = image_id
    return ids


def shards_config(folder: Path, /, **keys: Any) -> dict[str, Any]:
    base = dict(name="shards", root=str(folder), num_classes=len(CLASSES), in_chans=3)
    base.update(input_size=32, mean=[0.5] * 3, std=[0.5] * 3, augment=False, batch_size=3)
    return {**base, **keys}


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[Path, int]]:
    source = tmp_path_factory.mktemp("source")
    ids = write_source(source)
    destination = tmp_path_factory.mktemp("packed") / "shards"
    pack(source, destination, PackSettings(shard_bytes=parse_size("64KiB")), QUIET)
    return source, destination, ids


def test_index_counts_checksums_and_tar_layout(packed: tuple[Path, Path, Any]) -> None:
    source, destination, _ = packed
    index = read_index(destination)
    assert index.classes == list(CLASSES) and index.num_classes == 3
    assert index.samples("train") == 24 and index.samples("val") == 6
    assert len(index.splits["train"]) > 2  # 64 KiB shards: several
    record = json.loads((destination / "index.json").read_text())
    assert record["splits"]["train"]["samples"] == 24
    for shard in index.splits["train"]:
        path = destination / shard.name
        assert file_sha256(path) == shard.sha256 and path.stat().st_size == shard.bytes
        with tarfile.open(path) as tar:
            names = tar.getnames()
            assert names[0::2] == [n for n in names if n.endswith(".jpg")]
            assert names[1::2] == [n.replace(".jpg", ".cls") for n in names[0::2]]
            labels = [int(tar.extractfile(n).read()) for n in names[1::2]]  # type: ignore[union-attr]
        assert labels == shard.labels
    assert (
        not list(destination.glob("*.partial"))
        and not (destination / "pack-progress.json").exists()
    )


def test_packed_bytes_are_the_source_files(packed: tuple[Path, Path, dict[Path, int]]) -> None:
    source, destination, ids = packed
    index = read_index(destination)
    stored = set()
    for shard in index.splits["train"]:
        data = (destination / shard.name).read_bytes()
        for offset, size, label in zip(shard.offsets, shard.sizes, shard.labels, strict=True):
            stored.add((data[offset : offset + size], label))
    originals = {
        (path.read_bytes(), CLASSES.index(path.parent.name))
        for path in ids
        if path.parts[-3] == "train"
    }
    assert stored == originals  # without --max-side the files go in as they are


def test_training_order_is_shuffled_across_shards(packed: tuple[Path, Path, Any]) -> None:
    _, destination, _ = packed
    first = read_index(destination).splits["train"][0]
    assert len(set(first.labels)) > 1, "a shard of one class would make one-class batches"


def test_every_image_once_per_epoch_across_two_ranks_and_two_workers(
    packed: tuple[Path, Path, dict[Path, int]],
) -> None:
    _, destination, ids = packed
    dataset = build_dataset(shards_config(destination), "train", pixels="uint8")
    seen: list[int] = []
    shards_read = []
    for rank in (0, 1):
        sampler = EpochSampler(
            len(dataset),
            seed=3,
            shuffle=True,
            batch_size=3,
            rank=rank,
            world_size=2,
            drop_last=True,
            blocks=dataset.shard_sizes,  # type: ignore[attr-defined]
        )
        loader = DataLoader(
            KeyedDataset(dataset, 3),
            batch_size=3,
            sampler=sampler,
            num_workers=2,
            collate_fn=collate_samples,
        )
        for images, _labels in loader:
            assert images.dtype == torch.uint8 and images.shape == (3, 3, 32, 32)
            seen += [round((int(image.float().mean()) - 12) / STEP) for image in images]
        reader = dataset.reader  # type: ignore[attr-defined]
        shards_read.append({int(reader.shard_of[index]) for index in sampler.indices()})
    train_ids = sorted(image_id for path, image_id in ids.items() if path.parts[-3] == "train")
    assert sorted(seen) == train_ids, "each training image exactly once in the epoch"
    assert len(shards_read[0] & shards_read[1]) <= 1, "ranks read their own shards"


def test_shard_major_order_resumes_exactly_and_splits_every_sample_once() -> None:
    blocks = [5, 7, 4, 8]

    def sampler(rank: int, **keys: Any) -> EpochSampler:
        return EpochSampler(
            24,
            seed=1,
            shuffle=True,
            batch_size=2,
            rank=rank,
            world_size=2,
            drop_last=True,
            blocks=blocks,
            **keys,
        )

    first, second = sampler(0).indices(), sampler(1).indices()
    assert sorted(first + second) == list(range(24))
    assert first == sampler(0).indices(), "a function of (seed, epoch) alone"
    resumed = list(sampler(0, position=lambda: (0, 3)))
    assert [index for _, index in resumed] == first[3 * 2 :]
    later = sampler(0)
    later.set_epoch(1)
    assert later.indices() != first
    starts = np.cumsum([0, *blocks])
    runs = [int(np.searchsorted(starts, index, side="right")) for index in first + second]
    assert sum(a != b for a, b in zip(runs, runs[1:], strict=False)) == len(blocks) - 1


def test_max_side_reencodes_to_at_most_n_pixels(tmp_path: Path) -> None:
    write_source(tmp_path / "src", per_class=2, val_per_class=1)
    pack(tmp_path / "src", tmp_path / "dst", PackSettings(max_side=64), QUIET)
    index = read_index(tmp_path / "dst")
    assert index.settings["max_side"] == 64
    for shards in index.splits.values():
        data = (tmp_path / "dst" / shards[0].name).read_bytes()
        offset, size = shards[0].offsets[0], shards[0].sizes[0]
        with Image.open(io.BytesIO(data[offset : offset + size])) as image:
            assert image.size == (64, 48) and image.format == "JPEG"


def test_reencoded_images_have_fitted_huffman_tables(tmp_path: Path) -> None:
    """The same pixels as libjpeg's standard tables give, in fewer bytes."""
    source = tmp_path / "photo.jpg"
    noise = np.random.default_rng(0).integers(0, 256, (375, 500, 3), dtype=np.uint8)
    Image.fromarray(noise).save(source, quality=90)
    packed = encode_image(source, max_side=320)
    assert packed is not None and (packed.width, packed.height) == (320, 240)
    with Image.open(source) as image:
        image.draft("RGB", (320, 240))
        shrunk = image.convert("RGB").resize((320, 240), Image.Resampling.LANCZOS)
    standard = io.BytesIO()
    shrunk.save(standard, "JPEG", quality=90)
    assert len(packed.data) < len(standard.getvalue())
    decoded = [np.asarray(Image.open(io.BytesIO(b))) for b in (packed.data, standard.getvalue())]
    assert np.array_equal(*decoded)


def test_flat_validation_layout_with_its_labels(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write_source(source, per_class=1, val_per_class=0)
    for wnid in CLASSES:
        (source / "val" / wnid).rmdir()
    labels = [2, 0, 1, 1]
    for number in range(1, 5):
        Image.new("RGB", (50, 40), (number * 40,) * 3).save(
            source / "val" / f"ILSVRC2012_val_{number:08d}.JPEG"
        )
    (source / "val" / "labels.txt").write_text("\n".join(map(str, labels)))
    pack(source, tmp_path / "dst", PackSettings(), QUIET)
    index = read_index(tmp_path / "dst")
    assert [label for shard in index.splits["val"] for label in shard.labels] == labels


def test_a_killed_pack_resumes_to_the_same_shards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_source(tmp_path / "src")
    settings = PackSettings(shard_bytes=parse_size("64KiB"))
    pack(tmp_path / "src", tmp_path / "whole", settings, QUIET)
    finish, calls = ShardWriter.finish, []

    def killed_at_the_third(self: ShardWriter) -> Any:
        calls.append(self.name)
        if len(calls) == 3:
            raise KeyboardInterrupt  # as a kill mid-pack
        return finish(self)

    monkeypatch.setattr(ShardWriter, "finish", killed_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        pack(tmp_path / "src", tmp_path / "dst", settings, QUIET)
    monkeypatch.setattr(ShardWriter, "finish", finish)
    kept = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "dst").glob("*.tar")}
    assert len(kept) == 2 and (tmp_path / "dst" / "pack-progress.json").is_file()
    second = tmp_path / "dst" / sorted(kept)[1]
    second.write_bytes(b"torn" + second.read_bytes()[4:])  # finished, then damaged

    pack(tmp_path / "src", tmp_path / "dst", settings, QUIET)
    first = tmp_path / "dst" / sorted(kept)[0]
    assert first.stat().st_mtime_ns == kept[first.name], "a verified shard is kept"
    whole, resumed = read_index(tmp_path / "whole"), read_index(tmp_path / "dst")
    assert [s.sha256 for s in resumed.splits["train"]] == [s.sha256 for s in whole.splits["train"]]
    assert resumed.splits == whole.splits


def test_another_source_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    write_source(tmp_path / "src", per_class=1, val_per_class=1)
    pack(tmp_path / "src", tmp_path / "dst", PackSettings(), QUIET)
    with pytest.raises(InputError, match="another source or other settings"):
        pack(tmp_path / "src", tmp_path / "dst", PackSettings(max_side=64), QUIET)


def test_pack_command_and_its_refusals(tmp_path: Path) -> None:
    write_source(tmp_path / "src", per_class=1, val_per_class=1)
    runner = CliRunner()
    done = runner.invoke(
        app,
        [
            "data",
            "pack",
            str(tmp_path / "src"),
            str(tmp_path / "dst"),
            "--max-side",
            "320",
            "--workers",
            "0",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "train: 3 images in 1 shards" in done.output
    for arguments, message in (
        (["--shard-size", "lots"], "give a size such as 256MB"),
        (["--max-side", "8"], "too small"),
    ):
        refused = runner.invoke(
            app, ["data", "pack", str(tmp_path / "src"), str(tmp_path / "x"), *arguments]
        )
        assert refused.exit_code == 2 and message in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


def test_data_check_names_what_is_wrong(packed: tuple[Path, Path, Any], tmp_path: Path) -> None:
    _, destination, _ = packed
    check_data_config(shards_config(destination))
    with pytest.raises(InputError, match="set data.num_classes=3"):
        check_data_config(shards_config(destination, num_classes=1000))
    with pytest.raises(InputError, match="holds no index.json"):
        check_data_config(shards_config(tmp_path))
    with pytest.raises(InputError, match="needs data.root"):
        check_data_config(shards_config(destination, root=None))


def test_dali_without_a_gpu_is_one_line_before_training(
    packed: tuple[Path, Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from inception_cli.data import backends

    _, destination, _ = packed
    monkeypatch.setattr(backends, "nvidia_gpu_visible", lambda: False)
    with pytest.raises(InputError, match="NVIDIA GPU and this machine has none"):
        check_data_config(shards_config(destination, backend="dali"))
    overrides = ["data=shards", f"data.root={destination}", "data.num_classes=3"]
    result = CliRunner().invoke(app, ["train", *overrides, "data.backend=dali"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "data.backend=dali needs a GPU" in lines[0]
    monkeypatch.setattr(backends, "nvidia_gpu_visible", lambda: True)
    monkeypatch.setattr(backends, "dali_installed", lambda: False)
    with pytest.raises(InputError, match=r"pip install 'inception-paper-lab\[dali\]'"):
        check_data_config(shards_config(destination, backend="dali"))


def test_dali_inputs_draw_the_same_crops_as_the_cpu_backend(
    packed: tuple[Path, Path, Any],
) -> None:
    """What the loader workers hand DALI: the file's bytes and a crop drawn under the sample's
    keyed generator (DALI itself needs a GPU and is not run here)."""
    from inception_cli.data.dali_inputs import DaliCrops, EncodedBatch, collate_encoded
    from inception_cli.data.spec import DataSpec

    _, destination, _ = packed
    spec = DataSpec.from_config(shards_config(destination, augment=True))
    reader = build_dataset(shards_config(destination), "train", pixels="uint8").reader  # type: ignore[attr-defined]
    data = reader.read(0)
    torch.manual_seed(5)
    first = DaliCrops(spec, augment=True)(data)
    torch.manual_seed(5)
    assert torch.equal(DaliCrops(spec, augment=True)(data).window, first.window)
    left, top, width, height = first.window.tolist()
    assert left >= 0 and left + width <= 1 + 1e-6 and top >= 0 and top + height <= 1 + 1e-6
    assert 0.08 * 0.99 <= width * height <= 1.0 and first.data.tobytes() == data
    batch = collate_encoded([(first, 1), (first, 2)])
    assert isinstance(batch, EncodedBatch) and batch.windows.shape == (2, 4)
    assert batch.labels.tolist() == [1, 2] and batch.colors is None


def test_evaluation_images_come_from_the_shards(packed: tuple[Path, Path, Any]) -> None:
    _, destination, _ = packed
    images = build_evaluation_images(shards_config(destination), "val")
    image, label = images.dataset[0]
    assert image.shape == (3, 375, 500) and 0.0 <= image.min() <= image.max() <= 1.0
    assert label == 0 and images.layout == "shards" and images.num_classes == 3


def test_training_from_shards_end_to_end(
    packed: tuple[Path, Path, Any], inception: Any, tmp_path: Path
) -> None:
    _, destination, _ = packed
    done = inception(
        "train",
        "debug=tiny",
        "data=shards",
        f"data.root={destination}",
        "data.num_classes=3",
        "data.input_size=75",
        "data.batch_size=4",
        "data.num_workers=2",
        "model=irv1",
        "trainer.limit_val_batches=1",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = list((tmp_path / "runs").iterdir())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps"] == 24 // 4
