"""The `inception` command itself: instant help, every command listed."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from inception_cli.cli import app

runner = CliRunner()
COMMANDS = ("train", "eval", "compare", "models", "bench", "config")


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output


def test_cli_module_imports_no_heavy_package() -> None:
    code = (
        "import sys, inception_cli.cli\n"
        "heavy = ('torch', 'lightning', 'wandb', 'matplotlib', 'timm', 'hydra', 'torchvision')\n"
        "print(sorted(name for name in heavy if name in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", (
        f"`inception --help` must stay instant; imported {out.stdout}"
    )


def test_each_command_has_help() -> None:
    for command in COMMANDS:
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, command
        assert "Usage" in result.output
