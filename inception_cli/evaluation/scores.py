"""Top-1 and top-5 errors of each member and of the ensemble, under the protocol's crops and
under the single centre crop, and the throughput of the processes that computed them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inception_cli.errors import InputError
from inception_cli.evaluation.predictions import Predictions
from inception_cli.evaluation.real_labels import RealLabels, RealScores, real_scores
from inception_cli.evaluation.scoring import Timing

Errors = tuple[float, float]  # top-1, top-5, in %


@dataclass
class Scores:
    """Errors (%) of each member and of the ensemble, and the throughput."""

    images: int
    corrupt: int
    member_errors: list[Errors]
    ensemble_errors: Errors
    wall_time_s: float
    forward_time_s: float
    device: str
    labels_sha256: str = ""  # of the evaluated images' labels in order: same digest, same images
    # The same under the single centre crop, for 10 and 144 crops (None for 1 crop).
    member_single_errors: list[Errors] | None = None
    ensemble_single_errors: Errors | None = None
    images_computed: int | None = None  # by this command; the rest came from partial results
    processes: int = 1
    share_outside_forward: float = 0.0
    real: RealScores | None = None  # under the ImageNet-ReaL labels (--real-labels)
    compile_time_s: float = 0.0  # first passes of compiled networks, in the wall time (slowest)

    @property
    def images_per_s(self) -> float:
        computed = self.images if self.images_computed is None else self.images_computed
        return computed / self.wall_time_s if self.wall_time_s > 0 else 0.0


def scores_from(
    predictions: Predictions,
    timings: Sequence[Timing],
    device: str,
    real_labels: RealLabels | None = None,
) -> Scores:
    """Errors from each image's top classes, also under `real_labels` when given; timings from
    every process (wall time: the slowest's; forward time and the share outside it: the mean
    over processes)."""
    if len(predictions) == 0:
        raise InputError("no image could be read; check the data (all files were unreadable)")
    multi = predictions.errors()
    single = predictions.errors(single=True) if predictions.has_single else None
    wall = sum(timing.wall_s for timing in timings)
    forward = sum(timing.forward_s for timing in timings)
    return Scores(
        images=len(predictions),
        corrupt=len(predictions.unreadable),
        member_errors=multi[:-1],
        ensemble_errors=multi[-1],
        wall_time_s=max(timing.wall_s for timing in timings),
        forward_time_s=forward / len(timings),
        device=device,
        labels_sha256=predictions.labels_sha256(),
        member_single_errors=single[:-1] if single else None,
        ensemble_single_errors=single[-1] if single else None,
        images_computed=sum(timing.images for timing in timings),
        processes=len(timings),
        share_outside_forward=max(0.0, 1.0 - forward / wall) if wall > 0 else 0.0,
        compile_time_s=max(timing.compile_s for timing in timings),
        real=(
            real_scores(real_labels, predictions.positions, predictions.multi)
            if real_labels is not None
            else None
        ),
    )
