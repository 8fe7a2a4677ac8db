"""Input-pipeline throughput: images/s of the training loader per worker count, for the embedded
dataset and for a folder of JPEGs (synthetic ones unless `data.root` is given).

Only this mode reads the data configs, so omegaconf and Lightning are imported here lazily.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from rich.console import Console
from torch.utils.data import DataLoader, Dataset

from inception_cli.benchmarking.peak import synchronize
from inception_cli.benchmarking.settings import BenchSettings


def write_synthetic_jpegs(root: Path, count: int, classes: int = 4) -> None:
    """`count` JPEGs of ImageNet's typical 375x500 in train/<class>/: smooth random content,
    so that files and decoding cost are close to those of photographs, not of noise."""
    from torchvision.io import encode_jpeg

    generator = torch.Generator().manual_seed(0)
    for index in range(count):
        folder = root / "train" / f"class_{index % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        coarse = torch.rand(1, 3, 12, 16, generator=generator) * 255
        image = F.interpolate(coarse, size=(375, 500), mode="bicubic", align_corners=False)
        image = image + torch.randn(image.shape, generator=generator) * 6
        jpeg = encode_jpeg(image[0].clamp(0, 255).to(torch.uint8), quality=90)
        (folder / f"{index:05d}.JPEG").write_bytes(jpeg.numpy().tobytes())


def data_config(name: str, settings: BenchSettings, root: str | None = None) -> dict[str, Any]:
    from omegaconf import OmegaConf

    from inception_cli.config import compose_train_config

    cfg = OmegaConf.to_container(compose_train_config([f"data={name}"]).data, resolve=True)
    assert isinstance(cfg, dict)
    cfg["batch_size"] = settings.batch_size
    if settings.size_given:
        cfg["input_size"] = settings.size
    if root is not None:
        cfg["root"] = root
        train_dir = Path(root).expanduser() / "train"
        if train_dir.is_dir():  # any number of classes: labels do not matter for speed
            cfg["num_classes"] = max(1, sum(1 for entry in train_dir.iterdir() if entry.is_dir()))
    return {str(key): value for key, value in cfg.items()}


def endless(loader: DataLoader) -> Iterator[Any]:
    while True:
        yield from loader


def bench_loader(
    dataset: Dataset, cfg: dict[str, Any], workers: int, settings: BenchSettings
) -> dict[str, Any]:
    from inception_cli.training.datamodule import build_datamodule

    datamodule = build_datamodule({**cfg, "num_workers": workers})
    datamodule.train_set = dataset  # built once for all worker counts
    loader = datamodule.train_dataloader()
    batches = endless(loader)

    def take(count: int) -> None:
        for _ in range(count):
            images, _labels = next(batches)
            images.to(settings.device, non_blocking=True)
        synchronize(settings.device)

    take(max(1, settings.warmup))  # worker start-up and the first batches are not timed
    rates = []
    for _ in range(settings.repeats):
        start = time.perf_counter()
        take(settings.steps)
        rates.append(settings.batch_size * settings.steps / (time.perf_counter() - start))
    return {
        "workers": workers,
        "images_per_s": statistics.median(rates),
        "images_per_s_blocks": rates,
        "pin_memory": datamodule.pin_memory,
        "input_size": int(cfg["input_size"]),
    }


def bench_data(settings: BenchSettings, console: Console) -> list[dict[str, Any]]:
    """Images/s of the embedded dataset's loader and of a JPEG folder's, per worker count."""
    from inception_cli.data import build_dataset

    results = []
    with tempfile.TemporaryDirectory(prefix="inception-bench-") as scratch:
        root = settings.data_root
        if root is None:
            # Enough distinct files for every timed batch, so no image is read twice from cache.
            count = settings.batch_size * (
                max(1, settings.warmup) + settings.steps * settings.repeats
            )
            console.print(f"writing {count} synthetic JPEGs to a temporary folder")
            write_synthetic_jpegs(Path(scratch), count)
            root = scratch
        sources = [
            ("embedded", data_config("embedded", settings)),
            (
                "jpeg folder" if settings.data_root else "synthetic jpegs",
                data_config("imagenet", settings, root),
            ),
        ]
        for source, cfg in sources:
            dataset = build_dataset(cfg, "train")
            for workers in settings.workers:
                row = bench_loader(dataset, cfg, workers, settings)
                results.append({"dataset": source, **row})
    return results
