"""The `inception` command: parsing and dispatch only.

Heavy packages (torch, Lightning, wandb, matplotlib) are imported inside the command that needs
them, so `inception --help` stays instant.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from inception_cli.errors import InputError

app = typer.Typer(
    name="inception",
    help="Train, evaluate and compare Inception-v3/v4 and Inception-ResNet-v1/v2.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
)
config_app = typer.Typer(help="Inspect the composed configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
data_app = typer.Typer(
    help="Prepare data sets: pack image folders into shards.", no_args_is_help=True
)
app.add_typer(data_app, name="data")

PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}

T = TypeVar("T")


def fail(message: str) -> None:
    """Print one line to stderr and exit with status 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def guarded(work: Callable[[], T]) -> T:
    try:
        return work()
    except InputError as err:
        fail(str(err))
        raise  # unreachable: fail() exits


def complete_override(ctx: typer.Context, incomplete: str) -> list[str]:
    """TAB on an override: group options (`model=<TAB>`), launchers, sweepers and keys."""
    from inception_cli.config.completion import complete_override as complete

    return complete(list(ctx.params.get("overrides") or ()), incomplete)


Overrides = Annotated[
    list[str] | None,
    typer.Argument(
        help="Hydra overrides: key=value, +key=value, ~key.",
        metavar="OVERRIDES",
        autocompletion=complete_override,
        show_default=False,
    ),
]


@app.command(context_settings=PASSTHROUGH)
def train(ctx: typer.Context, overrides: Overrides = None) -> None:
    """Train a network. Arguments are Hydra overrides: `model=irv2 trainer.devices=8`, `-m` sweeps.

    Examples:
      inception train
      inception train model=v4 trainer.max_epochs=10
      inception train -m model=v3,irv1,v4,irv2
      inception train resume=runs/<id>
    """
    from inception_cli.tasks.launch import prepare_train_argv

    argv = guarded(lambda: prepare_train_argv([*(overrides or []), *ctx.args]))
    sys.stdout.flush()
    # Hydra owns argv and the process: replace this one with the Hydra task module.
    os.execv(sys.executable, [sys.executable, "-m", "inception_cli.tasks.train", *argv])


@config_app.command("show", context_settings=PASSTHROUGH)
def config_show(
    ctx: typer.Context,
    overrides: Overrides = None,
    resolve: Annotated[bool, typer.Option(help="Resolve ${...} interpolations.")] = True,
) -> None:
    """Print the composed training config for the given overrides, without running anything."""
    from inception_cli.config.compose import compose_train_config, print_config

    cfg = guarded(lambda: compose_train_config([*(overrides or []), *ctx.args]))
    print_config(cfg, resolve=resolve)


@data_app.command("pack")
def data_pack(
    source: Annotated[Path, typer.Argument(help="Image folder: train/<class>/*, val/.")],
    destination: Annotated[Path, typer.Argument(help="Folder for the shards and index.json.")],
    max_side: Annotated[
        int | None,
        typer.Option(help="Shrink images whose longer side is over this many px to it, e.g. 320."),
    ] = None,
    shard_size: Annotated[str, typer.Option(help="Bytes per shard: 256MB, 1GB, ...")] = "256MB",
    workers: Annotated[
        int | None, typer.Option(help="Encoding processes (default: one per core).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="Pack the first N images of each split.")
    ] = None,
) -> None:
    """Pack an image folder into tar shards with an index; a killed pack resumes when run again.

    Train from them with `inception train data=shards data.root=DST` (docs/data.md).
    """
    from inception_cli.tasks.data_pack import run_pack

    options: dict[str, Any] = dict(
        max_side=max_side, shard_size=shard_size, workers=workers, limit=limit
    )
    guarded(lambda: run_pack(source, destination, **options))


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
        str | None, typer.Option(help="Image folder (ImageNet layout) or data preset name.")
    ] = None,
    split: Annotated[str, typer.Option(help="Which split of the data to evaluate.")] = "val",
    exclude_blacklist: Annotated[
        Path | None, typer.Option(help="Devkit blacklist file (1-based validation indices).")
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(help="Network inputs (crops) per forward pass [default: 128 CPU, 512 GPU]."),
    ] = None,
    ema: Annotated[bool, typer.Option(help="Use the EMA weights of a run.")] = True,
    output: Annotated[Path | None, typer.Option(help="Where to write the JSON result.")] = None,
    limit: Annotated[int | None, typer.Option(help="Evaluate only the first N images.")] = None,
    precision: Annotated[
        str,
        typer.Option(
            help="auto (bf16 where native, as `inception train`: about 2x on a CPU with AMX; "
            "docs/eval.md has its agreement with float32), 32, bf16-mixed, 16-mixed."
        ),
    ] = "auto",
    channels_last: Annotated[bool, typer.Option(help="NHWC memory format.")] = True,
    devices: Annotated[
        int, typer.Option(help="Processes sharing the images: one per GPU, or CPU cores split.")
    ] = 1,
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
        devices=devices,
    )
    guarded(lambda: run_eval(list(ctx.args), **options))


@app.command()
def compare(
    run_dirs: Annotated[list[Path] | None, typer.Argument(help="Run directories (runs/*).")] = None,
    metric: Annotated[str, typer.Option(help="top1, top5 or both.")] = "both",
    x: Annotated[
        str, typer.Option(help="X axis: epoch, hours, step or images (images seen).")
    ] = "epoch",
    group_by: Annotated[
        str | None, typer.Option(help="model: one table row per model instead of per run.")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Error (%) whose first crossing is reported.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the figures and report.html [default: a new compare/ beside the runs]."
        ),
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
    size: Annotated[int | None, typer.Option(help="Input size (default: the model's).")] = None,
    precision: Annotated[
        str, typer.Option(help="auto (as `inception train`), 32, bf16-mixed or 16-mixed.")
    ] = "auto",
    channels_last: Annotated[
        bool, typer.Option(help="NHWC memory format (train's default).")
    ] = True,
    compile: Annotated[bool, typer.Option(help="torch.compile the model.")] = False,
    vs: Annotated[
        str | None,
        typer.Option(help="timm (same settings) or timm-fp32 (timm in plain float32, NCHW)."),
    ] = None,
    repeats: Annotated[int, typer.Option(help="Timed repeats (pairs with --vs).")] = 5,
    output: Annotated[
        Path | None,
        typer.Option(help="The JSON figures' file, or a folder for a new one (never replaced)."),
    ] = None,
    shards: Annotated[
        Path | None,
        typer.Option(help="Data mode: a pack to read [default: the JPEG folder, packed here]."),
    ] = None,
    max_side: Annotated[
        int | None,
        typer.Option(help="Data mode: the longer side of the images packed here [320]."),
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


def main() -> None:
    # The name fixes the completion variable (_INCEPTION_COMPLETE) under `python -m` too.
    app(prog_name="inception")


if __name__ == "__main__":
    main()
