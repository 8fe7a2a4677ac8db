"""`inception models`: parameters, GFLOPs, input sizes and published weights of every model.

Models are built on the meta device, so no memory is allocated and nothing is computed: the
parameter count comes from shapes and the FLOPs from torch's FlopCounterMode, which counts
2 FLOPs per multiply-add of convolutions and matrix products.
"""

from __future__ import annotations

from typing import Any

import torch

from inception_cli import catalog
from inception_cli.errors import InputError
from inception_cli.measure.flops import count_flops
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


WIDE = 120  # from this width on the descriptions fit in a column of the table


def _weights_cell(tags: list[str], *, with_timm_name: bool = True) -> str:
    """'inception_v3: tf_in1k, tv_in1k' rather than the repeated full tags; without the timm
    name, only the tags (the name is then listed under the table)."""
    if not tags:
        return "—"
    timm_name = tags[0].partition(".")[0]
    listed = ", ".join(tag.partition(".")[2] for tag in tags)
    return f"{timm_name}: {listed}" if with_timm_name else listed


def _numbers_table(rows: list[dict[str, Any]], size: int | None, *, wide: bool) -> Any:
    from rich import box
    from rich.table import Table

    at = f"{size}x{size}" if size is not None else "each model's default input size"
    table = Table(
        title="Models (1000 classes, width 1)",
        caption=f"GFLOPs at {at}, one image, 2 per multiply-add.\n"
        "Weights: weights=timm:<timm model>.<tag>, e.g. timm:inception_v4.tf_in1k",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    table.add_column("name", no_wrap=True, style="bold")
    if wide:
        table.add_column("description", ratio=1)
    for header in ("type", "params", "GFLOPs", "input", "min"):
        table.add_column(header, justify="left" if header == "type" else "right", no_wrap=True)
    table.add_column("published weights", min_width=12, overflow="fold")
    for row in rows:
        numbers = [
            "residual" if row["residual"] else "pure",
            f"{row['params']:,}",
            f"{row['gflops']:.2f}",
            str(row["default_input_size"]),
            str(row["min_input_size"]),
        ]
        description = [row["description"]] if wide else []
        weights = _weights_cell(row["pretrained_tags"], with_timm_name=wide)
        table.add_row(row["name"], *description, *numbers, weights)
    return table


def _descriptions(rows: list[dict[str, Any]]) -> Any:
    """Below a narrow table: each model's description and timm name, wrapped under itself."""
    from rich.table import Table

    listing = Table.grid(padding=(0, 2))
    listing.add_column(no_wrap=True, style="bold")
    listing.add_column(ratio=1)
    for row in rows:
        tags = row["pretrained_tags"]
        timm = f"; timm model {tags[0].partition('.')[0]}" if tags else ""
        listing.add_row(row["name"], row["description"] + timm)
    return listing


def print_models_table(size: int | None = None, console: Any = None) -> None:
    """The table, fitted to the terminal: descriptions in a column from WIDE columns on, else
    listed under the numbers, so that nothing is cut into fragments at 80 columns."""
    from rich.console import Console

    console = console or Console()
    rows = models_table(size)
    wide = console.width >= WIDE
    console.print(_numbers_table(rows, size, wide=wide))
    if not wide:
        console.print()
        console.print(_descriptions(rows))
