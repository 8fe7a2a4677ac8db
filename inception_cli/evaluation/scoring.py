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
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from inception_cli.data.crops import make_crops_batch
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
    same_size = len({image.shape for image in images}) == 1
    batches = [torch.stack(images)] if same_size else [image.unsqueeze(0) for image in images]
    return torch.cat(
        [
            make_crops_batch(
                batch, crops, size, crop_fraction=crop_fraction, interpolation=interpolation
            )
            for batch in batches
        ]
    )


def count_correct(probs: Tensor, labels: Tensor) -> tuple[int, int]:
    """Images whose label is the top prediction, and among the top 5 (top min(5, classes))."""
    top = probs.topk(min(TOP_K, probs.shape[1]), dim=1).indices
    hits = top == labels[:, None]
    return int(hits[:, 0].sum()), int(hits.any(dim=1).sum())


def _add_counts(total: list[int], counts: tuple[int, int]) -> None:
    total[0] += counts[0]
    total[1] += counts[1]


class _Scorer:
    """The members' networks on one device, and the running counts of an evaluation."""

    def __init__(self, members: Sequence[Member], crops: int, device: torch.device) -> None:
        self.members = members
        self.crops = crops
        self.device = device
        # BatchNorm folded into the convolutions: the same logits, fewer kernels. The members keep
        # their own (unfolded) networks.
        self.models = [fold_batchnorm(member.model.to(device).eval()) for member in members]
        self.statistics = {
            member.preprocessing: (
                torch.tensor(member.preprocessing.mean, device=device).view(-1, 1, 1),
                torch.tensor(member.preprocessing.std, device=device).view(-1, 1, 1),
            )
            for member in members
        }
        self.synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        self.member_correct = [[0, 0] for _ in members]
        self.ensemble_correct = [0, 0]
        self.images = self.corrupt = 0
        self.forward_time = 0.0
        self.labels_digest = hashlib.sha256()

    def add(self, images: list[Tensor | None], labels: Tensor) -> None:
        """Score one batch; unreadable images (None) are counted and left out."""
        readable = [index for index, image in enumerate(images) if image is not None]
        self.corrupt += len(images) - len(readable)
        if not readable:
            return
        batch = [images[index].to(self.device) for index in readable]  # type: ignore[union-attr]
        labels = labels[readable]
        self.labels_digest.update(labels.to(torch.int64).numpy().tobytes())
        labels = labels.to(self.device)
        member_probs = self._member_probabilities(batch)
        for correct, probs in zip(self.member_correct, member_probs, strict=True):
            _add_counts(correct, count_correct(probs, labels))
        ensemble_probs = torch.stack(member_probs).mean(dim=0)
        _add_counts(self.ensemble_correct, count_correct(ensemble_probs, labels))
        self.images += len(batch)

    def _member_probabilities(self, batch: list[Tensor]) -> list[Tensor]:
        crops_by_geometry: dict[tuple[int, float, str], Tensor] = {}
        probabilities = []
        for member, model in zip(self.members, self.models, strict=True):
            geometry = member.preprocessing.geometry
            if geometry not in crops_by_geometry:
                crops_by_geometry[geometry] = crops_of(batch, self.crops, geometry)
            mean, std = self.statistics[member.preprocessing]
            inputs = ((crops_by_geometry[geometry].flatten(0, 1) - mean) / std).contiguous()
            probabilities.append(self._forward(model, inputs, len(batch)))
        return probabilities

    def _forward(self, model: nn.Module, inputs: Tensor, images: int) -> Tensor:
        """Softmax probabilities of each image, averaged over its crops; the time is counted."""
        self.synchronize()
        start = time.perf_counter()
        logits = model(inputs)
        if isinstance(logits, tuple):  # auxiliary logits, should a model return them
            logits = logits[0]
        probs = logits.float().softmax(dim=1).view(images, self.crops, -1).mean(dim=1)
        self.synchronize()
        self.forward_time += time.perf_counter() - start
        return probs

    def scores(self, wall_time: float) -> Scores:
        if self.images == 0:
            raise InputError("no image could be read; check the data (all files were unreadable)")
        return Scores(
            images=self.images,
            corrupt=self.corrupt,
            member_errors=[self._errors(correct) for correct in self.member_correct],
            ensemble_errors=self._errors(self.ensemble_correct),
            wall_time_s=wall_time,
            forward_time_s=self.forward_time,
            device=str(self.device),
            labels_sha256=self.labels_digest.hexdigest(),
        )

    def _errors(self, correct: Sequence[int]) -> tuple[float, float]:
        top1, top5 = (100.0 * (1.0 - hits / self.images) for hits in correct)
        return top1, top5


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

    `crops` is 1, 10 or 144. A forward pass sees the crops of max(1, batch_size // crops)
    images, i.e. at most max(batch_size, crops) network inputs.
    """
    scorer = _Scorer(members, crops, device or torch.device("cpu"))
    loader = DataLoader(
        dataset,
        batch_size=max(1, batch_size // crops),
        num_workers=num_workers,
        collate_fn=collate_images,
    )
    start = time.perf_counter()
    with _progress(console or Console(stderr=True), show_progress) as progress:
        task = progress.add_task("eval", total=len(dataset))  # type: ignore[arg-type]
        with torch.inference_mode():
            for images, labels in loader:
                progress.advance(task, len(images))
                scorer.add(images, labels)
    return scorer.scores(time.perf_counter() - start)
