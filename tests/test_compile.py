"""`compile=true` and `--compile`: the compiled training step computes what the eager one does,
and every compiled path says how long its compilation took.

torch.compile takes minutes for these networks on a small CPU, so one test compiles, the
smallest case (Inception-ResNet-v1 at a tenth of its width, 75 px, batch 4); the others
replace compilation by a stand-in that only marks the network compiled, to check that what
depends on it (the reports of the compile time) works. docs/performance.md has the compile
times of every model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from omegaconf import OmegaConf
from rich.console import Console
from torch import nn
from typer.testing import CliRunner

from inception_cli.benchmarking import networks
from inception_cli.benchmarking.report import compiled_cell
from inception_cli.benchmarking.settings import make_settings
from inception_cli.cli import app
from inception_cli.config.compose import compose_train_config
from inception_cli.evaluation.members import Member, Preprocessing
from inception_cli.evaluation.scoring import Scorer
from inception_cli.evaluation.settings import resolve_settings
from inception_cli.training.builders import build_model, build_module
from inception_cli.training.loop import train

TINY = ["debug=tiny", "model=irv1"]


def marked_compiled(module: nn.Module, *args: Any, **kwargs: Any) -> None:
    """Stands in for `nn.Module.compile`: the same calls, marked compiled, nothing compiled."""
    module._compiled_call_impl = module._call_impl


def step_of(compiled: bool, images: torch.Tensor, labels: torch.Tensor) -> tuple[Any, Any]:
    """The loss and gradients of one training step of the LightningModule `inception train`
    builds, its network compiled as `compile=true` does (training/loop.py)."""
    # Dropout off: inductor draws its own random numbers, not eager mode's.
    cfg = compose_train_config([*TINY, "model.drop_rate=0.0"])
    torch.manual_seed(0)
    model = build_model(cfg.model)
    if compiled:
        model.compile()
    module = build_module(cfg, model)
    loss, _ = module.compute_loss(module(images), labels)
    loss.backward()
    return loss.detach(), {name: p.grad for name, p in module.model.named_parameters()}


@pytest.mark.slow
def test_a_compiled_training_step_equals_the_eager_one() -> None:
    images = torch.rand(4, 3, 75, 75, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([0, 1, 2, 3])
    eager_loss, eager = step_of(False, images, labels)
    try:
        compiled_loss, compiled = step_of(True, images, labels)
    finally:
        torch._dynamo.reset()
    torch.testing.assert_close(compiled_loss, eager_loss, rtol=1e-5, atol=0)
    assert compiled.keys() == eager.keys() and len(eager) > 100
    for name, grad in eager.items():
        # The fused kernels sum in another order: each gradient agrees to 1e-3 of its largest
        # entry (measured: 2.5e-4 at most; the whole gradient to 5e-5 of its norm).
        scale = float(grad.abs().max())
        torch.testing.assert_close(compiled[name], grad, rtol=0, atol=1e-3 * scale, msg=name)


@pytest.mark.slow
def test_a_compiled_evaluation_scores_as_the_eager_one() -> None:
    torch.manual_seed(0)
    network = build_model(compose_train_config(TINY).model)
    preprocessing = Preprocessing(75, 0.875, "bilinear", mean=(0.5,) * 3, std=(0.5,) * 3)
    member = Member("irv1", network, preprocessing, num_classes=network.num_classes)
    inputs = torch.rand(4, 3, 75, 75, generator=torch.Generator().manual_seed(1))
    probabilities = {}
    for compiled in (False, True):
        settings = resolve_settings(torch.device("cpu"), "32", True, 4, compile=compiled)
        scorer = Scorer([member], 1, settings)
        try:
            probabilities[compiled] = scorer._forward(
                scorer.models[0], inputs.to(memory_format=settings.memory_format)
            )
        finally:
            torch._dynamo.reset()
    assert scorer.timing.compile_s > 0
    torch.testing.assert_close(probabilities[True], probabilities[False], rtol=1e-4, atol=1e-6)


def test_a_compiled_run_says_how_long_its_first_step_took(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(nn.Module, "compile", marked_compiled)
    cfg = compose_train_config([*TINY, "compile=true", f"paths.runs_dir={tmp_path}"])
    summary = train(cfg, tmp_path / "run")
    assert summary["status"] == "finished"
    said = [line for line in capsys.readouterr().out.splitlines() if "compiled in" in line]
    assert len(said) == 1 and said[0].endswith("s (the first training step, compilation included)")


def test_an_eager_run_says_nothing_of_compiling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = compose_train_config([*TINY, f"paths.runs_dir={tmp_path}"])
    train(cfg, tmp_path / "run")
    assert "compiled in" not in capsys.readouterr().out


def test_the_bench_records_and_shows_the_compile_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[nn.Module] = []
    monkeypatch.setattr(torch, "compile", lambda model, **_: calls.append(model) or model)
    settings = make_settings(
        ["model=irv1", "width=0.1", "num_classes=4", "warmup=0", "steps=1"],
        mode="train",
        batch_size=2,
        size=75,
        precision="32",
        channels_last=True,
        compile=True,
        vs=None,
        repeats=1,
    )
    network = networks.prepare_network(settings, "ours", "train", Console(quiet=True))
    assert calls == [network.model]
    assert network.compile_s is not None and network.compile_s > 0
    networks.time_block(network, settings)
    row = networks.network_record(network, settings, {"float32": 1e3})
    assert row["compiled"] and row["compile_s"] == network.compile_s
    assert compiled_cell(row) == f"yes, {network.compile_s:.0f} s"
    assert compiled_cell({**row, "compiled": False, "compile_error": "boom"}) == "failed"


class Doubling(nn.Module):
    num_classes = 3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :3] * 2


def test_a_compiled_evaluation_times_its_first_pass_alone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(nn.Module, "compile", marked_compiled)
    identity = Preprocessing(8, 1.0, "bilinear", mean=(0.0,), std=(1.0,))
    member = Member("doubling", Doubling(), identity, num_classes=3, in_chans=1)
    settings = resolve_settings(torch.device("cpu"), "32", False, None, compile=True)
    scorer = Scorer([member], 1, settings)
    (model,) = scorer.models
    assert model._compiled_call_impl is not None
    inputs = torch.rand(2, 1, 8, 8)
    first = scorer._forward(model, inputs)
    torch.testing.assert_close(first, (inputs.flatten(1)[:, :3] * 2).softmax(dim=1))
    compiled_s = scorer.timing.compile_s
    scorer._forward(model, inputs)
    assert 0 < compiled_s == scorer.timing.compile_s < scorer.timing.forward_s
    assert capsys.readouterr().out.count("compiled in") == 1
    eager = Scorer([member], 1, resolve_settings(torch.device("cpu"), "32", False, None))
    assert eager.models[0]._compiled_call_impl is None
    eager._forward(eager.models[0], inputs)
    assert eager.timing.compile_s == 0.0


@pytest.mark.parametrize("compiled", [True, False], ids=["--compile", "eager"])
def test_eval_compile_compiles_and_reports_its_first_passes(
    compiled: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(nn.Module, "compile", marked_compiled)
    cfg = compose_train_config([*TINY, f"paths.runs_dir={tmp_path}"])
    train(cfg, tmp_path / "run")
    (tmp_path / "run" / ".hydra").mkdir()
    OmegaConf.save(cfg, tmp_path / "run" / ".hydra" / "config.yaml")  # as Hydra's run would
    capsys.readouterr()
    result = CliRunner().invoke(
        app, ["eval", str(tmp_path / "run"), "--batch-size", "4", *(["--compile"] * compiled)]
    )
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "run" / "eval" / "1crop.json").read_text())
    throughput = record["throughput"]
    assert throughput["compiled"] is compiled
    said = " ".join((result.output + capsys.readouterr().out).split())  # unwrapped
    if compiled:
        # One network, two batch sizes (4 and the last 4): compiled once, at the first pass.
        assert 0 < throughput["compile_time_s"] <= throughput["wall_time_s"]
        assert said.count("compiled in") == 1
        assert "compiled: " in said and "s of first passes included" in said
    else:
        assert throughput["compile_time_s"] == 0.0 and "compiled" not in said
