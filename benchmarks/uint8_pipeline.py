"""The uint8 pipeline against the float one on the CPU: images/s of the training loader when
each image is normalised to float32 in the loader (the former pipeline) and when the loader
carries uint8 and the batch is normalised after the transfer (here the device is the CPU, so
that work is counted too). Blocks alternate, float, uint8, float, ...; medians.

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/uint8_pipeline.py [repeats]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from inception_cli.benchmarking.data import write_synthetic_jpegs
from inception_cli.data import build_dataset
from inception_cli.training.datamodule import build_datamodule
from inception_cli.training.sampling import EpochSampler, KeyedDataset

BATCH, STEPS = 32, 6


def embedded() -> dict[str, Any]:
    return dict(
        name="embedded",
        num_classes=10,
        in_chans=1,
        input_size=75,
        mean=[0.5],
        std=[0.5],
        crop_fraction=1.0,
        interpolation="bilinear",
        augment=True,
    )


def folder(root: str) -> dict[str, Any]:
    return dict(
        name="imagenet",
        root=root,
        num_classes=4,
        in_chans=3,
        input_size=299,
        mean=[0.5] * 3,
        std=[0.5] * 3,
        crop_fraction=0.875,
        interpolation="bicubic",
        augment=True,
    )


def float_batches(cfg: dict[str, Any]) -> Any:
    dataset = build_dataset(cfg, "train")  # normalised per image, on the CPU, in the loader
    sampler = EpochSampler(len(dataset), seed=0, shuffle=True, batch_size=BATCH, drop_last=True)  # type: ignore[arg-type]
    loader = DataLoader(KeyedDataset(dataset, 0), batch_size=BATCH, sampler=sampler)
    while True:
        yield from loader


def uint8_batches(cfg: dict[str, Any]) -> Any:
    datamodule = build_datamodule({**cfg, "batch_size": BATCH, "num_workers": 0})
    datamodule.train_set = build_dataset(cfg, "train", pixels="uint8")
    while True:
        for batch in datamodule.train_dataloader():
            yield datamodule.on_after_batch_transfer(batch, 0)


def compare(name: str, cfg: dict[str, Any], repeats: int) -> None:
    pipelines = {"float": float_batches(cfg), "uint8": uint8_batches(cfg)}
    rates: dict[str, list[float]] = {key: [] for key in pipelines}
    for batches in pipelines.values():
        next(batches)
    for _ in range(repeats):
        for key, batches in pipelines.items():
            start = time.perf_counter()
            for _ in range(STEPS):
                next(batches)
            rates[key].append(BATCH * STEPS / (time.perf_counter() - start))
    ratios = [u / f for f, u in zip(rates["float"], rates["uint8"], strict=True)]
    print(
        f"{name}: float {statistics.median(rates['float']):.0f} img/s, uint8 + normalise after "
        f"{statistics.median(rates['uint8']):.0f} img/s; uint8/float per pair "
        f"{', '.join(f'{r:.2f}' for r in ratios)}, median {statistics.median(ratios):.2f}"
    )


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    torch.set_num_threads(1)
    compare("embedded, 75 px", embedded(), repeats)
    with tempfile.TemporaryDirectory() as scratch:
        write_synthetic_jpegs(Path(scratch), BATCH * (1 + STEPS * repeats))
        compare("jpeg folder, 299 px", folder(scratch), repeats)


if __name__ == "__main__":
    main()
