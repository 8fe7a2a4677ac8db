"""`debug=profile` (conf/debug/profile.yaml): a short run that profiles training steps 10-14
with torch's profiler, leaves a trace that Perfetto, chrome://tracing and TensorBoard open in
the run directory, and prints the operations that took the most self time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inception_cli.config.compose import compose_train_config
from inception_cli.training.loop import train
from inception_cli.training.perf import profile_paths

# debug=tiny's settings: a group takes one option on the command line, so they are given here.
TINY_SETTINGS = [
    "data=synthetic",
    "data.num_train=16",
    "data.num_val=8",
    "data.batch_size=4",
    "data.input_size=75",
    "model=irv1",
    "model.width=0.1",
    "logger=csv",
    "callbacks.progress_bar=none",
]


def profiled_run(tmp_path: Path, *extra: str) -> tuple[dict, Path]:
    cfg = compose_train_config(
        ["debug=profile", *TINY_SETTINGS, *extra, f"paths.runs_dir={tmp_path}"]
    )
    run_dir = tmp_path / "run"
    return train(cfg, run_dir), run_dir


def test_profile_writes_a_trace_of_the_profiled_steps_and_prints_the_top_operations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary, run_dir = profiled_run(tmp_path)
    assert summary["status"] == "finished" and summary["steps"] == 15
    trace_file = run_dir / "profile" / "rank0-steps10-14.pt.trace.json"
    trace = json.loads(trace_file.read_text())
    names = {event.get("name", "") for event in trace["traceEvents"]}
    # The profiled steps, and only those: 8 left out, 2 of the profiler's warm-up, then 5.
    assert {n for n in names if n.startswith("ProfilerStep#")} == {
        f"ProfilerStep#{step}" for step in range(10, 15)
    }
    assert "aten::convolution" in names
    out = capsys.readouterr().out
    assert "profiled training steps 10-14, operations by self CPU time:" in out
    table = (run_dir / "profile" / "rank0-steps10-14-operations.txt").read_text()
    assert table in out and "Self CPU" in table and "aten::" in table
    rows = [line for line in table.splitlines() if "aten::" in line or "Optimizer" in line]
    assert 5 <= len(rows) <= 25  # row_limit
    assert f"trace: {trace_file} (Perfetto" in out


def test_a_run_too_short_for_the_profiled_steps_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary, run_dir = profiled_run(tmp_path, "trainer.max_steps=3")
    assert summary["status"] == "finished"
    assert not (run_dir / "profile").exists()
    assert (
        "debug=profile: training ended at step 3, before the profiled steps had run "
        "(up to step 14); raise trainer.max_steps"
    ) in capsys.readouterr().out


def test_steps_profiled_again_are_written_beside_the_first_profile(tmp_path: Path) -> None:
    trace, table = profile_paths(tmp_path, 0, "steps10-14")
    assert (trace.name, table.name) == (
        "rank0-steps10-14.pt.trace.json",
        "rank0-steps10-14-operations.txt",
    )
    trace.write_text("{}")
    again, again_table = profile_paths(tmp_path, 0, "steps10-14")
    assert again.name == "rank0-steps10-14-1.pt.trace.json"
    assert again_table.name == "rank0-steps10-14-1-operations.txt"
    assert profile_paths(tmp_path, 1, "steps10-14")[0].name == "rank1-steps10-14.pt.trace.json"
