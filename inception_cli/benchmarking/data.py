"""Input-pipeline throughput: images/s of the training loader, for every data source and backend
side by side at each worker count, set against the network's training throughput.

Sources: a folder of JPEGs (synthetic 375x500 ones unless `data.root` is given), the same
images packed into shards (`--shards DST`, or packed here with `--max-side`), and both again
decoded by DALI on the GPU where DALI and a GPU are there. A loader's figure is what training
gets: uint8 batches read, decoded and augmented, and copied to the device (for DALI: decoded
there). Turning them into normalised floats on the device is left out: the training process
does it, a few element-wise passes over the batch (data/finishing.py). With no worker processes the sources' timed blocks alternate, A B A B ..., so
that a change in machine load touches them alike; with workers, the sources run one after
the other (a loader's workers would go on filling its queue while another is timed).

Only this mode reads the data configs, so omegaconf and Lightning are imported here lazily.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from rich.console import Console

from inception_cli.benchmarking.settings import BenchSettings
from inception_cli.errors import InputError
from inception_cli.measure.peak import synchronize

DEFAULT_MAX_SIDE = 320


def write_synthetic_jpegs(root: Path, count: int, classes: int = 4, start: int = 0) -> None:
    """`count` JPEGs of ImageNet's typical 500x375 in train/<class>/, written as cameras and
    Flickr write them (PIL, quality 90, 4:2:0 chroma): coarse shapes, finer texture and grain,
    about 110 KB a file, the mean file size of ILSVRC-2012's training set (138 GB for 1.28
    million images), so that reading and decoding cost about what photographs cost."""
    import io

    from PIL import Image

    generator = torch.Generator().manual_seed(start)  # `start`: write one range per process
    for index in range(start, start + count):
        folder = root / "train" / f"class_{index % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        coarse = torch.rand(1, 3, 12, 16, generator=generator) * 255
        texture = torch.rand(1, 3, 94, 125, generator=generator) * 255
        image = F.interpolate(coarse, size=(375, 500), mode="bicubic", align_corners=False) / 2
        image += F.interpolate(texture, size=(375, 500), mode="bilinear", align_corners=False) / 2
        image += torch.randn(image.shape, generator=generator) * 16
        pixels = image[0].clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
        encoded = io.BytesIO()
        Image.fromarray(pixels).save(encoded, "JPEG", quality=90)
        (folder / f"{index:05d}.JPEG").write_bytes(encoded.getvalue())


def data_config(name: str, settings: BenchSettings, root: str, **keys: Any) -> dict[str, Any]:
    """The `data=<name>` config at the benchmark's batch and input size (the network's, so that
    the loader and the training step are timed alike), any number of classes."""
    from omegaconf import OmegaConf

    from inception_cli.config.compose import compose_train_config

    cfg = OmegaConf.to_container(compose_train_config([f"data={name}"]).data, resolve=True)
    assert isinstance(cfg, dict)
    cfg.update(batch_size=settings.batch_size, input_size=settings.size, root=root, **keys)
    cfg["num_classes"] = class_count(Path(root).expanduser())  # any: labels do not set speed
    return {str(key): value for key, value in cfg.items()}


def class_count(root: Path) -> int:
    """The classes of a pack (its index) or of a folder (train/'s class folders)."""
    from inception_cli.data.pack_sources import class_folders
    from inception_cli.data.shard_index import index_path, read_index

    if index_path(root).is_file():
        return read_index(root).num_classes
    train_dir = root / "train"
    return max(1, len(class_folders(train_dir))) if train_dir.is_dir() else 1


@dataclass
class Source:
    """One loader under test and its timed blocks."""

    name: str
    backend: str
    cfg: dict[str, Any]
    rates: list[float] = field(default_factory=list)
    batches: Iterator[Any] | None = None
    pin_memory: bool = False


def endless(loader: Any, name: str = "the data set") -> Iterator[Any]:
    """The loader's batches, epoch after epoch. A training loader drops the last partial
    batch, so a data set smaller than one batch gives none: said, rather than looped on."""
    while True:
        batches = 0
        for batch in loader:
            batches += 1
            yield batch
        if batches == 0:
            raise InputError(
                f"{name} has fewer images than one batch ({loader.batch_size}); "
                "use a smaller --batch-size or more images"
            )


def start_loader(source: Source, dataset: Any, workers: int, settings: BenchSettings) -> None:
    """A training loader of `dataset` as `inception train` builds it, warmed up: worker start-up
    and the first batches are not timed."""
    from inception_cli.training.datamodule import build_datamodule

    datamodule = build_datamodule({**source.cfg, "num_workers": workers})
    datamodule.train_set = dataset  # built once for all worker counts
    loader = endless(datamodule.train_dataloader(), f"{source.name} ({source.cfg['root']})")
    device = torch.device(settings.device)

    def on_device() -> Iterator[Any]:
        for batch in loader:
            yield datamodule.transfer_batch_to_device(batch, device, 0)

    source.batches, source.rates = on_device(), []
    source.pin_memory = datamodule.pin_memory
    time_block(source, settings, max(1, settings.warmup), record=False)


def time_block(source: Source, settings: BenchSettings, steps: int, record: bool = True) -> None:
    assert source.batches is not None
    synchronize(settings.device)
    start = time.perf_counter()
    for _ in range(steps):
        next(source.batches)
    synchronize(settings.device)
    if record:
        source.rates.append(settings.batch_size * steps / (time.perf_counter() - start))


def available_backends() -> list[str]:
    from inception_cli.data.backends import dali_installed, nvidia_gpu_visible

    dali = dali_installed() and nvidia_gpu_visible() and torch.cuda.is_available()
    return ["cpu", "dali"] if dali else ["cpu"]


def make_sources(settings: BenchSettings, folder: str, shards: str) -> list[Source]:
    sources = []
    for backend in available_backends():
        suffix = "" if backend == "cpu" else ", dali"
        for name, data, root in (("jpeg folder", "imagenet", folder), ("shards", "shards", shards)):
            cfg = data_config(data, settings, root, backend=backend)
            sources.append(Source(name + suffix, backend, cfg))
    return sources


def measure(sources: list[Source], workers: int, settings: BenchSettings) -> None:
    """Every source's timed blocks at one worker count (module docstring: the order)."""
    from inception_cli.data import build_dataset

    datasets = [build_dataset(source.cfg, "train", pixels="uint8") for source in sources]
    if workers == 0:
        for source, dataset in zip(sources, datasets, strict=True):
            start_loader(source, dataset, workers, settings)
        for _ in range(settings.repeats):
            for source in sources:
                time_block(source, settings, settings.steps)
        return
    for source, dataset in zip(sources, datasets, strict=True):
        start_loader(source, dataset, workers, settings)
        for _ in range(settings.repeats):
            time_block(source, settings, settings.steps)
        source.batches = None  # ends its worker processes


def verdict(loader_rate: float, train_rate: float | None, workers: int) -> str:
    """Whether the loader keeps up with the training step. Without workers, loading and the
    step take turns, so training runs at 1 / (1/loader + 1/train); with workers they overlap
    and the slower of the two sets the pace."""
    if train_rate is None:
        return "no training figure"
    if workers == 0:
        combined = 1.0 / (1.0 / loader_rate + 1.0 / train_rate)
    else:
        combined = min(loader_rate, train_rate)
    loss = 1.0 - combined / train_rate
    if loss < 0.005:
        return "loader keeps up"
    return f"loader bounds training by {100 * loss:.0f}%"


def prepare_roots(
    settings: BenchSettings, scratch: Path, shards: Path | None, max_side: int, console: Console
) -> tuple[str, str]:
    """The JPEG folder and the shards to read: given, or written to `scratch`."""
    from inception_cli.data.packing import PackSettings, pack

    count = settings.batch_size * (max(1, settings.warmup) + settings.steps * settings.repeats)
    folder = settings.data_root
    if folder is None:
        # Enough distinct files for every timed batch, so no image is read twice from cache.
        console.print(f"writing {count} synthetic JPEGs to a temporary folder")
        write_synthetic_jpegs(scratch / "jpegs", count)
        folder = str(scratch / "jpegs")
    if shards is None:
        console.print(f"packing {count} of them into shards, longer side at most {max_side} px")
        shards = scratch / "shards"
        pack_settings = PackSettings(max_side=max_side, limit=count, workers=os.cpu_count() or 1)
        pack(Path(folder).expanduser(), shards, pack_settings, Console(quiet=True))
    return folder, str(shards)


def bench_data(
    settings: BenchSettings,
    console: Console,
    *,
    shards: Path | None = None,
    max_side: int = DEFAULT_MAX_SIDE,
    train_rate: float | None = None,
) -> list[dict[str, Any]]:
    """Images/s of each source's training loader per worker count, and the verdict against
    `train_rate`, the network's training images/s."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="inception-bench-") as scratch:
        folder, shard_root = prepare_roots(settings, Path(scratch), shards, max_side, console)
        sources = make_sources(settings, folder, shard_root)
        for workers in settings.workers:
            measure(sources, workers, settings)
            for source in sources:
                rate = statistics.median(source.rates)
                rows.append(
                    {
                        "dataset": source.name,
                        "backend": source.backend,
                        "root": source.cfg["root"],
                        "workers": workers,
                        "images_per_s": rate,
                        "images_per_s_blocks": source.rates,
                        "pin_memory": source.pin_memory,
                        "input_size": settings.size,
                        "train_images_per_s": train_rate,
                        "verdict": verdict(rate, train_rate, workers),
                    }
                )
    return rows
