"""`inception compare` on hand-made run directories with known curves."""

from __future__ import annotations

import csv
import glob
import json
import math
import os
import re
import shlex
import struct
import time
from pathlib import Path

import pytest
import yaml
from support.user import assert_one_line_error, inception
from typer.testing import CliRunner

from inception_cli import catalog
from inception_cli.cli import app
from inception_cli.errors import InputError
from inception_cli.rundir import layout
from inception_cli.tasks.compare import run_compare

COLUMNS = [
    "epoch",
    "step",
    "lr",
    "train/loss",
    "val/loss",
    "val/top1_error",
    "val/top5_error",
    "time/elapsed_s",
]
STEPS_PER_EPOCH = 10
SECONDS_PER_EPOCH = 360.0  # 0.1 h


def write_run(
    path: Path,
    model: str,
    top1: list[float],
    top5: list[float] | None,
    *,
    status: str = "finished",
    params: int = 1_000_000,
    max_epochs: int = 4,
    with_model_in_summary: bool = True,
    config: dict | None = None,
    dead: list[float] | None = None,
) -> Path:
    """A run directory as `inception train` leaves it: train rows, then one val row per epoch;
    with `config`, its saved config (`model_config`), with `dead`, train/dead_fraction of the
    train row of each epoch."""
    path.mkdir(parents=True)
    columns = COLUMNS if top5 is not None else [c for c in COLUMNS if c != "val/top5_error"]
    columns = columns + (["train/dead_fraction"] if dead is not None else [])
    with (path / layout.METRICS).open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        for epoch, error in enumerate(top1):
            step = (epoch + 1) * STEPS_PER_EPOCH - 1
            elapsed = (epoch + 1) * SECONDS_PER_EPOCH
            train_row = {"epoch": epoch, "step": step, "lr": 0.045, "train/loss": 2.0}
            if dead is not None:
                train_row["train/dead_fraction"] = dead[epoch]
            writer.writerow(train_row)
            row = {"epoch": epoch, "step": step, "val/loss": 1.5, "val/top1_error": error}
            row["time/elapsed_s"] = elapsed
            if top5 is not None:
                row["val/top5_error"] = top5[epoch]
            writer.writerow(row)
    summary = {
        "id": path.name,
        "params": params,
        "status": status,
        "epochs": len(top1),
        "max_epochs": max_epochs,
        "best_val_top1_error": min(top1),
        "best_val_top5_error": min(top5) if top5 else None,
        "final_val_top1_error": top1[-1],
        "final_val_top5_error": top5[-1] if top5 else None,
        "wall_time_s": len(top1) * SECONDS_PER_EPOCH,
    }
    if with_model_in_summary:
        summary["model"] = model
    (path / layout.SUMMARY).write_text(json.dumps(summary))
    if config is not None:
        layout.config_path(path).parent.mkdir()
        layout.config_path(path).write_text(yaml.safe_dump(config))
    return path


def model_config(model: str, seed: int = 0, num_classes: int = 10, **model_keys) -> dict:
    """The parts of a saved config that compare reads: seed, model, data, batch and devices."""
    return {
        "seed": seed,
        "paths": {"runs_dir": f"runs-{seed}"},  # bookkeeping: differs, still one group
        "model": {"name": model, "width": 0.25, **model_keys},
        "data": {"name": "embedded", "num_classes": num_classes, "batch_size": 64},
        "trainer": {"devices": 2, "num_nodes": 1, "accumulate_grad_batches": 1, "max_epochs": 4},
    }


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """Four models, two seeds of v3, a sweep folder, a running, a failed and a top-5-less run."""
    root = tmp_path / "runs"
    write_run(
        root / "2026-01-01_00-00-00_v3", "v3", [60, 45, 35, 28], [30, 20, 12, 9], params=23_834_568
    )
    write_run(
        root / "2026-01-01_00-00-01_v3", "v3", [62, 47, 33, 29], [32, 21, 13, 10], params=23_834_568
    )
    write_run(root / "2026-01-01_00-00-02_irv1", "irv1", [50, 36, 29, 27], [25, 15, 10, 8.5])
    write_run(root / "sweep" / "0_v4", "v4", [58, 42, 33, 26], [28, 18, 11, 7.5], params=42_679_816)
    write_run(
        root / "sweep" / "1_irv2", "irv2", [48, 28.5, 26, 24.5], [24, 9.5, 8, 7], params=55_843_464
    )
    write_run(
        root / "2026-01-01_00-00-03_irv2_paper", "irv2_paper", [47, 31], [23, 12], status="running"
    )
    write_run(root / "2026-01-01_00-00-04_v4", "v4", [59], [29], status="failed")
    write_run(root / "2026-01-01_00-00-05_bn", "bn_inception", [55, 40, 27], None, max_epochs=3)
    (root / "notes").mkdir()
    (root / "notes" / "README.txt").write_text("not a run")
    return root


def all_dirs(root: Path) -> list[Path]:
    return sorted(root.iterdir())


def by_id(result, run_id: str):
    return next(run for run in result.runs if run.run_id == run_id)


PAPER_STEMS = [
    "fig21_top1_v3_vs_irv1",
    "fig22_top5_v3_vs_irv1",
    "fig23_top1_v4_vs_irv2",
    "fig24_top5_v4_vs_irv2",
    "fig25_top5_all",
    "fig26_top1_all",
]

PAPER_COLOURS = {
    "v3": "#1f77b4",
    "irv1": "#17becf",
    "v4": "#d62728",
    "irv2": "#ff7f0e",
    "irv2_paper": "#9467bd",
}


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_table_values_and_threshold_epochs(runs: Path, tmp_path: Path, capsys) -> None:
    result = run_compare(all_dirs(runs), output=tmp_path / "figs")
    # The paper's order (each pure network, then its residual pair), unknown models last; runs of
    # one model by run id.
    assert [run.run_id for run in result.runs] == [
        "2026-01-01_00-00-00_v3",
        "2026-01-01_00-00-01_v3",
        "2026-01-01_00-00-02_irv1",
        "0_v4",
        "2026-01-01_00-00-04_v4",
        "1_irv2",
        "2026-01-01_00-00-03_irv2_paper",
        "2026-01-01_00-00-05_bn",
    ]
    assert any("notes" in warning for warning in result.warnings)
    assert "notes" in capsys.readouterr().err

    irv2 = by_id(result, "1_irv2")
    assert irv2.residual is True and irv2.epochs == 4
    assert irv2.best == {"top1": 24.5, "top5": 7.0}
    assert irv2.final == {"top1": 24.5, "top5": 7.0}
    assert [point.epoch for point in irv2.curve] == [1, 2, 3, 4]
    assert irv2.curve[1].hours == pytest.approx(0.2)
    assert by_id(result, "0_v4").residual is False

    # Highest final error among finished runs: v3 seed 1 ends at 29.0 top-1 and 10.0 top-5.
    assert result.thresholds == {"top1": 29.0, "top5": 10.0}
    reached = {run.run_id: run.reached["top1"] for run in result.runs}
    assert reached["1_irv2"].epoch == 2
    assert reached["2026-01-01_00-00-02_irv1"].epoch == 3
    assert reached["0_v4"].epoch == 4
    assert reached["2026-01-01_00-00-01_v3"].epoch == 4
    assert reached["2026-01-01_00-00-03_irv2_paper"] is None
    assert reached["2026-01-01_00-00-04_v4"] is None
    assert irv2.reached["top1"].hours == pytest.approx(0.2)
    assert irv2.reached["top5"].epoch == 2

    partial = by_id(result, "2026-01-01_00-00-03_irv2_paper")
    assert partial.status == "running" and partial.final["top1"] == 31
    failed = by_id(result, "2026-01-01_00-00-04_v4")
    assert failed.status == "failed" and failed.epochs == 1
    no_top5 = by_id(result, "2026-01-01_00-00-05_bn")
    assert no_top5.best["top5"] is None and no_top5.residual is None

    row = next(row for row in result.rows if row["run"] == "1_irv2")
    assert row["params"] == 55_843_464 and row["top1_reached_epoch"] == 2


def test_rich_table_and_statement(runs: Path, tmp_path: Path, capsys) -> None:
    result = run_compare(all_dirs(runs), metric="top1", output=tmp_path / "figs")
    out = capsys.readouterr().out
    assert "55.8M" in out and "23.8M" in out
    assert "running" in out and "failed" in out and "—" in out
    statement = " ".join(result.statement)
    # Each sentence speaks of groups of seeds, says over how many, and whether the gap is
    # larger than the spread of the seeds.
    assert (
        "Inception-ResNet-v2 reached 29.0% top-1 error first (epoch 2, 1 seed), "
        "1 epoch before Inception-ResNet-v1 (epoch 3, 1 seed): seed noise unknown."
    ) in statement
    assert (
        "Inception-ResNet-v1 converged faster than Inception-v3 (similar cost): "
        "29.0% top-1 error reached 1 epoch earlier (epoch 3 vs 4; 1 seed of "
        "Inception-ResNet-v1, 2 of Inception-v3): faster on every seed."
    ) in statement
    assert "Inception-ResNet-v2 converged faster than Inception-v4 (similar cost)" in statement
    assert "2 epochs earlier (epoch 2 vs 4; 1 seed each): seed noise unknown" in statement
    assert "Inception-ResNet-v2 (paper) has not yet (1 seed, still running)" in statement
    # The failed v4 seed is left out of its group's numbers: its finished seed speaks for it.
    assert "[failed]" not in statement
    assert (
        "Lowest final top-1 error: Inception-ResNet-v2 (24.5%, 1 seed), 1.5 points below "
        "Inception-v4 (26.0%, 1 seed): seed noise unknown."
    ) in statement
    assert statement in " ".join(out.split())


def test_given_threshold_nobody_reaches(runs: Path, tmp_path: Path) -> None:
    result = run_compare(
        all_dirs(runs), metric="top5", threshold=1.0, output=tmp_path / "figs", fmt="md"
    )
    assert result.thresholds == {"top5": 1.0}
    assert result.threshold_rules["top5"] == "given"
    assert result.statement == [
        "No run reached 1.0% top-5 error.",
        "Neither Inception-ResNet-v1 nor Inception-v3 reached 1.0% top-5 error"
        " (1 seed of Inception-ResNet-v1, 2 of Inception-v3).",
        "Neither Inception-ResNet-v2 nor Inception-v4 reached 1.0% top-5 error (1 seed each).",
        "Neither Inception-ResNet-v2 (paper) nor Inception-v4 reached 1.0% top-5 error"
        " (1 seed each).",
        "Lowest final top-5 error: Inception-ResNet-v2 (7.0%, 1 seed), 0.5 points below"
        " Inception-v4 (7.5%, 1 seed): seed noise unknown.",
    ]
    assert all(run.reached["top5"] is None for run in result.runs)


def test_group_by_model(runs: Path, tmp_path: Path) -> None:
    result = run_compare(
        all_dirs(runs), metric="top1", x="hours", group_by="model", output=tmp_path / "figs"
    )
    groups = {group.model: group for group in result.groups}
    v3 = groups["v3"]
    assert len(v3.runs) == 2
    assert v3.best["top1"].mean == pytest.approx(28.5)
    assert v3.best["top1"].std == pytest.approx(math.sqrt(0.5))
    assert v3.final["top5"].mean == pytest.approx(9.5)
    assert v3.reached_epoch["top1"].mean == 4
    # The failed v4 run is listed but left out of the statistics: one v4 run finished.
    v4 = groups["v4"]
    assert len(v4.runs) == 2 and len(v4.aggregated) == 1
    assert v4.status == "1 finished, 1 failed"
    assert v4.final["top1"].mean == 26 and v4.final["top1"].n == 1
    row = next(row for row in result.rows if row["model"] == "v3")
    assert row["runs"] == 2 and row["best_top1_error_mean"] == pytest.approx(28.5)

    drawn = result.drawn["top1"]
    v3_line = next(series for series in drawn.series if series.model == "v3")
    assert v3_line.y == pytest.approx([61, 46, 34, 28.5])
    assert v3_line.band_low == [60, 45, 33, 28] and v3_line.band_high == [62, 47, 35, 29]
    assert v3_line.x == pytest.approx([0.1, 0.2, 0.3, 0.4])  # hours
    assert "Inception-v3 (mean of 2 runs)" in drawn.legend


def test_figures(runs: Path, tmp_path: Path) -> None:
    output = tmp_path / "figs"
    output.mkdir()
    (output / "notes.txt").write_text("mine")
    result = run_compare(all_dirs(runs), output=output)
    names = sorted(path.name for path in result.figures)
    stems = ["convergence_top1", "convergence_top5", *PAPER_STEMS]
    assert names == sorted(f"{stem}.{ext}" for stem in stems for ext in ("png", "svg"))
    for path in result.figures:
        assert path.stat().st_size > 1000
    assert png_size(output / "convergence_top1.png") == (1200, 750)
    assert (output / "convergence_top5.svg").read_text().lstrip().startswith("<?xml")
    assert (output / "notes.txt").read_text() == "mine"

    top1 = result.drawn["top1"]
    assert top1.title == "Validation top-1 error (Fig 26 style)"
    assert result.drawn["top5"].title == "Validation top-5 error (Fig 25 style)"
    for name in ("Inception-ResNet-v1", "Inception-ResNet-v2", "bn_inception"):
        assert name in top1.legend
    # Two v3 runs share a model: the legend names each run.
    assert "Inception-v3 (2026-01-01_00-00-00_v3)" in top1.legend
    assert "Inception-ResNet-v2 (paper) [running]" in top1.legend
    assert {series.model for series in top1.series} == {
        "v3",
        "irv1",
        "v4",
        "irv2",
        "irv2_paper",
        "bn_inception",
    }
    # The run without a top-5 column has no top-5 line.
    assert "bn_inception" not in {series.model for series in result.drawn["top5"].series}
    styles = {series.model: series.linestyle for series in top1.series}
    assert styles["irv2"] == "-" and styles["v4"] == "--" and styles["bn_inception"] == ":"
    # Each model keeps its colour in both figures; a model the catalog lacks takes a spare one.
    assert {series.model: series.colour for series in top1.series} == {
        **PAPER_COLOURS,
        "bn_inception": "#2ca02c",
    }
    assert {series.model: series.colour for series in result.drawn["top5"].series} == PAPER_COLOURS

    # A second run replaces our own figures.
    run_compare(all_dirs(runs), metric="top1", x="step", output=output, fmt="csv")
    assert png_size(output / "convergence_top1.png") == (1200, 750)


def test_default_output_is_next_to_the_runs(runs: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_compare([Path("runs/sweep")], metric="top1", fmt="md")
    assert result.output_dir == Path("runs/sweep/compare")
    assert (runs / "sweep" / "compare" / "convergence_top1.png").is_file()
    # The sweep folder expanded into its two runs, and the compare folder is not a run.
    assert [run.run_id for run in result.runs] == ["0_v4", "1_irv2"]
    again = run_compare([Path("runs/sweep")], metric="top1", fmt="md")
    assert again.warnings == []
    # The first comparison's output is kept; the second takes a new name beside it.
    assert again.output_dir == Path("runs/sweep/compare-1")
    assert (runs / "sweep" / "compare" / "convergence_top1.png").is_file()


def test_refuses_to_overwrite_a_user_file(runs: Path, tmp_path: Path) -> None:
    output = tmp_path / "figs"
    output.mkdir()
    (output / "convergence_top1.png").write_text("my own picture")
    with pytest.raises(InputError, match="not a figure from `inception compare`"):
        run_compare(all_dirs(runs), metric="top1", output=output)
    assert (output / "convergence_top1.png").read_text() == "my own picture"


def test_single_run(runs: Path, tmp_path: Path) -> None:
    result = run_compare([runs / "2026-01-01_00-00-02_irv1"], output=tmp_path / "f")
    assert result.statement == [
        "Only one run (2026-01-01_00-00-02_irv1): final top-1 error 27.0%, "
        "final top-5 error 8.5%; there is nothing to compare."
    ]


def test_pair_sentences(tmp_path: Path) -> None:
    """Each residual network against its pure pair: same epoch, one never, neither."""
    write_run(tmp_path / "0_v3", "v3", [40, 30], [20, 10])
    write_run(tmp_path / "1_irv1", "irv1", [45, 30], [20, 10])
    write_run(tmp_path / "2_v4", "v4", [50, 45], [20, 10])
    write_run(tmp_path / "3_irv2", "irv2", [40, 20], [20, 10])
    write_run(tmp_path / "4_irv2_paper", "irv2_paper", [50, 40], [20, 10])
    result = run_compare(
        sorted(tmp_path.iterdir()), metric="top1", threshold=30.0, output=tmp_path / "f"
    )
    assert result.statement == [
        "Inception-v3 and Inception-ResNet-v1 and Inception-ResNet-v2 reached 30.0% top-1 error"
        " first, together (epoch 2; 1 seed each). Did not reach it: Inception-v4,"
        " Inception-ResNet-v2 (paper).",
        "Inception-ResNet-v1 and Inception-v3 (similar cost) reached 30.0% top-1 error at the"
        " same epoch (2; 1 seed each).",
        "Inception-ResNet-v2 reached 30.0% top-1 error (epoch 2, 1 seed); Inception-v4 never did"
        " (1 seed).",
        "Neither Inception-ResNet-v2 (paper) nor Inception-v4 reached 30.0% top-1 error"
        " (1 seed each).",
        "Lowest final top-1 error: Inception-ResNet-v2 (20.0%, 1 seed), 10.0 points below"
        " Inception-v3 (30.0%, 1 seed): seed noise unknown.",
    ]


def test_model_and_type_from_the_catalog() -> None:
    """Summaries that do not record the model or its type fall back on these."""
    assert catalog.model_from_run_id("0_irv2_paper") == "irv2_paper"  # not irv2
    assert catalog.model_from_run_id("2026-11-27_21-04-19_v4") == "v4"
    assert catalog.model_from_run_id("irv1") == "irv1"
    assert catalog.model_from_run_id("2026-11-27_21-03-11_sweep") is None
    assert catalog.model_from_run_id("0_xv3") is None
    assert catalog.residual_by_name("irv1") is True and catalog.residual_by_name("irv2") is True
    assert catalog.residual_by_name("irv2_paper") is True
    assert catalog.residual_by_name("v3") is False and catalog.residual_by_name("v4") is False
    assert catalog.residual_by_name("bn_inception") is None


def test_model_from_name_when_summary_lacks_it(tmp_path: Path) -> None:
    write_run(
        tmp_path / "2026-01-01_00-00-00_irv2_paper",
        "irv2_paper",
        [40, 30],
        [20, 10],
        with_model_in_summary=False,
    )
    result = run_compare(
        [tmp_path / "2026-01-01_00-00-00_irv2_paper"], metric="top1", output=tmp_path / "f"
    )
    assert result.runs[0].model == "irv2_paper" and result.runs[0].residual is True


def test_json_and_csv_formats(runs: Path, tmp_path: Path) -> None:
    cli = CliRunner()
    args = ["compare", *map(str, all_dirs(runs)), "--output", str(tmp_path / "figs")]
    done = cli.invoke(app, [*args, "--format", "json"])
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert document["thresholds"]["top1"] == {
        "error": 29.0,
        "rule": "highest final error of finished runs",
    }
    row = next(row for row in document["rows"] if row["run"] == "1_irv2")
    assert row["best_top1_error"] == 24.5 and row["top1_reached_epoch"] == 2
    assert row["curve"]["top1"] == [48, 28.5, 26, 24.5] and row["validations"] == 4
    assert len(document["figures"]) == 16 and document["statement"]
    assert [Path(path).name for path in document["reports"]] == ["report.html", "report.md"]
    # The report's path comes last, on stderr with JSON and CSV: stdout is the data alone.
    assert done.stderr.strip().splitlines()[-1].endswith("report.html")

    done = cli.invoke(app, [*args, "--format", "csv", "--metric", "top5"])
    assert done.exit_code == 0, done.output
    table = list(csv.DictReader(done.stdout.splitlines()))
    assert len(table) == 8
    bn = next(row for row in table if row["run"] == "2026-01-01_00-00-05_bn")
    assert bn["best_top5_error"] == "" and bn["best_top1_error"] == "27.0"
    assert "top5_reached_epoch" in table[0] and "top1_reached_epoch" not in table[0]
    assert "wrote" in done.stderr and "wrote" not in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no run directories given; try `inception compare runs/*`"),
        (["RUN", "--metric", "top3"], "choose one of: top1, top5, both"),
        (["RUN", "--x", "minutes"], "choose one of: epoch, hours, step, images"),
        (["RUN", "--format", "xml"], "choose one of: table, md, csv, json"),
        (["RUN", "--group-by", "seed"], "choose one of: model"),
        (["NOTES"], "no readable run directory"),
    ],
)
def test_bad_input(runs: Path, args: list[str], message: str) -> None:
    paths = {"RUN": str(runs / "2026-01-01_00-00-02_irv1"), "NOTES": str(runs / "notes")}
    done = CliRunner().invoke(app, ["compare", *(paths.get(arg, arg) for arg in args)])
    assert done.exit_code == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in done.output


def test_import_does_not_load_torch(loaded_by_import) -> None:
    heavy = ("torch", "lightning", "wandb", "matplotlib")
    assert loaded_by_import("inception_cli.tasks.compare", heavy) == []


def test_run_that_has_not_validated_yet(runs: Path, tmp_path: Path) -> None:
    fresh = runs / "2026-01-01_00-00-06_irv1"
    fresh.mkdir()
    (fresh / layout.METRICS).write_text(",".join(COLUMNS) + "\n0,0,0.045,2.3,,,,\n")
    (fresh / layout.SUMMARY).write_text(
        json.dumps({"id": fresh.name, "model": "irv1", "status": "running", "epochs": 0})
    )
    result = run_compare([fresh, runs / "sweep"], metric="top1", output=tmp_path / "f", fmt="csv")
    run = by_id(result, fresh.name)
    assert run.curve == [] and run.best == {"top1": None, "top5": None}
    assert run.reached["top1"] is None and run.status == "running"
    row = next(row for row in result.rows if row["run"] == fresh.name)
    assert row["final_top1_error"] is None and row["epochs"] == 0


# -- groups of seeds, the paper's figures by number, the report ----------------------------------


def seeds_of(
    root: Path, model: str, curves: list[list[float]], num_classes: int = 10, **model_keys
) -> None:
    """One run per curve, seeds 0, 1, ...: runs that differ only in the seed."""
    for seed, top1 in enumerate(curves):
        write_run(
            root / f"{seed}_{model}_{'_'.join(f'{k}{v}' for k, v in model_keys.items())}",
            model,
            top1,
            [error / 4 for error in top1],
            config=model_config(model, seed=seed, num_classes=num_classes, **model_keys),
        )


def test_runs_that_differ_only_in_the_seed_are_grouped(tmp_path: Path) -> None:
    seeds_of(tmp_path, "irv2", [[60, 40, 30], [62, 42, 31]], residual_scale=1.0)
    seeds_of(tmp_path, "irv2", [[50, 30, 20], [52, 31, 21], [54, 35, 22]], residual_scale=0.1)
    seeds_of(tmp_path, "v4", [[70, 50, 40]])
    result = run_compare(sorted(tmp_path.iterdir()), metric="top1", output=tmp_path / "f", fmt="md")
    groups = {group.label: group for group in result.seed_groups}
    # Two scales of one model are two groups, named by what sets them apart; bookkeeping keys
    # (paths.runs_dir differs between the seeds) do not split a group.
    assert sorted(groups) == [
        "Inception-ResNet-v2 (residual_scale=0.1)",
        "Inception-ResNet-v2 (residual_scale=1.0)",
        "Inception-v4",
    ]
    scaled = groups["Inception-ResNet-v2 (residual_scale=0.1)"]
    assert len(scaled.runs) == 3 and scaled.final["top1"].mean == pytest.approx(21)
    assert [run.settings.seed for run in scaled.runs] == [0, 1, 2]

    # Mean with a band: the range of two seeds, mean ± one standard deviation of three or more.
    fig26 = result.paper_figures["fig26_top1_all"]
    lines = {series.label: series for series in fig26.series}
    two = lines["Inception-ResNet-v2 (residual_scale=1.0) (mean of 2 seeds)"]
    assert two.y == pytest.approx([61, 41, 30.5])
    assert two.band_low == [60, 40, 30] and two.band_high == [62, 42, 31]
    three = lines["Inception-ResNet-v2 (residual_scale=0.1) (mean of 3 seeds)"]
    assert three.y[0] == pytest.approx(52)
    assert three.band_low[0] == pytest.approx(50) and three.band_high[0] == pytest.approx(54)
    assert lines["Inception-v4"].band_low is None  # one seed: no band
    # Two groups of one model are told apart by colour too.
    assert two.colour != three.colour


def test_statement_tells_a_real_gap_from_seed_noise(tmp_path: Path) -> None:
    seeds_of(tmp_path, "v3", [[60, 45, 35, 28], [61, 46, 34, 29]])
    seeds_of(tmp_path, "irv1", [[50, 29, 27, 26], [51, 30, 28, 27]])  # faster on every seed
    seeds_of(tmp_path, "v4", [[58, 42, 30, 26], [59, 50, 40, 29]])
    seeds_of(tmp_path, "irv2", [[48, 30, 29, 25], [49, 43, 33, 28]])  # seeds overlap v4's
    result = run_compare(
        sorted(tmp_path.iterdir()), metric="top1", threshold=30.0, output=tmp_path / "f"
    )
    statement = " ".join(result.statement)
    assert (
        "Inception-ResNet-v1 converged faster than Inception-v3 (similar cost): 30.0% top-1"
        " error reached 2 epochs earlier (epoch 2 vs 4; 2 seeds each): faster on every seed."
    ) in statement
    assert (
        "Inception-ResNet-v2 converged faster than Inception-v4 (similar cost): 30.0% top-1"
        " error reached 0.5 epochs earlier (epoch 3 vs 3.5; 2 seeds each): within seed noise."
    ) in statement
    assert "(epoch 2, mean of 2 seeds)" in statement


def test_paper_figures_by_number(tmp_path: Path) -> None:
    output = tmp_path / "f"
    # 20 classes: the top-5 error means something, and the top-5 figures are drawn.
    seeds_of(tmp_path / "all", "v3", [[60, 40], [62, 41]], num_classes=20)
    seeds_of(tmp_path / "all", "irv1", [[50, 30]], num_classes=20)
    seeds_of(tmp_path / "all", "v4", [[58, 42]], num_classes=20)
    seeds_of(tmp_path / "all", "irv2", [[48, 28]], num_classes=20)
    every = run_compare([tmp_path / "all"], output=output, fmt="csv")
    assert sorted(every.paper_figures) == PAPER_STEMS
    assert every.paper_figures["fig21_top1_v3_vs_irv1"].title == (
        "Fig 21: validation top-1 error, Inception-v3 vs Inception-ResNet-v1"
    )
    assert every.paper_figures["fig24_top5_v4_vs_irv2"].title == (
        "Fig 24: validation top-5 error, Inception-v4 vs Inception-ResNet-v2"
    )
    assert "top-5" in every.paper_figures["fig25_top5_all"].title
    assert "top-1" in every.paper_figures["fig26_top1_all"].title
    assert {s.model for s in every.paper_figures["fig23_top1_v4_vs_irv2"].series} == {"v4", "irv2"}
    assert png_size(output / "fig21_top1_v3_vs_irv1.png") == (1200, 750)
    assert (output / "fig21_top1_v3_vs_irv1.svg").is_file()

    # Without Inception-v4 there is no Fig 23 or 24, and the earlier ones are gone from the folder.
    pair = run_compare(
        sorted((tmp_path / "all").glob("*v3*")) + sorted((tmp_path / "all").glob("*irv1*")),
        output=output,
        fmt="csv",
    )
    assert sorted(pair.paper_figures) == [PAPER_STEMS[i] for i in (0, 1, 4, 5)]
    assert not (output / "fig23_top1_v4_vs_irv2.png").exists()
    assert (
        "Fig 23: needs both Inception-v4 and Inception-ResNet-v2"
        in (output / "report.md").read_text()
    )


def test_x_axis_of_images_seen(tmp_path: Path) -> None:
    seeds_of(tmp_path / "runs", "v3", [[60, 40]])
    write_run(tmp_path / "runs" / "1_irv1", "irv1", [50, 30], [10, 5])  # no config: unknown
    result = run_compare(
        [tmp_path / "runs"], metric="top1", x="images", output=tmp_path / "f", fmt="md"
    )
    v3 = next(s for s in result.paper_figures["fig26_top1_all"].series if s.model == "v3")
    # Step 9 is the tenth step: 10 steps x 64 images x 2 devices.
    assert v3.x == [1280.0, 2560.0]
    unknown = [w for w in result.warnings if "images seen unknown" in w]
    assert len(unknown) == 1 and "1_irv1" in unknown[0]
    assert {s.model for s in result.paper_figures["fig26_top1_all"].series} == {"v3"}


def test_report_beside_the_paper(tmp_path: Path, capsys) -> None:
    seeds_of(tmp_path / "runs", "v3", [[60, 40, 30], [62, 41, 31]])
    seeds_of(tmp_path / "runs", "irv1", [[50, 30, 25]])
    evaluated = next((tmp_path / "runs").glob("0_v3*"))
    write_eval(evaluated, "10crop.json", crops=10, models=["v3"], errors=(29.5, 7.25))
    write_eval(evaluated, "144crop_ensemble.json", crops=144, models=["v3"] * 4, errors=(27, 6))
    result = run_compare([tmp_path / "runs"], output=tmp_path / "f")
    assert (
        capsys.readouterr().out.strip().splitlines()[-1] == f"report: {tmp_path / 'f'}/report.html"
    )
    page = (tmp_path / "f" / "report.html").read_text()
    markdown = (tmp_path / "f" / "report.md").read_text()
    assert result.reports == [tmp_path / "f" / "report.html", tmp_path / "f" / "report.md"]

    # Table 2: the paper's single-crop errors beside the mean ± sd over seeds.
    v3_row = next(line for line in markdown.splitlines() if line.startswith("| Inception-v3 |"))
    assert "| 21.2 | 5.6 | 30.5 ± 0.7 |" in v3_row and "| 2 | embedded, 10 classes |" in v3_row
    # `inception eval` results beside the paper's 12-crop and Table 5 numbers.
    assert (
        "| Inception-v3 | 10 | embedded (val) | 1000 | EMA | 29.50 | 7.25 | 19.8 | 4.6 |"
        in markdown
    )
    assert "| 4 × Inception-v3 | 144 |" in markdown and "| 17.3 | 3.6 |" in markdown
    assert "Szegedy et al. 2016, arXiv 1602.07261, Tables 2 and 5" in markdown
    assert "With 10 classes the top-5 error says little" in markdown
    assert "Fig 22: top-5 left out (10 classes)" in markdown
    # The statements, the runs and their settings.
    assert "(epoch 1, 1 seed)" in markdown or "1 seed" in markdown
    assert "| Inception-v3 | Inception-v3 | 0.25 | embedded, 10 classes | 4 | 0, 1 |" in markdown
    # Self-contained: every figure is a data URI, and nothing is fetched from elsewhere. With 10
    # classes: fig21, fig26 and convergence_top1, no top-5 figure.
    images = page.count("<img ")
    assert images == len([p for p in result.figures if p.suffix == ".png"]) == 3
    assert page.count('src="data:image/png;base64,') == images
    assert "http://" not in page and "https://" not in page
    for name in ("fig21_top1_v3_vs_irv1.png", "fig26_top1_all.png"):
        assert f"]({name})" in markdown


def write_eval(run_dir: Path, name: str, *, crops: int, models: list[str], errors) -> None:
    """A result file as `inception eval` writes it (evaluation/results.py), in the run's eval/."""
    record = {
        "top1_error": errors[0],
        "top5_error": errors[1],
        "ensemble": len(models) > 1,
        "protocol": {"crops": crops, "description": "..."},
        "data": {"name": "embedded", "root": None, "split": "val"},
        "images": {"evaluated": 1000, "excluded_blacklist": 0, "corrupt": 0},
        "ema": True,
        "members": [{"name": f"run{i}", "model": {"name": m}} for i, m in enumerate(models)],
    }
    layout.eval_dir(run_dir).mkdir(parents=True, exist_ok=True)
    (layout.eval_dir(run_dir) / name).write_text(json.dumps(record))


def test_refuses_to_overwrite_a_report_it_did_not_write(tmp_path: Path) -> None:
    seeds_of(tmp_path / "runs", "v3", [[60, 40]])
    output = tmp_path / "f"
    output.mkdir()
    (output / "report.html").write_text("<html>my notes</html>")
    with pytest.raises(InputError, match="not a report from `inception compare`"):
        run_compare([tmp_path / "runs"], metric="top1", output=output)
    assert (output / "report.html").read_text() == "<html>my notes</html>"
    (output / "report.html").unlink()
    run_compare([tmp_path / "runs"], metric="top1", output=output)
    run_compare([tmp_path / "runs"], metric="top1", output=output)  # its own is replaced


def test_residual_scaling_figure_and_dead_networks(tmp_path: Path) -> None:
    for seed in (0, 1):
        for scale, dead in ((1.0, [0.6, 0.995, 1.0]), (0.1, [0.5, 0.5, 0.49])):
            write_run(
                tmp_path / f"{seed}_irv2_{scale}",
                "irv2",
                [60, 90, 90] if scale == 1.0 else [60, 40, 30],
                [20, 50, 50] if scale == 1.0 else [20, 10, 5],
                config=model_config("irv2", seed=seed, residual_scale=scale),
                dead=dead,
            )
    result = run_compare(sorted(tmp_path.iterdir()), metric="top1", output=tmp_path / "f", fmt="md")
    drawn = result.paper_figures["residual_scaling_dead_fraction"]
    assert png_size(tmp_path / "f" / "residual_scaling_dead_fraction.png") == (2400, 750)
    dead_lines = drawn.series[:2]  # the left panel: dead fraction (%) at the end of each epoch
    unscaled = next(s for s in dead_lines if "residual_scale=1.0" in s.label)
    assert unscaled.y == pytest.approx([60, 99.5, 100])
    assert "died: 100.0% of the activations before the average pooling were zero" in " ".join(
        result.statement
    )
    assert not any("residual_scale=0.1) died" in s for s in result.statement)
    markdown = (tmp_path / "f" / "report.md").read_text()
    assert "## Residual scaling (section 3.3, Fig 20)" in markdown
    assert (
        "| Inception-ResNet-v2 (residual_scale=1.0) | 1.0 | 100.0 ± 0.0 | 100.0 ± 0.0 |" in markdown
    )


def test_paper_facts() -> None:
    from inception_cli.comparison import paper

    assert paper.SOURCE == "Szegedy et al. 2016, arXiv 1602.07261, Tables 2 and 5"
    assert paper.SINGLE_CROP["Inception-v3"] == paper.PaperError(21.2, 5.6)
    assert paper.SINGLE_CROP["BN-Inception"] == paper.PaperError(25.2, 7.8)
    assert paper.single_model_error("irv2_paper", 1) == (1, paper.PaperError(19.9, 4.9))
    assert paper.single_model_error("v4", 10) == (12, paper.PaperError(18.7, 4.2))
    assert paper.single_model_error("irv1", 144) == (144, paper.PaperError(18.8, 4.3))
    assert paper.single_model_error("bn_inception", 1) is None
    assert paper.ensemble_of(["irv2", "v4", "irv2", "irv2"]).error == paper.PaperError(16.5, 3.1)
    assert paper.ensemble_of(["v3", "v4"]) is None
    assert [(f.number, f.metric) for f in paper.FIGURES] == [
        (21, "top1"),
        (22, "top5"),
        (23, "top1"),
        (24, "top5"),
        (25, "top5"),
        (26, "top1"),
    ]


# -- the output folder: chosen and created first, never shared, never overwritten ---------------


def test_output_under_a_regular_file_fails_at_once(tmp_path: Path) -> None:
    seeds_of(tmp_path / "runs", "v3", [[60, 40]])
    (tmp_path / "notes.txt").write_text("mine")
    for output, message in (
        ("notes.txt/compare", "cannot create --output notes.txt/compare (Not a directory)"),
        ("notes.txt", "--output notes.txt is a file"),
    ):
        started = time.monotonic()
        done = inception(tmp_path, "compare", "runs", "--output", output)
        assert_one_line_error(done, message)
        assert time.monotonic() - started < 30  # the interpreter's start; the refusal is instant
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt", "runs"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_output_under_a_read_only_folder_fails_at_once(tmp_path: Path) -> None:
    seeds_of(tmp_path / "runs", "v3", [[60, 40]])
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    done = inception(tmp_path, "compare", "runs", "--output", "locked/compare")
    assert_one_line_error(done, "cannot create --output locked/compare (Permission denied)")
    (tmp_path / "runs").chmod(0o555)  # the default output, beside the runs, cannot be made
    done = inception(tmp_path, "compare", "runs")
    (tmp_path / "runs").chmod(0o755)
    assert_one_line_error(done, "cannot create the output folder")


def test_read_only_output_is_one_line_even_as_root(tmp_path: Path, monkeypatch) -> None:
    """What a read-only folder does to mkdir, for a user that root's tests cannot be."""
    seeds_of(tmp_path / "runs", "v3", [[60, 40]])
    real_mkdir = Path.mkdir

    def read_only(path: Path, *args, **kwargs) -> None:
        if "locked" in path.parts or path.name == "compare":
            raise PermissionError(13, "Permission denied", str(path))
        real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    for extra, message in (
        (["--output", str(tmp_path / "locked" / "out")], "(Permission denied)"),
        ([], "cannot create the output folder"),
    ):
        done = CliRunner().invoke(app, ["compare", str(tmp_path / "runs"), *extra])
        errors = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.exit_code == 2 and len(errors) == 1, done.output
        assert errors[0].startswith("error: ") and message in errors[0]
    assert not (tmp_path / "runs" / "compare").exists()


def test_output_is_refused_before_any_run_is_read(tmp_path: Path, monkeypatch) -> None:
    from inception_cli.comparison import build

    seeds_of(tmp_path / "runs", "v3", [[60, 40]])
    (tmp_path / "file").write_text("")
    read: list[Path] = []
    monkeypatch.setattr(build, "read_run", lambda path, warnings: read.append(path))
    started = time.monotonic()
    with pytest.raises(InputError, match="cannot create --output"):
        run_compare([tmp_path / "runs"], output=tmp_path / "file" / "out")
    assert read == [] and time.monotonic() - started < 1.0

    # A folder that can be made exists before the first run is read.
    output = tmp_path / "new" / "out"

    def output_made_first(path: Path, warnings: list[str]) -> None:
        assert output.is_dir()
        read.append(path)

    monkeypatch.setattr(build, "read_run", output_made_first)
    with pytest.raises(InputError, match="no readable run directory"):
        run_compare([tmp_path / "runs"], output=output)
    assert len(read) == 1
    assert not output.exists()  # the failed comparison leaves no empty folder behind


def test_concurrent_comparisons_never_share_an_output(tmp_path: Path, monkeypatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from inception_cli.comparison import output as output_module

    runs = [tmp_path / "runs" / "0_v3", tmp_path / "runs" / "1_irv1"]
    for run in runs:
        run.mkdir(parents=True)
    with ThreadPoolExecutor(8) as pool:
        claimed = list(pool.map(lambda _: output_module.claim_default_output(runs), range(16)))
    assert len(set(claimed)) == 16
    assert tmp_path / "runs" / "compare" in claimed
    assert all(path.parent == tmp_path / "runs" and path.is_dir() for path in claimed)

    # Another comparison takes the proposed name between the look and the mkdir: the next one.
    taken = tmp_path / "runs" / "compare-16"
    real_unique_path = layout.unique_path

    def another_comparison_first(path: Path) -> Path:
        if not taken.exists():
            taken.mkdir()
            return taken
        return real_unique_path(path)

    monkeypatch.setattr(layout, "unique_path", another_comparison_first)
    assert output_module.claim_default_output(runs) == tmp_path / "runs" / "compare-17"


def test_default_output_of_runs_in_different_trees(tmp_path: Path) -> None:
    from inception_cli.comparison.output import default_parent

    sweep = tmp_path / "runs" / "sweep"
    assert default_parent([sweep / "0_v3", tmp_path / "runs" / "1_irv1"]) == tmp_path / "runs"
    assert default_parent([sweep / "0_v3", sweep / "1_irv1"]) == sweep
    # Far apart: the first run's parent, not a shared ancestor such as / or the home folder.
    far = [Path("/srv/team/runs/0_v3"), Path("/tmp/mine/runs/sweep/1_irv1")]
    assert default_parent(far) == Path("/srv/team/runs")
    apart = [tmp_path / "a" / "runs" / "0_v3", tmp_path / "b" / "runs" / "1_irv1"]
    assert default_parent(apart) == tmp_path / "a" / "runs"


# -- strange data ---------------------------------------------------------------------------------


def test_empty_and_headerless_metrics_are_warnings(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    seeds_of(root, "v3", [[60, 40]])
    seeds_of(root, "irv1", [[50, 30]])
    empty = root / "2_v4"
    empty.mkdir()
    (empty / layout.METRICS).write_text("")
    headerless = root / "3_irv2"
    headerless.mkdir()
    (headerless / layout.METRICS).write_text("0,9,0.045,2.0,1.5,40,10,360\n1,19,,,1.4,30,8,7\n")
    (headerless / layout.SUMMARY).write_text("{not json")
    done = inception(tmp_path, "compare", "runs", "--format", "md", timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    assert any("runs/2_v4/metrics.csv is empty" in line for line in warnings), warnings
    assert any("runs/3_irv2/metrics.csv has no header row" in line for line in warnings)
    assert any(
        "runs/3_irv2/summary.json is not a readable JSON object" in line for line in warnings
    )
    rows = {line.split(" | ")[0]: line for line in done.stdout.splitlines()}
    for run_id in ("| 2_v4", "| 3_irv2"):
        assert "| — | — | — | — |" in rows[run_id], rows[run_id]  # shown, without numbers
    assert "Lowest final top-1 error: Inception-ResNet-v1" in done.stdout


# -- runs of one model and config, the top-5 error on few classes --------------------------------


def test_runs_of_one_model_and_config_are_told_apart(tmp_path: Path) -> None:
    """The default run of irv2 and the irv2 of a sweep: same model, same config, two runs."""
    root = tmp_path / "runs"
    write_run(root / "2026-01-01_00-00-00_irv2", "irv2", [50, 30], [20, 10])
    write_run(root / "sweep" / "0_v4", "v4", [60, 40], [25, 12])
    write_run(root / "sweep" / "1_irv2", "irv2", [52, 29], [21, 9])
    result = run_compare(
        [root / "2026-01-01_00-00-00_irv2", root / "sweep"], output=tmp_path / "f", fmt="md"
    )
    for metric in ("top1", "top5"):
        lines = [s for s in result.drawn[metric].series if s.model == "irv2"]
        assert [s.label for s in lines] == [
            "Inception-ResNet-v2 (1_irv2)",
            "Inception-ResNet-v2 (2026-01-01_00-00-00_irv2)",
        ]
        assert len({s.marker for s in lines}) == 2  # one colour, one line style: two markers
        assert lines[0].marker == "o" and lines[1].markersize > lines[0].markersize
        assert {s.label for s in lines} <= set(result.drawn[metric].legend)
    v4 = next(s for s in result.drawn["top1"].series if s.model == "v4")
    assert v4.marker == "o"  # a model with one run keeps the usual dot


def test_top5_is_left_out_on_ten_classes(tmp_path: Path, capsys) -> None:
    for model, top1 in (("v3", [60, 40]), ("irv1", [50, 30]), ("v4", [58, 42]), ("irv2", [48, 28])):
        seeds_of(tmp_path / "runs", model, [top1, [e + 1 for e in top1]])
    output = tmp_path / "f"
    result = run_compare([tmp_path / "runs"], output=output)
    printed = capsys.readouterr().out
    assert sorted(result.paper_figures) == [PAPER_STEMS[i] for i in (0, 2, 5)]  # top-1 only
    assert sorted(result.drawn) == ["top1"]
    assert not list(output.glob("*top5*"))
    assert result.statement and not any("top-5" in sentence for sentence in result.statement)
    note = "With 10 classes the top-5 error says little"
    assert f"Note: {note}" in printed and "top-5 sentences are left out" in printed
    for report in ("report.md", "report.html"):
        text = (output / report).read_text()
        assert note in text and "Fig 25: top-5 left out (10 classes)" in text, report
    assert "| Inception-v3 | 21.2 | 5.6 |" in (output / "report.md").read_text()  # table keeps it

    # Asked for alone, the top-5 error is drawn, with the same warning.
    alone = run_compare([tmp_path / "runs"], metric="top5", output=output, fmt="csv")
    assert sorted(alone.paper_figures) == [PAPER_STEMS[i] for i in (1, 3, 4)]
    assert "--metric top5 asked for them" in capsys.readouterr().err


def test_paper_figures_and_report_on_twenty_classes(tmp_path: Path) -> None:
    """Two seeds of each network on 20 classes: Figs 21-26 as the paper's, and the report."""
    for model, top1 in (("v3", [60, 40]), ("irv1", [50, 30]), ("v4", [58, 42]), ("irv2", [48, 28])):
        seeds_of(tmp_path / "runs", model, [top1, [e + 1 for e in top1]], num_classes=20)
    done = inception(tmp_path, "compare", "runs", "--output", "out", timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "out"
    for stem in PAPER_STEMS:
        assert (out / f"{stem}.png").stat().st_size > 1000 and (out / f"{stem}.svg").is_file()
    assert done.stdout.strip().splitlines()[-1] == "report: out/report.html"
    html = (out / "report.html").read_text()
    assert html.count('<img src="data:image/png;base64,') == html.count("<img ") == 8
    markdown = (out / "report.md").read_text()
    assert "top-5 error says little" not in markdown and "left out" not in markdown
    v3_row = next(line for line in markdown.splitlines() if line.startswith("| Inception-v3 |"))
    assert re.search(r"\| 21\.2 \| 5\.6 \| \d+\.\d ± \d+\.\d \| \d+\.\d ± \d+\.\d \|", v3_row)
    assert "2 seeds each" in done.stdout and "2 seeds each" in markdown


# -- the README's first command ------------------------------------------------------------------


def test_readme_first_command_compares_the_sweep_alone(tmp_path: Path, monkeypatch) -> None:
    from inception_cli.config.resolvers import run_names

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    first = readme.split("## Set up", 1)[1].split("```bash\n", 1)[1].splitlines()[0]
    steps = [step.strip() for step in first.split("&&")]
    assert steps[2] == "inception train -m model=v3,irv1,v4,irv2"
    compare = shlex.split(steps[3])
    assert compare[:2] == ["inception", "compare"]
    # What the first steps leave in runs/: the default run, then the sweep's folder.
    sweep = run_names.sweep("runs")
    assert sweep.endswith("_sweep") and "<" not in sweep
    (tmp_path / "runs" / "2026-01-01_00-00-00_irv2").mkdir(parents=True)
    for index, model in enumerate(("v3", "irv1", "v4", "irv2")):
        (tmp_path / "runs" / sweep / f"{index}_{model}").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    given = [path for pattern in compare[2:] for path in sorted(glob.glob(pattern))]
    assert given == [f"runs/{sweep}"]
