"""The commands that read what training made, or measure and list: `eval`, `compare`, `bench`,
`models`, `export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from inception_cli.cli.app import PASSTHROUGH, app, guarded


@app.command()
def models(
    size: Annotated[
        int | None,
        typer.Option(help="Input size for the GFLOPs column (default: each model's own)."),
    ] = None,
) -> None:
    """List every model: parameters, GFLOPs, input sizes and published weights."""
    from inception_cli.tasks.models_table import print_models_table

    guarded(lambda: print_models_table(size))


@app.command(name="eval", context_settings=PASSTHROUGH)
def evaluate(
    ctx: typer.Context,
    crops: Annotated[int, typer.Option(help="Crops per image: 1, 10 or 144.")] = 1,
    data: Annotated[
        str | None,
        typer.Option(help="Image folder, embedded or synthetic (default: each run's own data)."),
    ] = None,
    split: Annotated[str, typer.Option(help="Which split to evaluate: val or train.")] = "val",
    exclude_blacklist: Annotated[
        Path | None, typer.Option(help="Devkit blacklist file (default: none, every image).")
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(help="Crops per forward pass (default: 128 on a CPU, 512 on a GPU)."),
    ] = None,
    ema: Annotated[bool, typer.Option(help="Use the EMA weights of a run.")] = True,
    output: Annotated[
        Path | None,
        typer.Option(help="JSON file or folder (default: the first run's eval/ folder)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="The first N images (default: all).")] = None,
    precision: Annotated[
        str, typer.Option(help="auto (bf16 where the device has it), 32, bf16-mixed or 16-mixed.")
    ] = "auto",
    channels_last: Annotated[bool, typer.Option(help="NHWC memory format.")] = True,
    compile: Annotated[
        bool, typer.Option(help="torch.compile the networks (docs/eval.md).")
    ] = False,
    devices: Annotated[
        int, typer.Option(help="Processes sharing the images: one per GPU, or CPU cores split.")
    ] = 1,
    real_labels: Annotated[
        Path | None,
        typer.Option(help="ImageNet-ReaL real.json: ReaL errors as well (default: none)."),
    ] = None,
) -> None:
    """Evaluate runs or published weights; several form an ensemble.

    Each argument is a run directory, or `model=<name> weights=timm:<tag>` for published weights.
    With none, the most recent finished run under ./runs is used. An interrupted evaluation
    continues when the same command is run again.
    """
    from inception_cli.tasks.evaluate import run_eval

    options: dict[str, Any] = dict(
        crops=crops,
        data=data,
        split=split,
        exclude_blacklist=exclude_blacklist,
        batch_size=batch_size,
        ema=ema,
        output=output,
        limit=limit,
        precision=precision,
        channels_last=channels_last,
        compile=compile,
        devices=devices,
        real_labels=real_labels,
    )
    guarded(lambda: run_eval(list(ctx.args), **options))


@app.command()
def compare(
    run_dirs: Annotated[list[Path] | None, typer.Argument(help="Run directories (runs/*).")] = None,
    metric: Annotated[str, typer.Option(help="Which error: top1, top5 or both.")] = "both",
    x: Annotated[
        str, typer.Option(help="X axis: epoch, hours, step or images (images seen).")
    ] = "epoch",
    group_by: Annotated[
        str | None,
        typer.Option(help="model: one table row per model (default: none, one per run)."),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(help="Error (%) to report crossings of (default: the highest final error)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(help="Folder for figures, reports (default: a new compare/ beside the runs)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, md, csv or json.")] = "table",
) -> None:
    """Compare runs with the paper: Figs 21-26 over seeds, Tables 2/5, report.html."""
    from inception_cli.tasks.compare import run_compare

    guarded(
        lambda: run_compare(
            run_dirs or [],
            metric=metric,
            x=x,
            group_by=group_by,
            threshold=threshold,
            output=output,
            fmt=fmt,
        )
    )


@app.command(context_settings=PASSTHROUGH)
def bench(
    ctx: typer.Context,
    mode: Annotated[str, typer.Option(help="train, eval, data or all.")] = "train",
    batch_size: Annotated[int, typer.Option(help="Images per step.")] = 8,
    size: Annotated[
        int | None, typer.Option(help="Input size (default: the model's default input, 299).")
    ] = None,
    precision: Annotated[
        str, typer.Option(help="auto (as `inception train`), 32, bf16-mixed or 16-mixed.")
    ] = "auto",
    channels_last: Annotated[
        bool, typer.Option(help="NHWC memory format (train's default).")
    ] = True,
    compile: Annotated[bool, typer.Option(help="torch.compile the model.")] = False,
    vs: Annotated[
        str | None,
        typer.Option(help="timm, or timm-fp32 (plain float32, NCHW) (default: none: ours alone)."),
    ] = None,
    repeats: Annotated[int, typer.Option(help="Timed repeats (pairs with --vs).")] = 5,
    output: Annotated[
        Path | None,
        typer.Option(help="JSON file or folder (default: runs/bench/<model>-<mode>-<time>.json)."),
    ] = None,
    shards: Annotated[
        Path | None,
        typer.Option(help="Data mode: a pack to read (default: the JPEG folder, packed anew)."),
    ] = None,
    max_side: Annotated[
        int | None,
        typer.Option(help="Data mode: the longer side of the images packed here (default: 320)."),
    ] = None,
) -> None:
    """Measure training / evaluation / data throughput, optionally against timm."""
    from inception_cli.tasks.bench import run_bench

    options: dict[str, Any] = dict(
        mode=mode,
        batch_size=batch_size,
        size=size,
        precision=precision,
        channels_last=channels_last,
        compile=compile,
        vs=vs,
        repeats=repeats,
        output=output,
        shards=shards,
        max_side=max_side,
    )
    guarded(lambda: run_bench(list(ctx.args), **options))


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="The run directory (runs/<id>).")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="timm (safetensors + config.json for timm.create_model), onnx or torchscript.",
        ),
    ] = "onnx",
    output: Annotated[
        Path | None,
        typer.Option(help="A new folder for the files (default: <run>/export/<format>)."),
    ] = None,
    ema: Annotated[bool, typer.Option(help="Export the EMA weights, as `inception eval`.")] = True,
) -> None:
    """Export a run's network for timm, ONNX Runtime or TorchScript, checked against its logits.

    Examples:
      inception export runs/<id> --format timm
      inception export runs/<id> --format onnx --no-ema
    """
    from inception_cli.tasks.export import run_export

    guarded(lambda: run_export(run_dir, fmt=fmt, output=output, ema=ema))
