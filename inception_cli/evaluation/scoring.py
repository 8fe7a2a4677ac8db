"""Scoring members on images: the crops of each member's own preprocessing, normalised; each
member's softmax probabilities averaged over the crops; the ensemble's probabilities are the
mean of its members' (GoogLeNet section 7; max-pooling over crops was worse). The protocols and
the crop order are documented in inception_cli/data/crops.py and docs/eval.md.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from inception_cli.evaluation.batches import (
    SINGLE_CROP_INDEX,
    Geometry,
    ImageBatch,
    crops_of,
    inputs_per_image,
)
from inception_cli.evaluation.members import Member
from inception_cli.evaluation.predictions import TOP_K, Predictions
from inception_cli.evaluation.settings import RunSettings
from inception_cli.models.fusion import fold_batchnorm


@dataclass
class Timing:
    """One process's time: in all, and inside the networks' forward passes."""

    wall_s: float = 0.0
    forward_s: float = 0.0
    images: int = 0  # handled in this run (scored or found unreadable), not from partial results
    compile_s: float = 0.0  # first passes of compiled networks, compilation included


def top_classes(probabilities: Tensor, k: int) -> np.ndarray:
    return probabilities.topk(k, dim=1).indices.to(torch.int32).cpu().numpy()


class Scorer:
    """The members' networks on one device, turning image batches into Predictions."""

    def __init__(self, members: Sequence[Member], crops: int, settings: RunSettings) -> None:
        self.members = members
        self.crops = crops
        self.settings = settings
        self.k = min(TOP_K, members[0].num_classes)
        device = settings.device
        # BatchNorm folded into the convolutions: the same logits, fewer kernels. The members keep
        # their own (unfolded) networks.
        self.models = [
            fold_batchnorm(member.model.to(device).eval())
            .to(settings.compute_dtype)
            .to(memory_format=settings.memory_format)
            for member in members
        ]
        # torch.compile compiles each network at its first pass, and again for another batch
        # size (the last, smaller batch): the first passes are timed apart.
        self.first_pass_pending: set[int] = set()
        if settings.compile:
            for model in self.models:
                model.compile()
                self.first_pass_pending.add(id(model))
        self.statistics = {
            member.preprocessing: (
                torch.tensor(member.preprocessing.mean, device=device).view(-1, 1, 1),
                torch.tensor(member.preprocessing.std, device=device).view(-1, 1, 1),
            )
            for member in members
        }
        self.synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        # Every pass but the last has the same input shape: cuDNN's fastest kernels are worth
        # the search.
        torch.backends.cudnn.benchmark = device.type == "cuda" or torch.backends.cudnn.benchmark
        self.timing = Timing()

    @property
    def geometries(self) -> list[Geometry]:
        return [member.preprocessing.geometry for member in self.members]

    def predict(self, batch: ImageBatch) -> Predictions:
        """Top classes of each member and of the ensemble, for every readable image."""
        heads = len(self.members) + 1
        self.timing.images += len(batch) + len(batch.unreadable)
        if len(batch) == 0:
            empty = Predictions.empty(heads, self.k)
            empty.unreadable = np.asarray(batch.unreadable, dtype=np.int64)
            return empty
        multi, single = zip(*self._member_probabilities(batch), strict=True)
        multi_heads = [*multi, torch.stack(multi).mean(dim=0)]
        single_heads = [*single, torch.stack(single).mean(dim=0)]
        return Predictions(
            positions=batch.positions.numpy(),
            labels=batch.labels.numpy(),
            multi=np.stack([top_classes(p, self.k) for p in multi_heads], axis=1),
            single=(
                np.stack([top_classes(p, self.k) for p in single_heads], axis=1)
                if self.crops > 1
                else np.zeros((0, heads, self.k), np.int32)
            ),
            unreadable=np.asarray(batch.unreadable, dtype=np.int64),
        )

    def _crops(self, batch: ImageBatch) -> dict[Geometry, Tensor]:
        """Each geometry's crops on the device: the loader's, else cut here."""
        device = self.settings.device
        if batch.crops:
            return {g: crops.to(device, non_blocking=True) for g, crops in batch.crops.items()}
        images = [image.to(device, non_blocking=True) for image in batch.images]
        return {g: crops_of(images, self.crops, g) for g in dict.fromkeys(self.geometries)}

    def _member_probabilities(self, batch: ImageBatch) -> list[tuple[Tensor, Tensor]]:
        """(probabilities averaged over the crops, those of the single crop) of each member."""
        crops_by_geometry = self._crops(batch)
        results = []
        for member, model in zip(self.members, self.models, strict=True):
            mean, std = self.statistics[member.preprocessing]
            crops = crops_by_geometry[member.preprocessing.geometry]
            inputs = ((crops.flatten(0, 1) - mean) / std).to(
                dtype=self.settings.compute_dtype, memory_format=self.settings.memory_format
            )
            probs = self._forward(model, inputs).view(len(batch), inputs_per_image(self.crops), -1)
            results.append((probs[:, : self.crops].mean(dim=1), probs[:, self.single_index]))
        return results

    @property
    def single_index(self) -> int:
        return SINGLE_CROP_INDEX[self.crops]

    def _forward(self, model: nn.Module, inputs: Tensor) -> Tensor:
        """Softmax probabilities of each input, in float32; the time is counted."""
        self.synchronize()
        start = time.perf_counter()
        logits = model(inputs)
        if isinstance(logits, tuple):  # auxiliary logits, should a model return them
            logits = logits[0]
        probs = logits.float().softmax(dim=1)
        self.synchronize()
        seconds = time.perf_counter() - start
        self.timing.forward_s += seconds
        if id(model) in self.first_pass_pending:
            self.first_pass_pending.discard(id(model))
            self.timing.compile_s += seconds
            print(f"compiled in {seconds:.1f} s (the first forward pass, compilation included)")
        return probs
