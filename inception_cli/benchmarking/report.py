"""What `inception bench` reports: the environment, the settings and a rich table per mode
(benchmarking/output.py: where the JSON record goes)."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from typing import Any

import torch
from rich import box
from rich.console import Console
from rich.table import Table

from inception_cli.benchmarking.settings import BenchSettings
from inception_cli.hardware import cpu_model


def environment(settings: BenchSettings) -> dict[str, Any]:
    cuda = settings.device == "cuda"
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": settings.device,
        "device_name": torch.cuda.get_device_name() if cuda else cpu_model(),
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cudnn_benchmark": torch.backends.cudnn.benchmark if cuda else None,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def settings_record(settings: BenchSettings) -> dict[str, Any]:
    return {
        "model": settings.model,
        "width": settings.width,
        "num_classes": settings.num_classes,
        "mode": settings.mode,
        "batch_size": settings.batch_size,
        "size": settings.size,
        "precision": settings.precision,
        "channels_last": settings.channels_last,
        "compile": settings.compile,
        "vs": settings.vs,
        "repeats": settings.repeats,
        "steps": settings.steps,
        "warmup": settings.warmup,
        "workers": list(settings.workers),
        "data_root": settings.data_root,
        "peak_seconds": settings.peak_seconds,
    }


def print_networks(
    console: Console, mode: str, result: dict[str, Any], settings: BenchSettings
) -> None:
    memory = "peak GPU memory allocated" if settings.device == "cuda" else "peak process RSS"
    dtype = str(settings.compute_dtype).removeprefix("torch.")
    table = Table(
        title=f"{mode}: {settings.model} width {settings.width:g}, {settings.size} px, "
        f"batch {settings.batch_size}, precision {settings.precision}"
        + (", channels_last" if settings.channels_last else ""),
        caption=f"GFLOP: one {'training step' if mode == 'train' else 'forward pass'}; "
        f"%peak: of the {dtype} matmul peak; MiB: {memory}"
        + ("; ours: BatchNorm folded into the convolutions" if mode == "eval" else ""),
        box=box.SIMPLE_HEAD,
    )
    table.add_column("network", no_wrap=True)
    for column in ("img/s", "ms/step", "GFLOP", "GFLOP/s", "%peak", "MiB", "compiled"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in result["networks"]:
        table.add_row(
            row["implementation"],
            f"{row['images_per_s']:.1f}",
            f"{row['step_time_ms']:.1f}",
            f"{row['gflop_per_step']:.2f}",
            f"{row['gflops_per_s']:.1f}",
            f"{100 * row['share_of_peak']:.1f}",
            f"{row['peak_memory_mb']:.0f}",
            compiled_cell(row),
        )
    console.print(table)
    if "vs" in result:
        ratios = ", ".join(f"{ratio:.3f}" for ratio in result["vs"]["ratios"])
        median = result["vs"]["median_ratio"]
        console.print(f"ours/timm images/s per pair: {ratios}; median [bold]{median:.3f}[/]")


def compiled_cell(row: dict[str, Any]) -> str:
    """yes, with the seconds of the first, compiling step; failed; or no."""
    if row["compiled"]:
        seconds = row.get("compile_s")
        return f"yes, {seconds:.0f} s" if seconds is not None else "yes"
    return "failed" if row["compile_error"] else "no"


def data_caption(rows: list[dict[str, Any]], settings: BenchSettings) -> str:
    """What the data table's figures mean, and when they overstate what training would get."""
    train = next((row["train_images_per_s"] for row in rows if row["train_images_per_s"]), None)
    lines = [
        "loader: read, decode, augment (uint8), copy to the device"
        + (f"; training step alone: {train:.1f} img/s" if train else "")
    ]
    cores = os.cpu_count() or 1
    too_many = sorted({row["workers"] for row in rows if row["workers"] > cores})
    if too_many:
        lines.append(
            f"workers={','.join(map(str, too_many))} is more than the {cores} cores: those "
            "figures are inflated (the workers share the cores, with training too)"
        )
    if settings.device == "cpu" and any(row["workers"] > 0 for row in rows):
        lines.append("on a CPU the training step needs the same cores as the workers")
    return "\n".join(lines)


def print_data(console: Console, rows: list[dict[str, Any]], settings: BenchSettings) -> None:
    table = Table(
        title=f"data: training loader, batch {settings.batch_size}, model {settings.model} "
        f"precision {settings.precision}",
        caption=data_caption(rows, settings),
        box=box.SIMPLE_HEAD,
    )
    columns = ("dataset", "input px", "workers", "pinned", "images/s", "train img/s", "verdict")
    for column in columns:
        table.add_column(column, justify="left" if column in ("dataset", "verdict") else "right")
    for row in rows:
        train = row["train_images_per_s"]
        table.add_row(
            row["dataset"],
            str(row["input_size"]),
            str(row["workers"]),
            "yes" if row["pin_memory"] else "no",
            f"{row['images_per_s']:.1f}",
            f"{train:.1f}" if train else "-",
            row["verdict"],
        )
    console.print(table)
    by_source = {row["dataset"]: row["images_per_s"] for row in rows if row["workers"] == 0}
    if "jpeg folder" in by_source and "shards" in by_source:
        ratio = by_source["shards"] / by_source["jpeg folder"]
        console.print(f"shards / jpeg folder, no workers: [bold]{ratio:.2f}x[/]")
