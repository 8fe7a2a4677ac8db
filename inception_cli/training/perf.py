"""How fast a run trains, logged every `trainer.log_every_n_steps` optimizer steps:

- `perf/images_per_s`: training images per second, all ranks together;
- `perf/mfu`: model FLOPs per second of one device over its peak (benchmarking/peak.py: a GPU's
  datasheet figure, a CPU's matmul peak measured at the start, as `inception bench` does), the
  FLOPs of a training step counted once by the tool's counter (benchmarking/flops.py);
- `perf/data_wait_share`: the share of the time spent waiting for the next batch;
- `perf/peak_gflops`: the peak `perf/mfu` divides by (on a CPU measured in this process, so
  that it can be set beside another process's measurement).

Each figure covers the steps since the previous one, validation left out. They are logged with
`pl_module.log`, so they reach every logger and, through `StepRows`, metrics.csv: this callback
must come before `StepRows`, and its `step_end` marker after every other callback, so that the
time the other callbacks take (checkpoints) is not counted as waiting for data.

With `compile=true` the first training step of a session compiles the network: its time,
compilation included, is printed ("compiled in N s") and stays in the first window's figures.
`StepProfiler` is the profiler of the `debug=profile` preset (docs/performance.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn

from inception_cli.rundir import metrics
from inception_cli.training.csv_logger import is_logging_step

COMPUTE_DTYPES = {"bf16": torch.bfloat16, "16": torch.float16, "64": torch.float64}


def compute_dtype(precision: str) -> torch.dtype:
    """The dtype matmuls and convolutions run in under Lightning's `precision`."""
    return COMPUTE_DTYPES.get(str(precision).split("-")[0], torch.float32)


def training_flops_per_image(model_factory: Callable[[], nn.Module], batch: torch.Tensor) -> float:
    """FLOPs of a forward and backward pass of one image shaped like `batch`'s, counted on the
    meta device: nothing is allocated or computed, and no random stream moves."""
    from inception_cli.measure.flops import count_flops

    # Two images: BatchNorm in training mode refuses a batch of one at 1x1 feature maps.
    with torch.device("meta"):
        model = model_factory()
        return count_flops(model, torch.empty(2, *batch.shape[1:]), train=True) / 2


def batch_images(batch: Any) -> torch.Tensor:
    return batch[0] if isinstance(batch, list | tuple) else batch


class StepEnd(pl.Callback):
    """Marks the end of a step's work, after every other callback of the step."""

    def __init__(self, perf: PerformanceMetrics) -> None:
        self.perf = perf

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.is_global_zero:
            self.perf.ready_at = time.perf_counter()


class PerformanceMetrics(pl.Callback):
    """Logs PERF_KEYS from global rank 0, with `StepRows`'s cadence. `model_factory` builds the
    trained network anew (on the meta device, for counting its FLOPs)."""

    def __init__(self, model_factory: Callable[[], nn.Module], compiled: bool = False) -> None:
        self.model_factory = model_factory
        self.compiled = compiled  # compile=true: the first step compiles the network
        self.step_end = StepEnd(self)
        self.peak_flops: float | None = None
        self.flops_per_image: float | None = None
        self.ready_at: float | None = None  # when the previous step's work ended
        self.compile_started: float | None = None  # the first step of a compiled network
        self._reset_window(time.perf_counter())

    def _reset_window(self, now: float) -> None:
        self.window_start = now
        self.images = 0
        self.waited_s = 0.0
        self.left_out_s = 0.0  # validation and the measurements of this callback
        self.validation_start: float | None = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.is_global_zero:
            from inception_cli.measure.peak import device_peak_flops

            dtype = compute_dtype(trainer.precision)
            self.peak_flops = device_peak_flops(trainer.strategy.root_device, dtype)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # The first batch of an epoch is fetched after this hook (new loader iterator, workers).
        self.ready_at = time.perf_counter()
        if self.images == 0:
            self._reset_window(self.ready_at)

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if not trainer.is_global_zero:
            return
        now = time.perf_counter()
        if self.ready_at is not None:
            self.waited_s += now - self.ready_at
            self.ready_at = None
        if self.flops_per_image is None:
            self.flops_per_image = training_flops_per_image(self.model_factory, batch_images(batch))
            self.left_out_s += time.perf_counter() - now
            if self.compiled:
                self.compile_started = time.perf_counter()  # torch.compile works in this step

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, *_: Any
    ) -> None:
        if not trainer.is_global_zero:
            return
        if self.compile_started is not None:
            if trainer.strategy.root_device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - self.compile_started
            self.compile_started = None
            print(f"compiled in {seconds:.1f} s (the first training step, compilation included)")
        self.images += len(batch_images(batch))
        if trainer.fit_loop._should_accumulate() or not is_logging_step(trainer):
            return
        if trainer.strategy.root_device.type == "cuda":
            torch.cuda.synchronize()  # the window ends when the device has done its work
        now = time.perf_counter()
        values = self.window_metrics(now - self.window_start - self.left_out_s, trainer.world_size)
        for key, value in values.items():
            pl_module.log(key, value, rank_zero_only=True, on_step=True, on_epoch=False)
        self._reset_window(now)

    def window_metrics(self, seconds: float, world_size: int) -> dict[str, float]:
        """PERF_KEYS over the window: its images, seconds and waits (those of rank 0, which
        stand for every rank's)."""
        seconds = max(seconds, 1e-9)
        device_flops_per_s = (self.flops_per_image or 0.0) * self.images / seconds
        return {
            metrics.PERF_IMAGES_PER_S: self.images * world_size / seconds,
            metrics.PERF_MFU: device_flops_per_s / self.peak_flops if self.peak_flops else 0.0,
            metrics.PERF_DATA_WAIT_SHARE: min(1.0, self.waited_s / seconds),
            metrics.PERF_PEAK_GFLOPS: (self.peak_flops or 0.0) / 1e9,
        }

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.validation_start = time.perf_counter()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.validation_start is not None:
            now = time.perf_counter()
            self.left_out_s += now - self.validation_start
            self.validation_start = None
            self.ready_at = now


class StepProfiler(pl.Callback):
    """`debug=profile`: torch's profiler over `active` training steps, after `wait` steps left
    out (compilation, cuDNN's algorithm search, the allocator's growth) and `warmup` steps
    recorded and dropped (the profiler's own start). The steps are counted from the first of
    this session. Writes, in the folder `profile` of the run directory,
    `rank<N>-steps<A>-<B>.pt.trace.json` (Chrome's trace format, which Perfetto,
    chrome://tracing and TensorBoard's profiler plugin open) and `...-operations.txt`, the
    operations that took the most self time (device time on a GPU); rank 0 prints that table
    when training ends."""

    def __init__(
        self, wait: int = 8, warmup: int = 2, active: int = 5, row_limit: int = 25
    ) -> None:
        self.wait, self.warmup, self.active, self.row_limit = wait, warmup, active, row_limit
        self.profiler: Any = None
        self.first_step = 0
        self.report: str | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        from torch.profiler import ProfilerActivity, profile, schedule

        cuda = trainer.strategy.root_device.type == "cuda"
        self.first_step = trainer.global_step
        self.profiler = profile(
            activities=[ProfilerActivity.CPU, *([ProfilerActivity.CUDA] if cuda else [])],
            schedule=schedule(wait=self.wait, warmup=self.warmup, active=self.active, repeat=1),
            on_trace_ready=lambda profiler: self._write(trainer, profiler, cuda),
        )
        self.profiler.start()

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if self.profiler is not None:
            self.profiler.step()

    def _write(self, trainer: pl.Trainer, profiler: Any, cuda: bool) -> None:
        first = self.first_step + self.wait + self.warmup
        steps = f"steps {first}-{first + self.active - 1}"
        trace, table_file = profile_paths(
            Path(trainer.default_root_dir), trainer.global_rank, steps.replace(" ", "")
        )
        profiler.export_chrome_trace(str(trace))
        sort_by = "self_device_time_total" if cuda else "self_cpu_time_total"
        table = profiler.key_averages().table(sort_by=sort_by, row_limit=self.row_limit)
        table_file.write_text(table)
        self.report = (
            f"profiled training {steps}, operations by self {'device' if cuda else 'CPU'} "
            f"time:\n{table}\ntrace: {trace} (Perfetto: https://ui.perfetto.dev, "
            "chrome://tracing, or TensorBoard's profiler plugin)"
        )

    def _stop(self) -> None:
        if self.profiler is not None:
            self.profiler.stop()
            self.profiler = None

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._stop()
        if not trainer.is_global_zero:
            return
        if self.report is None:
            last = self.first_step + self.wait + self.warmup + self.active - 1
            self.report = (
                f"debug=profile: training ended at step {trainer.global_step}, before the "
                f"profiled steps had run (up to step {last}); raise trainer.max_steps"
            )
        print(self.report, flush=True)

    def on_exception(self, trainer: pl.Trainer, *args: Any) -> None:
        self._stop()


def profile_paths(run_dir: Path, rank: int, steps: str) -> tuple[Path, Path]:
    """<run dir>/profile/rank<N>-<steps>.pt.trace.json and its -operations.txt; a number
    after the steps when those steps were profiled before (a run resumed twice from one
    checkpoint), so nothing is replaced. Each rank has its own names: no rank waits for
    another."""
    folder = run_dir / "profile"
    folder.mkdir(parents=True, exist_ok=True)
    number = 0
    while True:
        stem = f"rank{rank}-{steps}" + (f"-{number}" if number else "")
        trace = folder / f"{stem}.pt.trace.json"
        if not trace.exists():
            return trace, folder / f"{stem}-operations.txt"
        number += 1
