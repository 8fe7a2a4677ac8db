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

from inception_cli import runs
from inception_cli.benchmarking.data import bench_data
from inception_cli.benchmarking.networks import bench_network
from inception_cli.benchmarking.peak import matmul_peak_gflops, matmul_peaks
from inception_cli.benchmarking.report import (
    environment,
    output_path,
    print_data,
    print_networks,
    settings_record,
)
from inception_cli.benchmarking.settings import NETWORK_MODES, BenchSettings, make_settings

__all__ = ["BenchSettings", "make_settings", "matmul_peak_gflops", "output_path", "run_bench"]


def run_bench(
    overrides: list[str],
    *,
    output: Path | None,
    console: Console | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Measure, print a table per mode, write the JSON record and return it. `options` are the
    command's options (mode, batch_size, size, precision, channels_last, compile, vs, repeats),
    checked by `make_settings`."""
    settings = make_settings(overrides, **options)
    console = console or Console()
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
        rows = bench_data(settings, console)
        record["results"]["data"] = rows
        print_data(console, rows, settings)
    path = output_path(settings, output)
    runs.write_new_json(path, record)
    console.print(f"wrote {escape(str(path))}")
    return record
