"""The evaluation loop of one process: batches from the loader through the networks, with the
progress shown and the partial results saved as it goes."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from rich.console import Console
from torch.utils.data import DataLoader, Dataset

from inception_cli.evaluation.batches import (
    CollateImages,
    IndexedImages,
    inputs_per_image,
    make_loader,
)
from inception_cli.evaluation.members import Member
from inception_cli.evaluation.partial import PartialResults
from inception_cli.evaluation.predictions import Predictions, concatenate
from inception_cli.evaluation.progress import EvalProgress
from inception_cli.evaluation.scores import Scores, scores_from
from inception_cli.evaluation.scoring import Scorer, Timing
from inception_cli.evaluation.settings import RunSettings, resolve_settings


def loader_for(
    scorer: Scorer, dataset: Dataset[Any], positions: Sequence[int], num_workers: int
) -> DataLoader[Any]:
    """Batches of whole images; on a CPU the loader cuts the crops too (in its workers when it
    has any), on a GPU the device does."""
    settings = scorer.settings
    on_gpu = settings.device.type == "cuda"
    if not on_gpu and scorer.crops > 1:
        # Cutting 10 or 144 crops costs up to a tenth of a small network's forward pass: one
        # worker cuts the next image's while the network runs (measured, 144 crops at 75 px of a
        # tenth-width network: about 10% of the time outside the forward passes without it,
        # 5-7% with it).
        num_workers = max(num_workers, 1)
    collate = CollateImages(scorer.geometries, scorer.crops, crop=not on_gpu)
    return make_loader(
        IndexedImages(dataset, positions),
        collate,
        images_per_pass=settings.images_per_pass(inputs_per_image(scorer.crops)),
        num_workers=num_workers,
        pin_memory=on_gpu,
    )


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """SIGTERM (a scheduler's preemption, `kill`) raises SystemExit, so that the loop saves what
    it computed before the process ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def exit_now(signum: int, frame: object) -> None:
        sys.exit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_now)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def score_images(
    scorer: Scorer,
    loader: DataLoader[Any],
    *,
    progress: EvalProgress | None = None,
    partial: PartialResults | None = None,
) -> Predictions:
    """Every image of the loader scored; what was computed is saved every few seconds, at the
    end, and when the process is interrupted (Ctrl-C, or SIGTERM turned into SystemExit)."""
    heads, k = len(scorer.members) + 1, scorer.k
    parts: list[Predictions] = []
    start = time.perf_counter()
    try:
        with torch.inference_mode():
            for batch in loader:
                parts.append(scorer.predict(batch))
                if progress is not None:
                    progress.advance(len(batch) + len(batch.unreadable))
                if partial is not None and partial.due():
                    partial.save(concatenate(parts, heads, k))
    except BaseException:  # Ctrl-C, SIGTERM, a failed worker: keep what was computed
        if partial is not None:
            partial.save(concatenate(parts, heads, k))
        raise
    scorer.timing.wall_s += time.perf_counter() - start
    predictions = concatenate(parts, heads, k)
    if partial is not None:
        partial.save(predictions)  # kept until the result is written, should a peer fail
    return predictions


def predict_members(
    members: Sequence[Member],
    dataset: Dataset[Any],
    *,
    crops: int,
    settings: RunSettings,
    num_workers: int = 0,
    console: Console | None = None,
) -> tuple[Predictions, Timing]:
    """Each image's top classes under every member and their ensemble, in one process, without
    partial results; progress is shown on `console` when given."""
    scorer = Scorer(members, crops, settings)
    loader = loader_for(scorer, dataset, range(len(dataset)), num_workers)  # type: ignore[arg-type]
    console = console or Console(quiet=True)
    with EvalProgress(console, len(loader.dataset)) as progress:  # type: ignore[arg-type]
        predictions = score_images(scorer, loader, progress=progress)
    return predictions.in_order(), scorer.timing


def evaluate_members(
    members: Sequence[Member],
    dataset: Dataset[Any],
    *,
    crops: int,
    batch_size: int | None = None,
    num_workers: int = 0,
    device: torch.device | None = None,
    console: Console | None = None,
    show_progress: bool = True,
    precision: str = "32",
    channels_last: bool = False,
) -> Scores:
    """Errors of each member and of their ensemble (mean of the members' crop-averaged softmax).

    `crops` is 1, 10 or 144. A forward pass sees the crops of max(1, batch_size //
    inputs_per_image(crops)) images.
    """
    settings = resolve_settings(device or torch.device("cpu"), precision, channels_last, batch_size)
    shown = (console or Console(stderr=True)) if show_progress else None
    predictions, timing = predict_members(
        members, dataset, crops=crops, settings=settings, num_workers=num_workers, console=shown
    )
    return scores_from(predictions, [timing], str(settings.device))
