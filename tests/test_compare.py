"""`inception compare` on hand-made run directories with known curves."""

from __future__ import annotations

import csv
import json
import math
import struct
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inception_cli import catalog
from inception_cli import runs as run_layout
from inception_cli.cli import app
from inception_cli.errors import InputError
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
) -> Path:
    """A run directory as `inception train` leaves it: train rows, then one val row per epoch."""
    path.mkdir(parents=True)
    columns = COLUMNS if top5 is not None else [c for c in COLUMNS if c != "val/top5_error"]
    with (path / run_layout.METRICS).open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        for epoch, error in enumerate(top1):
            step = (epoch + 1) * STEPS_PER_EPOCH - 1
            elapsed = (epoch + 1) * SECONDS_PER_EPOCH
            writer.writerow({"epoch": epoch, "step": step, "lr": 0.045, "train/loss": 2.0})
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
    (path / run_layout.SUMMARY).write_text(json.dumps(summary))
    return path


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
    assert (
        "Inception-ResNet-v2 reached 29.0% top-1 error first (epoch 2), "
        "1 epoch before Inception-ResNet-v1 (epoch 3)."
    ) in statement
    assert (
        "Inception-ResNet-v1 converged faster than Inception-v3 (similar cost): "
        "29.0% top-1 error reached 1 epoch earlier (epoch 3 vs 4)."
    ) in statement
    assert "Inception-ResNet-v2 converged faster than Inception-v4 (similar cost)" in statement
    assert "2 epochs earlier (epoch 2 vs 4)" in statement
    assert "Inception-ResNet-v2 (paper) has not yet (still running)" in statement
    assert "Did not reach it: Inception-v4 (2026-01-01_00-00-04_v4) [failed]" in statement
    assert "Lowest final top-1 error: Inception-ResNet-v2 (24.5%)." in statement
    assert statement in " ".join(out.split())


def test_given_threshold_nobody_reaches(runs: Path, tmp_path: Path) -> None:
    result = run_compare(
        all_dirs(runs), metric="top5", threshold=1.0, output=tmp_path / "figs", fmt="md"
    )
    assert result.thresholds == {"top5": 1.0}
    assert result.threshold_rules["top5"] == "given"
    assert result.statement == [
        "No run reached 1.0% top-5 error.",
        "Neither Inception-ResNet-v1 nor Inception-v3 reached 1.0% top-5 error.",
        "Neither Inception-ResNet-v2 nor Inception-v4 reached 1.0% top-5 error.",
        "Neither Inception-ResNet-v2 (paper) nor Inception-v4 reached 1.0% top-5 error.",
        "Lowest final top-5 error: Inception-ResNet-v2 (7.0%).",
    ]
    assert all(run.reached["top5"] is None for run in result.runs)


def test_group_by_model(runs: Path, tmp_path: Path) -> None:
    result = run_compare(all_dirs(runs), x="hours", group_by="model", output=tmp_path / "figs")
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
    assert names == [
        "convergence_top1.png",
        "convergence_top1.svg",
        "convergence_top5.png",
        "convergence_top5.svg",
    ]
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
        " first, together (epoch 2). Did not reach it: Inception-v4, Inception-ResNet-v2 (paper).",
        "Inception-ResNet-v1 and Inception-v3 (similar cost) reached 30.0% top-1 error at the"
        " same epoch (2).",
        "Inception-ResNet-v2 reached 30.0% top-1 error (epoch 2); Inception-v4 never did.",
        "Neither Inception-ResNet-v2 (paper) nor Inception-v4 reached 30.0% top-1 error.",
        "Lowest final top-1 error: Inception-ResNet-v2 (20.0%).",
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
    result = run_compare([tmp_path / "2026-01-01_00-00-00_irv2_paper"], output=tmp_path / "f")
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
    assert len(document["figures"]) == 4 and document["statement"]

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
        (["RUN", "--x", "minutes"], "choose one of: epoch, hours, step"),
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
    (fresh / run_layout.METRICS).write_text(",".join(COLUMNS) + "\n0,0,0.045,2.3,,,,\n")
    (fresh / run_layout.SUMMARY).write_text(
        json.dumps({"id": fresh.name, "model": "irv1", "status": "running", "epochs": 0})
    )
    result = run_compare([fresh, runs / "sweep"], output=tmp_path / "f", fmt="csv")
    run = by_id(result, fresh.name)
    assert run.curve == [] and run.best == {"top1": None, "top5": None}
    assert run.reached["top1"] is None and run.status == "running"
    row = next(row for row in result.rows if row["run"] == fresh.name)
    assert row["final_top1_error"] is None and row["epochs"] == 0
