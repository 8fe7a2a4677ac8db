"""The run-directory layout shared by train, eval and compare."""

from __future__ import annotations

import json
from pathlib import Path

from inception_cli.rundir import layout


def make_run(path: Path, status: str | None = None, updated_at: str = "") -> Path:
    path.mkdir(parents=True)
    (path / layout.METRICS).write_text("epoch,step\n0,0\n")
    if status:
        (path / layout.SUMMARY).write_text(json.dumps({"status": status, "updated_at": updated_at}))
    return path


def test_a_run_has_metrics_or_a_summary(tmp_path: Path) -> None:
    config_only = tmp_path / "config-only"
    layout.config_path(config_only).parent.mkdir(parents=True)
    layout.config_path(config_only).write_text("seed: 0\n")
    assert layout.has_config(config_only)
    assert not layout.is_run_dir(config_only), "nothing to compare, resume or evaluate yet"
    assert layout.is_run_dir(make_run(tmp_path / "a"))


def test_a_sweep_folder_yields_its_runs(tmp_path: Path) -> None:
    sweep = tmp_path / "2026-01-01_00-00-00_sweep"
    make_run(sweep / "0_v3")
    make_run(sweep / "1_irv2")
    (sweep / "notes").mkdir()
    assert [p.name for p in layout.iter_runs(sweep)] == ["0_v3", "1_irv2"]
    assert list(layout.iter_runs(sweep / "0_v3")) == [sweep / "0_v3"]


def test_latest_finished_run_skips_running_and_failed(tmp_path: Path) -> None:
    make_run(tmp_path / "old", "finished", "2026-01-01T00:00:00+00:00")
    newest = make_run(tmp_path / "sweep" / "0_v4", "finished", "2026-01-03T00:00:00+00:00")
    make_run(tmp_path / "running", "running", "2026-01-04T00:00:00+00:00")
    make_run(tmp_path / "failed", "failed", "2026-01-05T00:00:00+00:00")
    assert layout.latest_finished_run(tmp_path) == newest
    assert layout.latest_finished_run(tmp_path / "missing") is None


def test_write_csv_replaces_in_one_step(tmp_path: Path) -> None:
    path = tmp_path / layout.METRICS
    layout.write_csv(path, ["epoch", "step"], [{"epoch": "0", "step": "1"}])
    assert layout.read_metrics(tmp_path) == [{"epoch": "0", "step": "1"}]
    assert [p.name for p in tmp_path.iterdir()] == [layout.METRICS], "no temporary file left"
