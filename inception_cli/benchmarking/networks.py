"""Timing networks: ours and timm's built alike, one step function per mode, the FLOPs of a step,
and blocks of steps that alternate between the two networks.

A network figure is the median over `repeats` timed blocks of `steps` steps each, taken after
`warmup` untimed steps (kernel selection, allocator growth, compilation). With `--vs timm` the
blocks of our network and of timm's alternate, A B A B ..., so that a change in machine load
touches both alike; each pair gives one ratio ours/timm and the median ratio is the verdict.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.markup import escape
from torch import nn

from inception_cli import catalog
from inception_cli.benchmarking.settings import BenchSettings
from inception_cli.errors import first_line
from inception_cli.measure.flops import count_flops, logits_of
from inception_cli.measure.peak import peak_memory_mb, synchronize
from inception_cli.models import create_model
from inception_cli.models.fusion import fold_batchnorm

DROP_RATE = 0.2  # the paper's keep probability 0.8, given to timm's network as well


def autocast(settings: BenchSettings) -> AbstractContextManager[Any]:
    if settings.precision == "32":
        return nullcontext()
    return torch.autocast(settings.device, dtype=settings.compute_dtype)


@dataclass
class Network:
    """One network under test, its step function and what was measured of it."""

    label: str  # "ours" or "timm"
    model: nn.Module
    step: Callable[[], None]
    flops_per_step: int
    folded_batchnorm: bool = False
    compile_error: str | None = None
    compile_s: float | None = None  # the first step of the compiled network, compilation included
    block_seconds: list[float] | None = None
    peak_memory_mb: float = 0.0

    def images_per_s(self, batch_size: int, steps: int) -> list[float]:
        return [batch_size * steps / seconds for seconds in self.block_seconds or []]


def build_model(settings: BenchSettings, label: str) -> nn.Module:
    if label == "timm":
        import timm

        name = catalog.entry(settings.model).timm_name
        assert name is not None  # make_settings refuses models without a timm counterpart
        model: nn.Module = timm.create_model(
            name, num_classes=settings.num_classes, drop_rate=DROP_RATE
        )
    else:
        model = create_model(
            settings.model,
            num_classes=settings.num_classes,
            width=settings.width,
            drop_rate=DROP_RATE,
        )
    return model.to(settings.device).to(memory_format=settings.memory_format)


def make_step(model: nn.Module, settings: BenchSettings, mode: str) -> Callable[[], None]:
    """One training step (forward, cross-entropy, backward, SGD) or one inference pass, on a
    fixed random batch that lives on the device, so that only the network is timed."""
    device, size = settings.device, settings.size
    images = torch.randn(settings.batch_size, 3, size, size, device=device)
    images = images.contiguous(memory_format=settings.memory_format)
    if mode == "eval":
        model.eval()

        def infer() -> None:
            with torch.inference_mode(), autocast(settings):
                model(images)

        return infer

    model.train()
    labels = torch.randint(0, settings.num_classes, (settings.batch_size,), device=device)
    # A small learning rate keeps the weights finite over many steps on random data.
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    scaler = torch.amp.GradScaler(device, enabled=settings.precision == "16-mixed")

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(settings):
            loss = F.cross_entropy(logits_of(model(images)), labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    return train_step


def prepare_network(settings: BenchSettings, label: str, mode: str, console: Console) -> Network:
    """Build, count FLOPs, compile if asked, and warm up. A compilation that fails falls back to
    eager mode, says why, and is recorded in the results."""
    model = build_model(settings, label)
    # Our inference network is timed as `inception eval` runs it, BatchNorm folded into the
    # convolutions; timm's as timm ships it. FLOPs are those of the network timed.
    folded = label == "ours" and mode == "eval"
    if folded:
        model = fold_batchnorm(model.eval()).to(memory_format=settings.memory_format)
    images = torch.randn(
        settings.batch_size, 3, settings.size, settings.size, device=settings.device
    )
    flops = count_flops(model, images, train=mode != "eval")
    network = Network(label, model, make_step(model, settings, mode), flops, folded)
    if settings.compile:
        compiled = torch.compile(model)
        network.step = make_step(compiled, settings, mode)  # type: ignore[arg-type]
        try:
            synchronize(settings.device)
            started = time.perf_counter()
            network.step()  # compilation happens here, at the first call
            synchronize(settings.device)
            network.compile_s = time.perf_counter() - started
        except Exception as err:  # torch.compile fails in many ways: no compiler, unsupported op
            network.compile_error = f"{type(err).__name__}: {first_line(err)}"
            console.print(
                f"[yellow]torch.compile failed for {label}, timing eager mode instead: "
                f"{escape(network.compile_error)}[/]"
            )
            network.step = make_step(model, settings, mode)
    for _ in range(settings.warmup):
        network.step()
    synchronize(settings.device)
    return network


def time_block(network: Network, settings: BenchSettings) -> None:
    """Time `steps` steps; record the seconds and the peak memory of this network."""
    if settings.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    synchronize(settings.device)
    start = time.perf_counter()
    for _ in range(settings.steps):
        network.step()
    synchronize(settings.device)
    seconds = time.perf_counter() - start
    network.block_seconds = [*(network.block_seconds or []), seconds]
    network.peak_memory_mb = max(network.peak_memory_mb, peak_memory_mb(settings.device))


def network_record(
    network: Network, settings: BenchSettings, peaks: dict[str, float]
) -> dict[str, Any]:
    rates = network.images_per_s(settings.batch_size, settings.steps)
    images_per_s = statistics.median(rates)
    steps_per_s = images_per_s / settings.batch_size
    gflops_per_s = network.flops_per_step * steps_per_s / 1e9
    peak = peaks[str(settings.compute_dtype).removeprefix("torch.")]
    return {
        "implementation": network.label,
        "images_per_s": images_per_s,
        "images_per_s_blocks": rates,
        "step_time_ms": 1000 / steps_per_s,
        "gflop_per_step": network.flops_per_step / 1e9,
        "gflops_per_s": gflops_per_s,
        "share_of_peak": gflops_per_s / peak,
        "peak_memory_mb": network.peak_memory_mb,
        "folded_batchnorm": network.folded_batchnorm,
        "compiled": settings.compile and network.compile_error is None,
        "compile_error": network.compile_error,
        "compile_s": network.compile_s,
    }


def bench_network(
    settings: BenchSettings, mode: str, peaks: dict[str, float], console: Console
) -> dict[str, Any]:
    """Our network alone, or ours and timm's timed in alternating blocks."""
    contenders = [("ours", settings)]
    if settings.vs == "timm":
        contenders.append(("timm", settings))
    elif settings.vs == "timm-fp32":
        contenders.append(("timm", replace(settings, precision="32", channels_last=False)))
    networks = [prepare_network(s, label, mode, console) for label, s in contenders]
    for _ in range(settings.repeats):
        for network, (_, network_settings) in zip(networks, contenders, strict=True):
            time_block(network, network_settings)
    result: dict[str, Any] = {
        "networks": [network_record(network, settings, peaks) for network in networks]
    }
    if len(networks) == 2:
        ours, reference = networks
        # Same batch and steps in both blocks of a pair: the rate ratio is the inverse time ratio.
        ratios = [
            theirs / own
            for own, theirs in zip(
                ours.block_seconds or [], reference.block_seconds or [], strict=True
            )
        ]
        result["vs"] = {
            "reference": settings.vs,
            "ratios": ratios,
            "median_ratio": statistics.median(ratios),
        }
    return result
