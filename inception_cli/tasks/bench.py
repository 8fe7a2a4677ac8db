"""`inception bench`: training, inference and input-pipeline throughput, optionally against timm.

A network figure is the median over `repeats` timed blocks of `steps` steps each, taken after
`warmup` untimed steps (kernel selection, allocator growth, compilation). With `--vs timm` the
blocks of our network and of timm's alternate, A B A B ..., so that a change in machine load
touches both alike; each pair gives one ratio ours/timm and the median ratio is the verdict.

Achieved GFLOP/s divide the FLOPs of one step (torch's FlopCounterMode: 2 per multiply-add;
forward for eval, forward and backward for train) by the step time, and are set against a
square-matmul peak measured in the same process, so that a figure says how much of the
hardware a network uses, not only how fast it is. docs/performance.md explains every column.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

from inception_cli import runs
from inception_cli.errors import InputError
from inception_cli.hardware import cpu_model, native_bf16
from inception_cli.models import create_model, list_models, model_info
from inception_cli.models.fusion import fold_batchnorm

MODES = ("train", "eval", "data", "all")
NETWORK_MODES = ("train", "eval")
PRECISIONS = ("32", "bf16-mixed", "16-mixed")
# timm: timm's network with the same settings as ours; timm-fp32: timm's network in plain float32
# and NCHW (what a timm user gets by default), against ours with the settings given.
REFERENCES = ("timm", "timm-fp32")
AUTOCAST_DTYPES = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}
DROP_RATE = 0.2  # the paper's keep probability 0.8, given to timm's network as well
BENCH_DIR = Path("runs") / "bench"
OVERRIDE_HELP = (
    "model=<name> width=<float> num_classes=<int> steps=<int> warmup=<int> "
    "workers=<int,int,...> data.root=<folder> peak_seconds=<float>"
)


@dataclass(frozen=True)
class BenchSettings:
    model: str = "v4"
    width: float = 1.0
    num_classes: int = 1000
    mode: str = "train"
    batch_size: int = 8
    size: int = 299
    size_given: bool = False  # data mode keeps each data config's own input size unless given
    precision: str = "32"
    channels_last: bool = False
    compile: bool = False
    vs: str | None = None
    repeats: int = 5
    steps: int = 5
    warmup: int = 3
    workers: tuple[int, ...] = (0,)
    data_root: str | None = None
    peak_seconds: float = 2.0
    device: str = "cpu"

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format

    @property
    def compute_dtype(self) -> torch.dtype:
        return AUTOCAST_DTYPES.get(self.precision, torch.float32)


# ----------------------------------------------------------------------------- settings


def _number(key: str, text: str, kind: type[int] | type[float], minimum: float) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise InputError(
            f"{key}={text!r} must be {'an integer' if kind is int else 'a number'}"
        ) from None
    if value < minimum:
        raise InputError(f"{key}={text} must be at least {minimum:g}")
    return value


def default_workers() -> tuple[int, ...]:
    """0 (loading in the main process) and powers of two up to the number of CPU cores."""
    cores = os.cpu_count() or 1
    counts = [0] + [2**i for i in range(8) if 2**i <= cores]
    return tuple(counts)


def parse_overrides(tokens: Sequence[str]) -> dict[str, Any]:
    """`key=value` tokens into settings; anything else says which keys exist."""
    parsed: dict[str, Any] = {}
    for token in tokens:
        key, equals, value = token.partition("=")
        if not equals or not value:
            raise InputError(f"unknown argument {token!r}; `inception bench` takes {OVERRIDE_HELP}")
        if key == "model":
            if value not in list_models():
                raise InputError(
                    f"unknown model {value!r}; choose one of: {', '.join(list_models())}"
                )
            parsed["model"] = value
        elif key == "width":
            parsed["width"] = _number(key, value, float, 0.01)
        elif key in ("num_classes", "steps"):
            parsed[key] = _number(key, value, int, 1)
        elif key == "warmup":
            parsed[key] = _number(key, value, int, 0)
        elif key == "peak_seconds":
            parsed[key] = _number(key, value, float, 0.0)
        elif key == "workers":
            counts = [_number(key, part, int, 0) for part in value.split(",")]
            parsed["workers"] = tuple(dict.fromkeys(counts))
        elif key == "data.root":
            parsed["data_root"] = value
        else:
            raise InputError(f"unknown setting {key!r}; `inception bench` takes {OVERRIDE_HELP}")
    return parsed


def make_settings(overrides: Sequence[str], **options: Any) -> BenchSettings:
    """Check the command's options and overrides together; InputError on the first problem."""
    parsed = parse_overrides(overrides)
    mode, precision, vs = options["mode"], str(options["precision"]), options["vs"]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if precision == "auto":  # what `inception train` uses on this hardware
        precision = "bf16-mixed" if native_bf16(device) else "32"
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}; use one of: {', '.join(MODES)}")
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision {precision!r}; use one of: {', '.join(PRECISIONS)}")
    if precision == "16-mixed" and device == "cpu":
        raise InputError("--precision 16-mixed needs a GPU; on a CPU use bf16-mixed or 32")
    if precision == "bf16-mixed" and device == "cuda" and not torch.cuda.is_bf16_supported():
        raise InputError("this GPU has no bf16; use --precision 16-mixed or 32")
    name = parsed.get("model", "v4")
    info = model_info(name)
    if vs is not None:
        if vs not in REFERENCES:
            raise InputError(f"unknown reference --vs {vs!r}; use one of: {', '.join(REFERENCES)}")
        if info.timm_name is None:
            with_timm = [m for m in list_models() if model_info(m).timm_name]
            raise InputError(
                f"--vs timm: {name} has no timm counterpart; compare {', '.join(with_timm)}"
            )
        if parsed.get("width", 1.0) != 1.0:
            raise InputError("--vs timm needs width=1 (timm's networks have no width multiplier)")
        if mode == "data":
            raise InputError("--vs timm compares networks; use --mode train, eval or all")
    size = options["size"] if options["size"] is not None else info.default_input_size
    if size < info.min_input_size:
        raise InputError(
            f"--size {size} is below the smallest input of {name} ({info.min_input_size}); "
            f"use --size {info.min_input_size} or more"
        )
    batch_size, repeats = options["batch_size"], options["repeats"]
    if batch_size < 1 or repeats < 1:
        raise InputError(f"--batch-size {batch_size} and --repeats {repeats} must be at least 1")
    if batch_size < 2 and mode in ("train", "all"):
        raise InputError("--batch-size 1 cannot train: batch norm needs 2 or more images per step")
    return BenchSettings(
        mode=mode,
        batch_size=batch_size,
        size=size,
        size_given=options["size"] is not None,
        precision=precision,
        channels_last=bool(options["channels_last"]),
        compile=bool(options["compile"]),
        vs=vs,
        repeats=repeats,
        device=device,
        workers=parsed.pop("workers", default_workers()),
        **parsed,
    )


# ----------------------------------------------------------------------------- measuring


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def autocast(settings: BenchSettings) -> AbstractContextManager[Any]:
    if settings.precision == "32":
        return nullcontext()
    return torch.autocast(settings.device, dtype=settings.compute_dtype)


def peak_memory_mb(device: str) -> float:
    """GPU: the most bytes allocated since the last reset. CPU: the process's peak RSS."""
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max_rss / 2**20 if sys.platform == "darwin" else max_rss / 2**10  # bytes vs KiB


def matmul_peak_gflops(device: str, dtype: torch.dtype, seconds: float) -> float:
    """GFLOP/s of large square matrix products: what the device can do at best in `dtype`."""
    n = 8192 if device == "cuda" else 2048
    per_sync = 10 if device == "cuda" else 1
    a, b = (torch.randn(n, n, device=device).to(dtype) for _ in range(2))
    out = torch.mm(a, b)
    synchronize(device)
    products, start = 0, time.perf_counter()
    while True:
        for _ in range(per_sync):
            torch.mm(a, b, out=out)
        synchronize(device)
        products += per_sync
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and products >= 2:
            return 2 * n**3 * products / elapsed / 1e9


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


@dataclass
class Network:
    """One network under test, its step function and what was measured of it."""

    label: str  # "ours" or "timm"
    model: nn.Module
    step: Callable[[], None]
    flops_per_step: int
    folded_batchnorm: bool = False
    compile_error: str | None = None
    block_seconds: list[float] | None = None
    peak_memory_mb: float = 0.0

    def images_per_s(self, batch_size: int, steps: int) -> list[float]:
        return [batch_size * steps / seconds for seconds in self.block_seconds or []]


def build_model(settings: BenchSettings, label: str) -> nn.Module:
    if label == "timm":
        import timm

        name = model_info(settings.model).timm_name
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


def logits_of(output: torch.Tensor | tuple[torch.Tensor, ...]) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


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


def count_step_flops(model: nn.Module, settings: BenchSettings, mode: str) -> int:
    """FLOPs of one step of the eager model: forward (eval) or forward and backward (train)."""
    size = settings.size
    images = torch.randn(settings.batch_size, 3, size, size, device=settings.device)
    with FlopCounterMode(display=False) as counter:
        if mode == "eval":
            with torch.inference_mode():
                model.eval()(images)
        else:
            labels = torch.zeros(settings.batch_size, dtype=torch.long, device=settings.device)
            F.cross_entropy(logits_of(model.train()(images)), labels).backward()
            model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


def prepare_network(settings: BenchSettings, label: str, mode: str, console: Console) -> Network:
    """Build, count FLOPs, compile if asked, and warm up. A compilation that fails falls back to
    eager mode, says why, and is recorded in the results."""
    model = build_model(settings, label)
    # Our inference network is timed as `inception eval` runs it, BatchNorm folded into the
    # convolutions; timm's as timm ships it. FLOPs are those of the network timed.
    folded = label == "ours" and mode == "eval"
    if folded:
        model = fold_batchnorm(model.eval()).to(memory_format=settings.memory_format)
    flops = count_step_flops(model, settings, mode)
    network = Network(label, model, make_step(model, settings, mode), flops, folded)
    if settings.compile:
        compiled = torch.compile(model)
        network.step = make_step(compiled, settings, mode)  # type: ignore[arg-type]
        try:
            network.step()  # compilation happens here, at the first call
        except Exception as err:  # torch.compile fails in many ways: no compiler, unsupported op
            network.compile_error = first_line(err)
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


# ----------------------------------------------------------------------------- input pipeline


def write_synthetic_jpegs(root: Path, count: int, classes: int = 4) -> None:
    """`count` JPEGs of ImageNet's typical 375x500 in train/<class>/: smooth random content,
    so that files and decoding cost are close to those of photographs, not of noise."""
    from torchvision.io import encode_jpeg

    generator = torch.Generator().manual_seed(0)
    for index in range(count):
        folder = root / "train" / f"class_{index % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        coarse = torch.rand(1, 3, 12, 16, generator=generator) * 255
        image = F.interpolate(coarse, size=(375, 500), mode="bicubic", align_corners=False)
        image = image + torch.randn(image.shape, generator=generator) * 6
        jpeg = encode_jpeg(image[0].clamp(0, 255).to(torch.uint8), quality=90)
        (folder / f"{index:05d}.JPEG").write_bytes(jpeg.numpy().tobytes())


def data_config(name: str, settings: BenchSettings, root: str | None = None) -> dict[str, Any]:
    from omegaconf import OmegaConf

    from inception_cli.config import compose_train_config

    cfg = OmegaConf.to_container(compose_train_config([f"data={name}"]).data, resolve=True)
    assert isinstance(cfg, dict)
    cfg["batch_size"] = settings.batch_size
    if settings.size_given:
        cfg["input_size"] = settings.size
    if root is not None:
        cfg["root"] = root
        train_dir = Path(root).expanduser() / "train"
        if train_dir.is_dir():  # any number of classes: labels do not matter for speed
            cfg["num_classes"] = max(1, sum(1 for entry in train_dir.iterdir() if entry.is_dir()))
    return {str(key): value for key, value in cfg.items()}


def endless(loader: DataLoader) -> Iterator[Any]:
    while True:
        yield from loader


def bench_loader(
    dataset: Dataset, cfg: dict[str, Any], workers: int, settings: BenchSettings
) -> dict[str, Any]:
    from inception_cli.lit.datamodule import build_datamodule

    datamodule = build_datamodule({**cfg, "num_workers": workers})
    datamodule.train_set = dataset  # built once for all worker counts
    loader = datamodule.train_dataloader()
    batches = endless(loader)

    def take(count: int) -> None:
        for _ in range(count):
            images, _labels = next(batches)
            images.to(settings.device, non_blocking=True)
        synchronize(settings.device)

    take(max(1, settings.warmup))  # worker start-up and the first batches are not timed
    rates = []
    for _ in range(settings.repeats):
        start = time.perf_counter()
        take(settings.steps)
        rates.append(settings.batch_size * settings.steps / (time.perf_counter() - start))
    return {
        "workers": workers,
        "images_per_s": statistics.median(rates),
        "images_per_s_blocks": rates,
        "pin_memory": datamodule.pin_memory,
        "input_size": int(cfg["input_size"]),
    }


def bench_data(settings: BenchSettings, console: Console) -> list[dict[str, Any]]:
    """Images/s of the embedded dataset's loader and of a JPEG folder's, per worker count."""
    from inception_cli.data import build_dataset

    results = []
    with tempfile.TemporaryDirectory(prefix="inception-bench-") as scratch:
        root = settings.data_root
        if root is None:
            # Enough distinct files for every timed batch, so no image is read twice from cache.
            count = settings.batch_size * (
                max(1, settings.warmup) + settings.steps * settings.repeats
            )
            console.print(f"writing {count} synthetic JPEGs to a temporary folder")
            write_synthetic_jpegs(Path(scratch), count)
            root = scratch
        sources = [
            ("embedded", data_config("embedded", settings)),
            (
                "jpeg folder" if settings.data_root else "synthetic jpegs",
                data_config("imagenet", settings, root),
            ),
        ]
        for source, cfg in sources:
            dataset = build_dataset(cfg, "train")
            for workers in settings.workers:
                row = bench_loader(dataset, cfg, workers, settings)
                results.append({"dataset": source, **row})
    return results


# ----------------------------------------------------------------------------- report


def environment(settings: BenchSettings) -> dict[str, Any]:
    cuda = settings.device == "cuda"
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": settings.device,
        "device_name": torch.cuda.get_device_name() if cuda else cpu_model(),
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cudnn_benchmark": torch.backends.cudnn.benchmark if cuda else None,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def settings_record(settings: BenchSettings) -> dict[str, Any]:
    return {
        "model": settings.model,
        "width": settings.width,
        "num_classes": settings.num_classes,
        "mode": settings.mode,
        "batch_size": settings.batch_size,
        "size": settings.size,
        "precision": settings.precision,
        "channels_last": settings.channels_last,
        "compile": settings.compile,
        "vs": settings.vs,
        "repeats": settings.repeats,
        "steps": settings.steps,
        "warmup": settings.warmup,
        "workers": list(settings.workers),
        "data_root": settings.data_root,
        "peak_seconds": settings.peak_seconds,
    }


def print_networks(
    console: Console, mode: str, result: dict[str, Any], settings: BenchSettings
) -> None:
    memory = "peak GPU memory allocated" if settings.device == "cuda" else "peak process RSS"
    dtype = str(settings.compute_dtype).removeprefix("torch.")
    table = Table(
        title=f"{mode}: {settings.model} width {settings.width:g}, {settings.size} px, "
        f"batch {settings.batch_size}, precision {settings.precision}"
        + (", channels_last" if settings.channels_last else ""),
        caption=f"GFLOP: one {'training step' if mode == 'train' else 'forward pass'}; "
        f"%peak: of the {dtype} matmul peak; MiB: {memory}"
        + ("; ours: BatchNorm folded into the convolutions" if mode == "eval" else ""),
        box=box.SIMPLE_HEAD,
    )
    table.add_column("network", no_wrap=True)
    for column in ("img/s", "ms/step", "GFLOP", "GFLOP/s", "%peak", "MiB", "compiled"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in result["networks"]:
        table.add_row(
            row["implementation"],
            f"{row['images_per_s']:.1f}",
            f"{row['step_time_ms']:.1f}",
            f"{row['gflop_per_step']:.2f}",
            f"{row['gflops_per_s']:.1f}",
            f"{100 * row['share_of_peak']:.1f}",
            f"{row['peak_memory_mb']:.0f}",
            "yes" if row["compiled"] else ("failed" if row["compile_error"] else "no"),
        )
    console.print(table)
    if "vs" in result:
        ratios = ", ".join(f"{ratio:.3f}" for ratio in result["vs"]["ratios"])
        median = result["vs"]["median_ratio"]
        console.print(f"ours/timm images/s per pair: {ratios}; median [bold]{median:.3f}[/]")


def print_data(console: Console, rows: list[dict[str, Any]], settings: BenchSettings) -> None:
    table = Table(title=f"data: training loader, batch {settings.batch_size}", box=box.SIMPLE_HEAD)
    for column in ("dataset", "input px", "workers", "pinned", "images/s"):
        table.add_column(column, justify="left" if column == "dataset" else "right")
    for row in rows:
        table.add_row(
            row["dataset"],
            str(row["input_size"]),
            str(row["workers"]),
            "yes" if row["pin_memory"] else "no",
            f"{row['images_per_s']:.1f}",
        )
    console.print(table)


def output_path(settings: BenchSettings, output: Path | None) -> Path:
    """--output, or runs/bench/<model>-<mode>-<time>.json; if the file exists, a -1, -2 ...
    suffix keeps it: figures are never overwritten."""
    if output is None:
        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        output = BENCH_DIR / f"{settings.model}-{settings.mode}-{stamp}.json"
    candidate, number = output, 0
    while candidate.exists():
        number += 1
        candidate = output.with_name(f"{output.stem}-{number}{output.suffix}")
    return candidate


def run_bench(
    overrides: list[str],
    *,
    mode: str,
    batch_size: int,
    size: int | None,
    precision: str,
    channels_last: bool,
    compile: bool,
    vs: str | None,
    repeats: int,
    output: Path | None,
    console: Console | None = None,
) -> dict[str, Any]:
    """Measure, print a table per mode, write the JSON record and return it."""
    settings = make_settings(
        overrides,
        mode=mode,
        batch_size=batch_size,
        size=size,
        precision=precision,
        channels_last=channels_last,
        compile=compile,
        vs=vs,
        repeats=repeats,
    )
    console = console or Console()
    if settings.device == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes; as the GPU trainer preset does
    env = environment(settings)
    console.print(
        f"{escape(env['device_name'])} ({settings.device}), torch {env['torch']}, "
        f"{env['torch_threads']} torch threads (OMP_NUM_THREADS={env['omp_num_threads']})"
    )
    record: dict[str, Any] = {
        "environment": env,
        "settings": settings_record(settings),
        "results": {},
    }
    modes = [m for m in (*NETWORK_MODES, "data") if settings.mode in (m, "all")]
    if any(m in NETWORK_MODES for m in modes):
        dtypes = {torch.float32, settings.compute_dtype, torch.bfloat16}
        peaks = {
            str(dtype).removeprefix("torch."): matmul_peak_gflops(
                settings.device, dtype, settings.peak_seconds
            )
            for dtype in sorted(dtypes, key=str)
        }
        record["matmul_peak_gflops"] = peaks
        console.print("matmul peak GFLOP/s: " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
        for network_mode in (m for m in modes if m in NETWORK_MODES):
            result = bench_network(settings, network_mode, peaks, console)
            record["results"][network_mode] = result
            print_networks(console, network_mode, result, settings)
    if "data" in modes:
        rows = bench_data(settings, console)
        record["results"]["data"] = rows
        print_data(console, rows, settings)
    path = output_path(settings, output)
    runs.write_new_json(path, record)
    console.print(f"wrote {escape(str(path))}")
    return record


__all__ = ["BenchSettings", "make_settings", "matmul_peak_gflops", "run_bench"]
