"""The `inception` command itself: instant help, every command listed."""

from __future__ import annotations

from typer.testing import CliRunner

from inception_cli.cli import app

runner = CliRunner()
COMMANDS = ("train", "eval", "compare", "models", "bench", "config")


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


def test_cli_module_imports_no_heavy_package(loaded_by_import) -> None:
    heavy = ("torch", "lightning", "wandb", "matplotlib", "timm", "hydra", "torchvision")
    loaded = loaded_by_import("inception_cli.cli", heavy)
    assert loaded == [], f"`inception --help` must stay instant; imported {loaded}"


def test_each_command_has_help() -> None:
    for command in COMMANDS:
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage" in result.output
