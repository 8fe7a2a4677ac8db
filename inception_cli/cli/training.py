"""The commands that prepare and run training: `train`, `config show`, `data pack`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from inception_cli.cli.app import PASSTHROUGH, Overrides, app, config_app, data_app, guarded


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
    task = [sys.executable, "-m", "inception_cli.tasks.train", *argv]
    guarded(lambda: os.execv(sys.executable, task))


@config_app.command("show", context_settings=PASSTHROUGH)
def config_show(
    ctx: typer.Context,
    overrides: Overrides = None,
    resolve: Annotated[bool, typer.Option(help="Resolve ${...} interpolations.")] = True,
) -> None:
    """Print the composed training config for the given overrides, without running anything."""
    from inception_cli.config.compose import compose_train_config, print_config

    cfg = guarded(lambda: compose_train_config([*(overrides or []), *ctx.args]))
    guarded(lambda: print_config(cfg, resolve=resolve))


@data_app.command("pack")
def data_pack(
    source: Annotated[Path, typer.Argument(help="Image folder: train/<class>/*, val/.")],
    destination: Annotated[Path, typer.Argument(help="Folder for the shards and index.json.")],
    max_side: Annotated[
        int | None,
        typer.Option(help="Longer side to shrink images to, e.g. 320 (default: keep the size)."),
    ] = None,
    shard_size: Annotated[str, typer.Option(help="Bytes per shard: 256MB, 1GB, ...")] = "256MB",
    workers: Annotated[
        int | None, typer.Option(help="Encoding processes (default: one per core).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(help="Pack the first N images per split (default: all).")
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
