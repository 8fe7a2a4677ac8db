"""`inception models`: the table of every registered model."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from inception_cli.cli import app
from inception_cli.models import list_models
from inception_cli.tasks.models_table import models_table, print_models_table


def test_models_command_lists_every_model() -> None:
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    for name in list_models():
        assert name in result.output
    assert "42,679,816" in result.output  # Inception-v4's parameters
    assert "tf_in1k" in result.output


def test_models_command_rejects_size_below_minimum() -> None:
    result = CliRunner().invoke(app, ["models", "--size", "32"])
    assert result.exit_code == 2
    assert "smallest input" in result.output


def test_models_table_rows() -> None:
    rows = {row["name"]: row for row in models_table()}
    assert set(rows) == set(list_models())
    assert rows["v4"]["params"] == 42_679_816
    assert rows["v3"]["params"] == 23_834_568
    # torch counts 2 FLOPs per multiply-add; timm's counts are 12.28 and 5.73 GMACs at 299.
    assert rows["v4"]["gflops"] / 2 == pytest.approx(12.28, rel=0.01)
    assert rows["v3"]["gflops"] / 2 == pytest.approx(5.73, rel=0.01)
    assert rows["v4"]["pretrained_tags"] == ["inception_v4.tf_in1k"]
    small = {row["name"]: row for row in models_table(75)}
    assert small["v4"]["gflops"] < rows["v4"]["gflops"] / 10


def rendered_table(width: int) -> list[str]:
    from rich.console import Console

    console = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    print_models_table(console=console)
    return console.export_text().splitlines()


def test_models_table_fits_80_columns_without_fragments() -> None:
    lines = rendered_table(80)
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    assert "…" not in text, "nothing is cut short"
    for name in list_models():
        assert any(line.split()[:1] == [name] for line in lines), f"{name} not whole on a line"
    # Each description reads as one text, wrapped at words only, under the numbers.
    flowing = " ".join(text.split())
    assert "Inception-ResNet-v1 as printed in the paper (Figs 14, 10-13, 15)" in flowing
    assert "tf_in1k, tv_in1k, tf_adv_in1k, gluon_in1k" in flowing


def test_models_table_shows_descriptions_as_a_column_when_wide() -> None:
    lines = rendered_table(160)
    assert max(len(line) for line in lines) <= 160
    assert "description" in lines[2] and "inception_v3: tf_in1k" in "\n".join(lines)
