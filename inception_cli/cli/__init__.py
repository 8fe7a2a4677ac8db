"""The `inception` command: parsing and dispatch only.

Heavy packages (torch, Lightning, wandb, matplotlib) are imported inside the command that needs
them, so `inception --help` stays instant. `app.py` holds the Typer app and what the commands
share; `training.py` and `results.py` register the commands on it.
"""

from __future__ import annotations

# Commands are listed in --help in the order they are registered: training's first.
from inception_cli.cli import training

# isort: split
from inception_cli.cli import results
from inception_cli.cli.app import app

__all__ = ["app", "main", "results", "training"]


def main() -> None:
    # The name fixes the completion variable (_INCEPTION_COMPLETE) under `python -m` too.
    app(prog_name="inception")


if __name__ == "__main__":
    main()
