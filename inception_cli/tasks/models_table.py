"""`inception models`: parameters, GFLOPs, input sizes and published weights of every model.

Models are built on the meta device, so no memory is allocated and nothing is computed: the
parameter count comes from shapes and the FLOPs from torch's FlopCounterMode, which counts
2 FLOPs per multiply-add of convolutions and matrix products.
"""

from __future__ import annotations

from typing import Any

import torch

from inception_cli import catalog
from inception_cli.benchmarking.flops import count_flops
from inception_cli.errors import InputError
from inception_cli.models import create_model

__all__ = ["models_table", "print_models_table"]


def models_table(size: int | None = None) -> list[dict[str, Any]]:
    """One row per model of the catalog, by name (1000 classes, width 1); GFLOPs at `size` or
    each model's default input size."""
    rows = []
    for name, entry in sorted(catalog.CATALOG.items()):
        input_size = size if size is not None else entry.default_input_size
        if input_size < entry.min_input_size:
            raise InputError(
                f"--size {input_size} is below the smallest input of {name} "
                f"({entry.min_input_size}); use --size {entry.min_input_size} or more"
            )
        with torch.device("meta"):
            model = create_model(name, num_classes=1000, width=1.0)
        rows.append(
            {
                "name": name,
                "description": entry.description,
                "residual": entry.residual,
                "params": sum(p.numel() for p in model.parameters()),
                "gflops": count_flops(
                    model, torch.empty(1, 3, input_size, input_size, device="meta")
                )
                / 1e9,
                "flops_input_size": input_size,
                "default_input_size": entry.default_input_size,
                "min_input_size": entry.min_input_size,
                "pretrained_tags": list(entry.pretrained_tags),
            }
        )
    return rows


def _weights_cell(tags: list[str]) -> str:
    """'inception_v3: tf_in1k, tv_in1k' rather than the repeated full tags, to fit 80 columns."""
    if not tags:
        return "—"
    timm_name = tags[0].partition(".")[0]
    return f"{timm_name}: " + ", ".join(tag.partition(".")[2] for tag in tags)


def print_models_table(size: int | None = None) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    rows = models_table(size)
    at = f"{size}x{size}" if size is not None else "each model's default input size"
    table = Table(
        title="Models (1000 classes, width 1)",
        caption=f"GFLOPs at {at}, one image, 2 per multiply-add.\n"
        "Published weights: weights=timm:<timm model>.<tag>, e.g. timm:inception_v4.tf_in1k",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    table.add_column("name", no_wrap=True, style="bold")
    table.add_column("description", ratio=1)
    table.add_column("type", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("GFLOPs", justify="right", no_wrap=True)
    table.add_column("input", justify="right", no_wrap=True)
    table.add_column("min", justify="right", no_wrap=True)
    table.add_column("published weights", min_width=12, overflow="fold")
    for row in rows:
        table.add_row(
            row["name"],
            row["description"],
            "residual" if row["residual"] else "pure",
            f"{row['params']:,}",
            f"{row['gflops']:.2f}",
            str(row["default_input_size"]),
            str(row["min_input_size"]),
            _weights_cell(row["pretrained_tags"]),
        )
    Console().print(table)
