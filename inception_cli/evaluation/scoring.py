"""Scoring members on images: the crops of each member's own preprocessing, normalised; each
member's softmax probabilities averaged over the crops; the ensemble's probabilities are the
mean of its members' (GoogLeNet section 7; max-pooling over crops was worse). The protocols and
the crop order are documented in inception_cli/data/crops.py and docs/eval.md.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from inception_cli.data.crops import CROP_COUNTS, make_crops, make_crops_batch
from inception_cli.errors import InputError
from inception_cli.evaluation.members import Member
from inception_cli.models.fusion import fold_batchnorm

TOP_K = 5


@dataclass
class Scores:
    """Top-1 / top-5 errors (%) of each member and of the ensemble, and the throughput."""

    images: int
    corrupt: int
    member_errors: list[tuple[float, float]]
    ensemble_errors: tuple[float, float]
    wall_time_s: float
    forward_time_s: float
    device: str
    labels_sha256: str = ""  # of the evaluated images' labels in order: same digest, same images

    @property
    def images_per_s(self) -> float:
        return self.images / self.wall_time_s if self.wall_time_s > 0 else 0.0

    @property
    def share_outside_forward(self) -> float:
        if self.wall_time_s <= 0:
            return 0.0
        return max(0.0, 1.0 - self.forward_time_s / self.wall_time_s)


def collate_images(batch: list[tuple[Tensor | None, Any]]) -> tuple[list[Tensor | None], Tensor]:
    """Images of different sizes stay a list; labels become a tensor."""
    return [image for image, _ in batch], torch.tensor([int(label) for _, label in batch])


def crops_of(images: list[Tensor], crops: int, geometry: tuple[int, float, str]) -> Tensor:
    """(B, crops, C, size, size); one batched call when the images share a size."""
    size, crop_fraction, interpolation = geometry
    if all(image.shape == images[0].shape for image in images):
        return make_crops_batch(
            torch.stack(images),
            crops,
            size,
            crop_fraction=crop_fraction,
            interpolation=interpolation,
        )
    return torch.stack(
        [
            make_crops(image, crops, size, crop_fraction=crop_fraction, interpolation=interpolation)
            for image in images
        ]
    )


def count_correct(probs: Tensor, labels: Tensor) -> tuple[int, int]:
    """Images whose label is the top prediction, and among the top 5 (top min(5, classes))."""
    top = probs.topk(min(TOP_K, probs.shape[1]), dim=1).indices
    hits = top == labels[:, None]
    return int(hits[:, 0].sum()), int(hits.any(dim=1).sum())


def _progress(console: Console, enabled: bool) -> Progress:
    return Progress(
        TextColumn("evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("images"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not enabled,
    )


def evaluate_members(
    members: Sequence[Member],
    dataset: Dataset[Any],
    *,
    crops: int,
    batch_size: int,
    num_workers: int = 0,
    device: torch.device | None = None,
    console: Console | None = None,
    show_progress: bool = True,
) -> Scores:
    """Errors of each member and of their ensemble (mean of the members' crop-averaged softmax).

    A forward pass sees the crops of max(1, batch_size // crops) images, i.e. at most
    max(batch_size, crops) network inputs.
    """
    if crops not in CROP_COUNTS:
        raise InputError(f"--crops {crops}; use one of {', '.join(map(str, CROP_COUNTS))}")
    device = device or torch.device("cpu")
    console = console or Console(stderr=True)
    # BatchNorm folded into the convolutions: the same logits, fewer kernels. The members keep
    # their own (unfolded) networks.
    models = [fold_batchnorm(member.model.to(device).eval()) for member in members]
    statistics = {
        member.preprocessing: (
            torch.tensor(member.preprocessing.mean, device=device).view(-1, 1, 1),
            torch.tensor(member.preprocessing.std, device=device).view(-1, 1, 1),
        )
        for member in members
    }
    loader = DataLoader(
        dataset,
        batch_size=max(1, batch_size // crops),
        num_workers=num_workers,
        collate_fn=collate_images,
    )
    member_correct = [[0, 0] for _ in members]
    ensemble_correct = [0, 0]
    images_done = corrupt = 0
    labels_digest = hashlib.sha256()
    forward_time = 0.0
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    start = time.perf_counter()
    with _progress(console, show_progress) as progress, torch.inference_mode():
        task = progress.add_task("eval", total=len(dataset))  # type: ignore[arg-type]
        for images, labels in loader:
            readable = [i for i, image in enumerate(images) if image is not None]
            corrupt += len(images) - len(readable)
            progress.advance(task, len(images))
            if not readable:
                continue
            batch = [images[i].to(device) for i in readable]  # type: ignore[union-attr]
            labels = labels[readable]
            labels_digest.update(labels.to(torch.int64).numpy().tobytes())
            labels = labels.to(device)
            crops_by_geometry: dict[tuple[int, float, str], Tensor] = {}
            member_probs = []
            for index, member in enumerate(members):
                preprocessing = member.preprocessing
                if preprocessing.geometry not in crops_by_geometry:
                    crops_by_geometry[preprocessing.geometry] = crops_of(
                        batch, crops, preprocessing.geometry
                    )
                views = crops_by_geometry[preprocessing.geometry]
                mean, std = statistics[preprocessing]
                inputs = ((views.flatten(0, 1) - mean) / std).contiguous()
                synchronize()
                forward_start = time.perf_counter()
                logits = models[index](inputs)
                if isinstance(logits, tuple):  # auxiliary logits, should a model return them
                    logits = logits[0]
                probs = logits.float().softmax(dim=1).view(len(batch), crops, -1).mean(dim=1)
                synchronize()
                forward_time += time.perf_counter() - forward_start
                member_probs.append(probs)
                top1, top5 = count_correct(probs, labels)
                member_correct[index][0] += top1
                member_correct[index][1] += top5
            top1, top5 = count_correct(torch.stack(member_probs).mean(dim=0), labels)
            ensemble_correct[0] += top1
            ensemble_correct[1] += top5
            images_done += len(batch)
    wall_time = time.perf_counter() - start
    if images_done == 0:
        raise InputError("no image could be read; check the data (all files were unreadable)")

    def errors(correct: Sequence[int]) -> tuple[float, float]:
        return tuple(100.0 * (1.0 - hits / images_done) for hits in correct)  # type: ignore[return-value]

    return Scores(
        images=images_done,
        corrupt=corrupt,
        member_errors=[errors(correct) for correct in member_correct],
        ensemble_errors=errors(ensemble_correct),
        wall_time_s=wall_time,
        forward_time_s=forward_time,
        device=str(device),
        labels_sha256=labels_digest.hexdigest(),
    )
