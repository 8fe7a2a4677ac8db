"""The `inception` Typer app and what every command shares: one line for every failure
(`guarded`), and Hydra overrides as arguments, completed by TAB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import click
import typer

from inception_cli.errors import report_failure

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


def guarded(work: Callable[[], T]) -> T:
    """Every failure: one line on stderr and an exit status (inception_cli/errors.py)."""
    try:
        return work()
    except (typer.Exit, click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
        raise  # the command's own exit
    except Exception as err:  # each failure gets its one line
        raise typer.Exit(report_failure(err)) from None


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
