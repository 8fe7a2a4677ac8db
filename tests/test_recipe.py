"""The training recipe, piece by piece, against values worked out by hand: the schedules, the
moving-average ramp, the weight-decay groups, the auxiliary loss, the CSV logger and gradient
clipping."""

from __future__ import annotations

import csv
import math
from functools import partial
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from torch import nn

from inception_cli.rundir.metrics import METRIC_COLUMNS
from inception_cli.training.csv_logger import RunCSVLogger
from inception_cli.training.ema import ema_decay, update_ema
from inception_cli.training.module import InceptionClassifier
from inception_cli.training.schedules import cosine, staircase


def learning_rates(scheduler_factory, steps: int, base_lr: float = 1.0) -> list[float]:
    """The rate in force at each of the first `steps` optimizer steps."""
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=base_lr)
    scheduler = scheduler_factory(optimizer)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_staircase_multiplies_by_0_94_every_two_epochs() -> None:
    rates = learning_rates(partial(staircase, steps_per_epoch=10, total_steps=100), 61)
    # 20 steps = 2 epochs at the full rate, then x0.94, x0.94^2 ... (paper section 4)
    assert rates[0] == rates[19] == 1.0
    assert rates[20] == pytest.approx(0.94) and rates[39] == pytest.approx(0.94)
    assert rates[40] == pytest.approx(0.8836) and rates[60] == pytest.approx(0.830584)


def test_staircase_warms_up_linearly() -> None:
    rates = learning_rates(
        partial(staircase, steps_per_epoch=10, total_steps=100, warmup_epochs=1), 12
    )
    assert rates[:3] == pytest.approx([0.1, 0.2, 0.3])
    assert rates[9] == pytest.approx(1.0) and rates[11] == pytest.approx(1.0)


def test_cosine_falls_from_the_base_rate_to_its_floor() -> None:
    rates = learning_rates(
        partial(cosine, steps_per_epoch=10, total_steps=100, min_lr_ratio=0.1), 101
    )
    assert rates[0] == pytest.approx(1.0)
    assert rates[50] == pytest.approx(0.1 + 0.9 * 0.5)  # half way: half of the span
    assert rates[25] == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi / 4)) / 2)
    assert rates[100] == pytest.approx(0.1)


def test_moving_average_decay_ramps_up_as_tensorflow_does() -> None:
    # min(decay, (1 + t) / (10 + t)): TensorFlow's ExponentialMovingAverage(num_updates=t)
    assert ema_decay(0.9999, 0) == pytest.approx(0.1)
    assert ema_decay(0.9999, 90) == pytest.approx(0.91)
    assert ema_decay(0.9999, 10**6) == 0.9999


def test_moving_average_blends_weights_and_copies_counters() -> None:
    average, model = nn.BatchNorm1d(2), nn.BatchNorm1d(2)
    with torch.no_grad():
        average.weight.fill_(1.0)
        model.weight.fill_(3.0)
        model.running_mean.fill_(10.0)
    model.num_batches_tracked.fill_(7)
    update_ema(average, model, decay=0.75)
    assert torch.equal(average.weight, torch.full((2,), 1.5))  # 0.75 * 1 + 0.25 * 3
    assert torch.equal(average.running_mean, torch.full((2,), 2.5))  # 0.75 * 0 + 0.25 * 10
    assert int(average.num_batches_tracked) == 7


def test_moving_average_is_a_few_operations_whatever_the_depth() -> None:
    """One kernel launch per tensor would be about 900 a step for Inception-v4 on a GPU."""
    from torch.profiler import profile

    def deep() -> nn.Module:
        return nn.Sequential(
            *[nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)) for _ in range(50)]
        )

    average, model = deep(), deep()
    expected = [(a + m) / 2 for a, m in zip(average.parameters(), model.parameters(), strict=True)]
    model[49][1].num_batches_tracked.fill_(3)
    with profile() as traced:
        update_ema(average, model, decay=0.5)
    top_level = [
        event.name
        for event in traced.events()
        if event.name.startswith("aten::")
        and (event.cpu_parent is None or not event.cpu_parent.name.startswith("aten::"))
    ]
    assert sorted(top_level) == ["aten::_foreach_copy_", "aten::_foreach_lerp_"], top_level
    for value, want in zip(average.parameters(), expected, strict=True):
        assert torch.allclose(value, want)
    assert int(average[49][1].num_batches_tracked) == 3


class TwoHeads(nn.Module):
    """A stand-in network: a convolution, a BatchNorm and a linear layer with bias."""

    num_classes = 3

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, bias=False)
        self.bn = nn.BatchNorm2d(2)
        self.fc = nn.Linear(2, 3)


def test_weight_decay_applies_to_convolution_and_linear_weights_only() -> None:
    network = TwoHeads()
    module = InceptionClassifier(
        network, partial(torch.optim.SGD, lr=0.1, weight_decay=4e-5), ema_decay=None
    )
    optimizer = module.configure_optimizers()
    decayed, exempt = optimizer.param_groups
    assert {id(p) for p in decayed["params"]} == {id(network.conv.weight), id(network.fc.weight)}
    assert {id(p) for p in exempt["params"]} == {
        id(network.bn.weight),
        id(network.bn.bias),
        id(network.fc.bias),
    }
    assert decayed["weight_decay"] == 4e-5 and exempt["weight_decay"] == 0.0


def smoothed_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, eps: float) -> float:
    """(1 - eps) * -log p_y + eps * mean_k -log p_k, averaged over the batch, written out."""
    total = 0.0
    for row, label in zip(logits.tolist(), labels.tolist(), strict=True):
        log_norm = math.log(sum(math.exp(v) for v in row))
        neg_log_p = [log_norm - v for v in row]
        total += (1 - eps) * neg_log_p[label] + eps * sum(neg_log_p) / len(row)
    return total / len(labels)


def test_auxiliary_loss_is_added_with_its_weight() -> None:
    module = InceptionClassifier(
        TwoHeads(), torch.optim.SGD, label_smoothing=0.1, aux_weight=0.4, ema_decay=None
    )
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
    aux = torch.tensor([[0.1, 0.2, 0.3], [1.0, -1.0, 0.0]])
    labels = torch.tensor([0, 1])
    main_loss = smoothed_cross_entropy(logits, labels, 0.1)
    aux_loss = smoothed_cross_entropy(aux, labels, 0.1)

    loss, returned = module.compute_loss((logits, aux), labels)
    assert float(loss) == pytest.approx(main_loss + 0.4 * aux_loss, rel=1e-6)
    assert returned is logits
    alone, _ = module.compute_loss(logits, labels)
    assert float(alone) == pytest.approx(main_loss, rel=1e-6)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_csv_logger_adds_a_new_column_to_the_rows_already_written(tmp_path: Path) -> None:
    logger = RunCSVLogger(tmp_path)
    logger.write_row({"train/loss": 1.5}, step=0)
    logger.write_row({"train/loss": 1.25, "perf/new_metric": 7.0}, step=1)
    header, rows = read_csv(tmp_path / "metrics.csv")
    assert header == [*METRIC_COLUMNS, "perf/new_metric"]
    assert [(r["step"], r["train/loss"], r["perf/new_metric"]) for r in rows] == [
        ("0", "1.5", ""),
        ("1", "1.25", "7.0"),
    ]


def test_csv_logger_of_a_resumed_run_appends_under_the_header_it_finds(tmp_path: Path) -> None:
    RunCSVLogger(tmp_path).write_row({"train/loss": 2.0, "extra": 1.0}, step=0)
    RunCSVLogger(tmp_path).write_row({"train/loss": 1.0}, step=1)
    header, rows = read_csv(tmp_path / "metrics.csv")
    assert header.count("extra") == 1 and header[: len(METRIC_COLUMNS)] == list(METRIC_COLUMNS)
    assert [(r["step"], r["train/loss"], r["extra"]) for r in rows] == [
        ("0", "2.0", "1.0"),
        ("1", "1.0", ""),
    ]


def test_csv_logger_leaves_training_steps_to_the_row_writer(tmp_path: Path) -> None:
    """Lightning's own call for a training step comes after the step's checkpoint; StepRows has
    written that row before it, so the logger must not write it twice."""
    logger = RunCSVLogger(tmp_path)
    logger.log_metrics({"train/loss": 1.5}, step=0)
    logger.log_metrics({"val/top1_error": 50.0}, step=0)
    _, rows = read_csv(tmp_path / "metrics.csv")
    assert [(r["train/loss"], r["val/top1_error"]) for r in rows] == [("", "50.0")]


def deep_network() -> nn.Module:
    return nn.Sequential(*[nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)) for _ in range(50)])


def with_gradients(network: nn.Module, scale: float) -> nn.Module:
    generator = torch.Generator().manual_seed(0)
    for param in network.parameters():
        param.grad = scale * torch.randn(param.shape, generator=generator)
    return network


def top_level_operations(function) -> list[str]:
    from torch.profiler import profile

    with profile() as traced:
        function()
    return [
        event.name
        for event in traced.events()
        if event.name.startswith("aten::")
        and (event.cpu_parent is None or not event.cpu_parent.name.startswith("aten::"))
    ]


@pytest.mark.parametrize("scale", [10.0, 1e-3], ids=["clipped", "below the norm"])
def test_gradient_clipping_is_torchs_in_a_few_operations(scale: float) -> None:
    """torch's clip_grad_norm_ takes one more operation per gradient (a `.to` of its norm):
    about 450 a step for Inception-v4, each a dispatch from the host on a GPU."""
    from inception_cli.training.module import clip_grad_norm

    ours, theirs = with_gradients(deep_network(), scale), with_gradients(deep_network(), scale)
    total = clip_grad_norm(ours.parameters(), 2.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 2.0)
    assert torch.equal(total, expected)
    for mine, reference in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(mine.grad, reference.grad)
    norm = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in ours.parameters()]))
    assert float(norm) == pytest.approx(min(float(expected), 2.0), rel=1e-5)
    operations = top_level_operations(lambda: clip_grad_norm(ours.parameters(), 2.0))
    assert len(operations) <= 10, operations
    assert operations.count("aten::_foreach_norm") == operations.count("aten::_foreach_mul_") == 1


class Recording(torch.optim.SGD):
    """SGD that keeps the gradients it is given, after Lightning's clipping."""

    def step(self, closure=None):  # type: ignore[no-untyped-def, override]
        loss = closure() if closure is not None else None  # forward, backward, clipping
        self.seen = [p.grad.clone() for group in self.param_groups for p in group["params"]]
        super().step()
        return loss


class LinearNetwork(nn.Module):
    num_classes = 3

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(*[nn.Linear(6, 6) for _ in range(8)])
        self.fc = nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


class UnclippedGradients(pl.Callback):
    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:  # type: ignore[no-untyped-def]
        self.seen = [p.grad.clone() for group in optimizer.param_groups for p in group["params"]]


@pytest.mark.parametrize("algorithm", ["norm", "value"])
def test_the_trainer_clips_gradients_as_torch_does(
    algorithm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By norm through `clip_grad_norm`, never torch's per-tensor path; by value as Lightning."""
    from torch.utils.data import DataLoader, TensorDataset

    if algorithm == "norm":

        def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise AssertionError("clipping by norm went through torch's clip_grad_norm_")

        monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", refused)
    torch.manual_seed(0)
    module = InceptionClassifier(
        LinearNetwork(), partial(Recording, lr=0.1), label_smoothing=0.0, ema_decay=None
    )
    data = TensorDataset(100 * torch.randn(8, 6), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]))
    unclipped = UnclippedGradients()
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=1,
        gradient_clip_val=0.01,
        gradient_clip_algorithm=algorithm,
        callbacks=[unclipped],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, DataLoader(data, batch_size=8))
    clipped = trainer.optimizers[0].seen
    expected = [grad.clone() for grad in unclipped.seen]
    if algorithm == "norm":
        from torch.nn.utils import get_total_norm

        total = get_total_norm(expected)
        assert float(total) > 0.01  # the clipping changed them
        expected = [grad * (0.01 / (total + 1e-6)) for grad in expected]
    else:
        expected = [grad.clamp(-0.01, 0.01) for grad in expected]
    for mine, reference in zip(clipped, expected, strict=True):
        torch.testing.assert_close(mine, reference, rtol=1e-6, atol=1e-9)
