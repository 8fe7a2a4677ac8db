"""`inception bench`: figures of every mode, the interleaved comparison with timm, the JSON
record and refusals of bad input. Tiny settings: the figures are checked for sense, not speed."""

from __future__ import annotations

import json
import math
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import torch
from rich.console import Console
from torch.utils.data import DataLoader, TensorDataset
from typer.testing import CliRunner

from inception_cli.benchmarking.data import endless, verdict
from inception_cli.benchmarking.output import claim_output
from inception_cli.benchmarking.report import data_caption
from inception_cli.cli import app
from inception_cli.errors import InputError
from inception_cli.tasks import bench as bench_task
from inception_cli.tasks.bench import make_settings, run_bench

QUIET = Console(quiet=True)
TINY_OVERRIDES = ["width=0.125", "steps=1", "warmup=1", "peak_seconds=0.05", "workers=0"]
TINY_OPTIONS: dict[str, Any] = dict(
    batch_size=2,
    size=75,
    precision="32",
    channels_last=False,
    compile=False,
    vs=None,
    repeats=2,
)


@pytest.fixture(scope="module")
def all_modes(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    path = tmp_path_factory.mktemp("bench") / "all.json"
    record = run_bench(
        ["model=v4", *TINY_OVERRIDES], mode="all", output=path, console=QUIET, **TINY_OPTIONS
    )
    return record, path


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_network_modes_give_positive_throughput_and_finite_gflops(
    all_modes: tuple[dict[str, Any], Path], mode: str
) -> None:
    record, _ = all_modes
    (ours,) = record["results"][mode]["networks"]
    assert ours["implementation"] == "ours"
    assert len(ours["images_per_s_blocks"]) == 2  # one per repeat
    assert ours["images_per_s"] > 0
    assert ours["gflop_per_step"] > 0
    assert math.isfinite(ours["gflops_per_s"]) and ours["gflops_per_s"] > 0
    assert 0 < ours["share_of_peak"] < 1.5
    assert ours["peak_memory_mb"] > 0
    assert ours["folded_batchnorm"] is (mode == "eval")  # as `inception eval` runs it


def test_training_step_counts_the_backward_pass(all_modes: tuple[dict[str, Any], Path]) -> None:
    record, _ = all_modes
    train = record["results"]["train"]["networks"][0]["gflop_per_step"]
    forward = record["results"]["eval"]["networks"][0]["gflop_per_step"]
    # The backward pass costs about twice the forward (less for the first layer's input grad).
    assert 2.5 * forward < train < 3.1 * forward


def test_data_mode_times_folder_and_shards_against_the_training_step(
    all_modes: tuple[dict[str, Any], Path],
) -> None:
    record, _ = all_modes
    rows = record["results"]["data"]
    assert [(row["dataset"], row["workers"]) for row in rows] == [
        ("jpeg folder", 0),
        ("shards", 0),
    ]
    train = record["results"]["train"]["networks"][0]["images_per_s"]
    for row in rows:
        assert row["images_per_s"] > 0 and row["input_size"] == 75
        assert len(row["images_per_s_blocks"]) == 2 and row["train_images_per_s"] == train
        assert row["verdict"] == verdict(row["images_per_s"], train, 0)
    assert record["settings"]["max_side"] == 320


def test_data_mode_alone_measures_the_training_step_and_reads_a_given_pack(
    tmp_path: Path,
) -> None:
    from inception_cli.benchmarking.data import write_synthetic_jpegs
    from inception_cli.data.packing import PackSettings, pack

    write_synthetic_jpegs(tmp_path / "jpegs", 6)
    pack(tmp_path / "jpegs", tmp_path / "shards", PackSettings(max_side=160), QUIET)
    record = run_bench(
        ["model=irv2", *TINY_OVERRIDES, f"data.root={tmp_path / 'jpegs'}"],
        mode="data",
        output=tmp_path / "data.json",
        console=QUIET,
        shards=tmp_path / "shards",
        **TINY_OPTIONS,
    )
    assert set(record["results"]) == {"train", "data"}
    roots = [row["root"] for row in record["results"]["data"]]
    assert roots == [str(tmp_path / "jpegs"), str(tmp_path / "shards")]


def test_verdict_without_and_with_workers() -> None:
    assert verdict(10000.0, 10.0, 0) == "loader keeps up"  # 0.1% lost: below 0.5%
    # no workers: loading and the step take turns, 1 / (1/100 + 1/100) = 50 of 100
    assert verdict(100.0, 100.0, 0) == "loader bounds training by 50%"
    assert verdict(80.0, 100.0, 4) == "loader bounds training by 20%"
    assert verdict(120.0, 100.0, 4) == "loader keeps up"


def test_more_workers_than_cores_is_said() -> None:
    import os

    settings = make_settings(["model=irv2"], mode="data", **TINY_OPTIONS)
    cores = os.cpu_count() or 1
    row = {"workers": cores + 1, "train_images_per_s": 10.0}
    assert f"more than the {cores} cores" in data_caption([row], settings)
    assert "inflated" in data_caption([row], settings)
    assert "more than" not in data_caption([{**row, "workers": 0}], settings)


def test_json_record_holds_settings_environment_and_figures(
    all_modes: tuple[dict[str, Any], Path],
) -> None:
    record, path = all_modes
    assert json.loads(path.read_text()) == record
    assert set(record) == {"environment", "settings", "matmul_peak_gflops", "results"}
    assert set(record["results"]) == {"train", "eval", "data"}
    environment = record["environment"]
    for key in ("torch", "device", "device_name", "cpu_model", "torch_threads", "date"):
        assert environment[key] not in (None, ""), key
    assert environment["torch_threads"] == torch.get_num_threads()
    assert record["settings"]["model"] == "v4" and record["settings"]["width"] == 0.125
    assert record["matmul_peak_gflops"]["float32"] > 0
    assert record["matmul_peak_gflops"]["bfloat16"] > 0


def test_vs_timm_gives_one_ratio_per_pair_and_their_median(tmp_path: Path) -> None:
    record = run_bench(
        ["model=v3", "steps=1", "warmup=1", "peak_seconds=0.05"],
        mode="eval",
        output=tmp_path / "vs.json",
        console=QUIET,
        **{**TINY_OPTIONS, "vs": "timm", "repeats": 3},
    )
    result = record["results"]["eval"]
    ours, timm = result["networks"]
    assert (ours["implementation"], timm["implementation"]) == ("ours", "timm")
    assert ours["folded_batchnorm"] is True and timm["folded_batchnorm"] is False
    # The same architecture: the same FLOPs, counted independently in each implementation.
    assert ours["gflop_per_step"] == pytest.approx(timm["gflop_per_step"])
    ratios = result["vs"]["ratios"]
    assert len(ratios) == 3 and all(ratio > 0 for ratio in ratios)
    assert result["vs"]["median_ratio"] == statistics.median(ratios)
    expected_first = ours["images_per_s_blocks"][0] / timm["images_per_s_blocks"][0]
    assert ratios[0] == pytest.approx(expected_first)


def test_vs_timm_fp32_times_timm_in_plain_float32(tmp_path: Path) -> None:
    record = run_bench(
        ["model=v3", "steps=1", "warmup=1", "peak_seconds=0.05"],
        mode="eval",
        output=tmp_path / "vs-fp32.json",
        console=QUIET,
        **{**TINY_OPTIONS, "precision": "auto", "channels_last": True, "vs": "timm-fp32"},
    )
    result = record["results"]["eval"]
    assert result["vs"]["reference"] == "timm-fp32"
    assert len(result["vs"]["ratios"]) == TINY_OPTIONS["repeats"]
    assert record["settings"]["channels_last"] is True
    assert record["settings"]["precision"] in ("bf16-mixed", "32")  # `auto`, resolved


def test_bf16_autocast_and_channels_last_train(tmp_path: Path) -> None:
    record = run_bench(
        ["model=irv1", *TINY_OVERRIDES],
        mode="train",
        output=tmp_path / "bf16.json",
        console=QUIET,
        **{**TINY_OPTIONS, "precision": "bf16-mixed", "channels_last": True, "repeats": 1},
    )
    (ours,) = record["results"]["train"]["networks"]
    assert ours["images_per_s"] > 0
    assert record["settings"]["precision"] == "bf16-mixed"
    assert record["settings"]["channels_last"] is True


def test_default_output_goes_under_runs_bench_and_never_replaces_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = claim_output("irv2", "eval", None)
    assert first.parent == Path("runs", "bench") and first.name.startswith("irv2-eval-")
    first.write_text("{}")
    second = claim_output("irv2", "eval", first)
    assert second == first.with_name(f"{first.stem}-1.json") and first.read_text() == "{}"
    given = tmp_path / "mine.json"
    given.write_text("keep")
    assert claim_output("irv2", "eval", given) != given and given.read_text() == "keep"


def test_output_naming_a_folder_gets_a_new_file_in_it(tmp_path: Path) -> None:
    (tmp_path / "v4-train-old.json").write_text("keep")
    claimed = claim_output("v4", "train", tmp_path)
    assert claimed.parent == tmp_path and claimed.name.startswith("v4-train-")
    assert (tmp_path / "v4-train-old.json").read_text() == "keep"


def test_concurrent_benches_never_pick_the_same_file(tmp_path: Path) -> None:
    target = tmp_path / "bench.json"
    with ThreadPoolExecutor(max_workers=8) as pool:
        claimed = list(pool.map(lambda _: claim_output("v4", "eval", target), range(32)))
    assert len(set(claimed)) == 32 and all(path.exists() for path in claimed)


def test_unwritable_output_fails_within_a_second_before_any_timing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("measured before the output was checked")

    monkeypatch.setattr(bench_task, "measure", must_not_run)
    (tmp_path / "notes.txt").write_text("keep")
    start = time.perf_counter()
    with pytest.raises(InputError, match="notes.txt is a file, not a folder"):
        run_bench(
            ["model=v4", *TINY_OVERRIDES],
            mode="train",
            output=tmp_path / "notes.txt" / "bench.json",
            console=QUIET,
            **TINY_OPTIONS,
        )
    assert time.perf_counter() - start < 1.0


def test_failed_bench_leaves_no_empty_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(bench_task, "measure", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_bench(
            ["model=v4", *TINY_OVERRIDES],
            output=tmp_path,
            console=QUIET,
            mode="train",
            **TINY_OPTIONS,
        )
    assert list(tmp_path.iterdir()) == []


def test_data_set_smaller_than_one_batch_is_said_not_looped_on() -> None:
    with pytest.raises(InputError, match="fewer images than one batch"):
        three_images = TensorDataset(torch.zeros(3, 3, 8, 8))
        next(endless(DataLoader(three_images, batch_size=4, drop_last=True), "tiny"))


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["model=v9"], "unknown model 'v9'"),
        (["--mode", "fast"], "unknown mode 'fast'"),
        (["model=irv1", "--vs", "timm"], "irv1 has no timm counterpart"),
        (["--precision", "16-mixed"], "16-mixed needs a GPU"),
        (["steps=0"], "steps=0 must be at least 1"),
        (["--size", "40"], "below the smallest input"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    arguments: list[str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "16-mixed" in arguments and torch.cuda.is_available():
        pytest.skip("16-mixed is accepted on a GPU")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["bench", *arguments])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert not Path("runs").exists()  # nothing measured, nothing written
