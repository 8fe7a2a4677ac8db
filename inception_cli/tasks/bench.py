"""`inception bench`: training, inference and input-pipeline throughput, optionally against timm.

Times our network (alone, or in blocks alternating with timm's), sets its GFLOP/s against a
matmul peak measured in the same process, times the training loader, prints a table per mode and
writes the JSON record; inception_cli/benchmarking holds the pieces. The network modes never
import omegaconf, hydra or Lightning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.markup import escape

from inception_cli.benchmarking.data import DEFAULT_MAX_SIDE, bench_data
from inception_cli.benchmarking.networks import bench_network
from inception_cli.benchmarking.output import claim_output, output_path, release_output
from inception_cli.benchmarking.report import (
    environment,
    print_data,
    print_networks,
    settings_record,
)
from inception_cli.benchmarking.settings import NETWORK_MODES, BenchSettings, make_settings
from inception_cli.errors import InputError
from inception_cli.measure.peak import matmul_peak_gflops, matmul_peaks
from inception_cli.rundir import layout
from inception_cli.rundir.durable import atomic_write_text

__all__ = ["BenchSettings", "make_settings", "matmul_peak_gflops", "output_path", "run_bench"]


def data_options(shards: Path | None, max_side: int | None) -> tuple[Path | None, int]:
    """--shards (a finished pack to read) and --max-side (for packing the folder here)."""
    if shards is not None and not (Path(shards) / "index.json").is_file():
        raise InputError(
            f"--shards {shards} holds no index.json; pack it with `inception data pack`"
        )
    if max_side is not None and max_side < 32:
        raise InputError(f"--max-side {max_side} is too small; use 32 or more (e.g. 320)")
    return shards, DEFAULT_MAX_SIDE if max_side is None else max_side


def run_bench(
    overrides: list[str],
    *,
    output: Path | None,
    console: Console | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Measure, print a table per mode, write the JSON record and return it. `options` are the
    command's options (mode, batch_size, size, precision, channels_last, compile, vs, repeats),
    checked by `make_settings`, and the data mode's (shards, max_side)."""
    shards, max_side = data_options(options.pop("shards", None), options.pop("max_side", None))
    settings = make_settings(overrides, **options)
    path = claim_output(settings.model, settings.mode, output)  # fails before any timing
    console = console or Console()
    try:
        record = measure(settings, console, shards, max_side)
        atomic_write_text(path, layout.dumps(record))
    finally:
        release_output(path)  # only while it is empty: no record went into it
    console.print(f"wrote {escape(str(path))}")
    return record


def measure(
    settings: BenchSettings, console: Console, shards: Path | None, max_side: int
) -> dict[str, Any]:
    """Every mode the settings ask for, each printed as it is measured; the JSON record."""
    if settings.device == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes; as the GPU trainer preset does
    env = environment(settings)
    console.print(
        f"{escape(env['device_name'])} ({settings.device}), torch {env['torch']}, "
        f"{env['torch_threads']} torch threads (OMP_NUM_THREADS={env['omp_num_threads']})"
    )
    record: dict[str, Any] = {
        "environment": env,
        "settings": settings_record(settings),
        "results": {},
    }
    modes = [m for m in (*NETWORK_MODES, "data") if settings.mode in (m, "all")]
    if any(m in NETWORK_MODES for m in modes):
        dtypes = (torch.float32, settings.compute_dtype, torch.bfloat16)
        peaks = matmul_peaks(settings.device, dtypes, settings.peak_seconds)
        record["matmul_peak_gflops"] = peaks
        console.print("matmul peak GFLOP/s: " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
        for network_mode in (m for m in modes if m in NETWORK_MODES):
            result = bench_network(settings, network_mode, peaks, console)
            record["results"][network_mode] = result
            print_networks(console, network_mode, result, settings)
    if "data" in modes:
        if "train" not in record["results"]:  # the figure the loader must keep up with
            peaks = matmul_peaks(settings.device, (settings.compute_dtype,), settings.peak_seconds)
            record["results"]["train"] = bench_network(settings, "train", peaks, console)
            print_networks(console, "train", record["results"]["train"], settings)
        train_rate = record["results"]["train"]["networks"][0]["images_per_s"]
        rows = bench_data(
            settings, console, shards=shards, max_side=max_side, train_rate=train_rate
        )
        record["results"]["data"] = rows
        record["settings"].update(shards=str(shards) if shards else None, max_side=max_side)
        print_data(console, rows, settings)
    return record
