"""The Trainer's strategy: no DDP around a single process, and Lightning's DDP variants with the
network wrapped on the current stream (training/strategies.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from lightning.pytorch.strategies import DDPStrategy, SingleDeviceStrategy
from omegaconf import OmegaConf

from inception_cli.config.compose import compose_train_config
from inception_cli.training import strategies
from inception_cli.training.builders import build_trainer
from inception_cli.training.strategies import CurrentStreamDDPStrategy, resolve_strategy

CPU = ["trainer.accelerator=cpu", "trainer.precision=32", "callbacks.progress_bar=none"]


def trainer_for(overrides: list[str], tmp_path: Path):
    cfg = compose_train_config([*overrides, *CPU, f"paths.runs_dir={tmp_path}"])
    return build_trainer(cfg, tmp_path, callbacks=[], loggers=[])


def test_paper_preset_on_one_device_trains_without_ddp(tmp_path: Path) -> None:
    # The `8gpu` preset asks for `ddp`; on one device the wrapper would only add work.
    trainer = trainer_for(["trainer=8gpu", "trainer.devices=1"], tmp_path)
    assert type(trainer.strategy) is SingleDeviceStrategy
    assert trainer.world_size == 1


def test_ddp_on_two_processes_wraps_on_the_current_stream(tmp_path: Path) -> None:
    trainer = trainer_for(["trainer=8gpu", "trainer.devices=2"], tmp_path)
    assert type(trainer.strategy) is CurrentStreamDDPStrategy
    assert trainer.world_size == 2 and trainer.strategy._start_method == "popen"


@pytest.mark.parametrize(
    ("name", "devices", "nodes", "start_method", "find_unused"),
    [
        ("ddp", 2, 1, "popen", None),
        ("auto", 4, 1, "popen", None),
        ("ddp", 1, 2, "popen", None),
        ("ddp_spawn", 2, 1, "spawn", None),
        ("ddp_find_unused_parameters_true", 2, 1, "popen", True),
    ],
)
def test_every_ddp_variant_keeps_its_arguments(
    name: str, devices: int, nodes: int, start_method: str, find_unused: bool | None
) -> None:
    cfg = OmegaConf.create({"strategy": name, "devices": devices, "num_nodes": nodes})
    strategy = resolve_strategy(cfg)
    assert type(strategy) is CurrentStreamDDPStrategy
    assert strategy._start_method == start_method
    assert strategy._ddp_kwargs.get("find_unused_parameters") == find_unused


@pytest.mark.parametrize(
    ("name", "devices", "expected"),
    [("auto", 1, "auto"), ("ddp", 1, "auto"), ("ddp_spawn", 1, "auto"), ("fsdp", 2, "fsdp")],
)
def test_other_choices_pass_through(name: str, devices: int, expected: str) -> None:
    cfg = OmegaConf.create({"strategy": name, "devices": devices, "num_nodes": 1})
    assert resolve_strategy(cfg) == expected


def test_a_strategy_given_by_target_is_left_alone() -> None:
    cfg = OmegaConf.create(
        {"strategy": {"_target_": "lightning.pytorch.strategies.DDPStrategy"}, "devices": 1}
    )
    assert resolve_strategy(cfg) == cfg.strategy


def test_ddp_wrapper_is_built_without_a_side_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lightning 2.6 builds DDP under `torch.cuda.stream(torch.cuda.Stream())`, which puts every
    parameter's AccumulateGrad node on that stream; ours makes no stream and enters none."""

    def no_stream(*args: object, **kwargs: object) -> None:
        raise AssertionError("the DDP wrapper must be built on the current stream")

    built: dict[str, object] = {}

    def fake_ddp(module: torch.nn.Module, device_ids: list[int] | None, **kwargs: object):
        built.update(module=module, device_ids=device_ids, **kwargs)
        return "wrapped"

    monkeypatch.setattr(torch.cuda, "Stream", no_stream)
    monkeypatch.setattr(torch.cuda, "stream", no_stream)
    monkeypatch.setattr(strategies, "DistributedDataParallel", fake_ddp)
    strategy = CurrentStreamDDPStrategy(find_unused_parameters=True)
    monkeypatch.setattr(strategy, "determine_ddp_device_ids", lambda: [0])
    network = torch.nn.Linear(2, 2)
    assert strategy._setup_model(network) == "wrapped"
    assert built == {"module": network, "device_ids": [0], "find_unused_parameters": True}
    assert isinstance(strategy, DDPStrategy)  # Lightning treats it as its own DDP
