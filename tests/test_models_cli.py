"""`inception models`: the table of every registered model."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from inception_cli.cli import app
from inception_cli.models import list_models
from inception_cli.tasks.models_table import models_table


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
