"""One LightningModule for every architecture: the paper's loss, metrics and weight averaging."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.plugins.precision import MixedPrecision, Precision
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from inception_cli.rundir import metrics
from inception_cli.training.ema import ema_decay, update_ema

OptimizerFactory = Callable[..., Optimizer]
SchedulerFactory = Callable[..., LRScheduler]


class DeadFraction:
    """Forward pre-hook on a network's average pooling: the share of exact zeros in the features
    it receives, in training (section 3.3: wide residual networks "died", the last layer before
    the pooling giving only zeros, unless their residuals were scaled down). It holds no
    reference to the LightningModule, so copying the network stays cheap."""

    def __init__(self) -> None:
        self.value: torch.Tensor | None = None

    def __call__(self, pool: nn.Module, args: tuple[Any, ...]) -> None:
        if pool.training:
            features = args[0].detach()
            # count_nonzero reads the features once and makes no float copy of them.
            self.value = 1.0 - torch.count_nonzero(features) / features.numel()


class InceptionClassifier(pl.LightningModule):
    """Trains any network of the registry with the paper's recipe.

    Where each part of the recipe lives (configs in conf/, code in inception_cli/training/):
    - label smoothing 0.1 (Inception-v3 paper): `compute_loss`, `loss.label_smoothing`
    - auxiliary classifier loss x0.4 (TF-slim), when the model returns one: `compute_loss`,
      `loss.aux_weight`
    - gradient clipping at 2.0 (Inception-v3 paper): `trainer.gradient_clip_val`
      (conf/trainer/default.yaml), by norm in `configure_gradient_clipping`
    - moving average of the weights for evaluation (paper section 4): `optimizer_step`,
      `ema.py`, `ema.decay`; validation runs `ema_model`
    - RMSProp, decay 0.9, epsilon 1.0 (paper section 4): `rmsprop_tf.py`, conf/optimizer/
    - weight decay 4e-5 on convolution and linear weights only (TF-slim): `configure_optimizers`
    - learning rate x0.94 every two epochs (paper section 4): `schedules.staircase`, stepped
      every optimizer step; conf/scheduler/
    Errors are logged in percent, reduced over all ranks.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: OptimizerFactory,
        scheduler: SchedulerFactory | None = None,
        *,
        label_smoothing: float = 0.1,
        aux_weight: float = 0.4,
        ema_decay: float | None = 0.9999,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.model = model
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.aux_weight = aux_weight
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.ema_decay = ema_decay
        self.ema_model: nn.Module | None = None
        if ema_decay is not None:
            self.ema_model = copy.deepcopy(model).requires_grad_(False)
        self.ema_updates: torch.Tensor
        self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))
        # The count on the host too: reading the buffer every step would wait for the device.
        self._ema_count: int | None = None
        # After the EMA copy, so only the trained network carries the hook.
        self.dead_fraction = DeadFraction()
        pool = getattr(model, "global_pool", None)
        if isinstance(pool, nn.Module):
            pool.register_forward_pre_hook(self.dead_fraction)

        num_classes = int(model.num_classes)  # type: ignore[arg-type]
        self.val_top1 = MulticlassAccuracy(num_classes, top_k=1, average="micro")
        self.val_top5 = MulticlassAccuracy(num_classes, top_k=min(5, num_classes), average="micro")
        self.val_loss = MeanMetric()
        self.elapsed_before_s = 0.0  # wall time of earlier sessions of a resumed run
        self._session_start: float | None = None
        # Here, before any DDP wrapper is built: DDP lays out its gradient buckets with the
        # parameters' strides at that moment, and a later change of layout garbles the
        # gradients of the first step after each (re)start.
        if channels_last:
            self.to(memory_format=torch.channels_last)

    # -- training ------------------------------------------------------------------------------
    def on_fit_start(self) -> None:
        self._session_start = time.monotonic()

    def elapsed_s(self) -> float:
        if self._session_start is None:
            return self.elapsed_before_s
        return self.elapsed_before_s + time.monotonic() - self._session_start

    def forward(self, x: torch.Tensor) -> Any:
        return self.model(x.contiguous(memory_format=self.memory_format))

    def training_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        images, labels = batch
        loss, logits = self.compute_loss(self(images), labels)
        top1_error = 100.0 * (logits.argmax(dim=1) != labels).float().mean()
        self.log(metrics.TRAIN_LOSS, loss, prog_bar=True)
        self.log(metrics.TRAIN_TOP1_ERROR, top1_error)
        # Host numbers as CPU tensors: `log` would copy a float to the device, a copy that
        # waits for the device's queued work.
        self.log(metrics.LR, torch.tensor(self.trainer.optimizers[0].param_groups[0]["lr"]))
        self.log(metrics.ELAPSED_S, torch.tensor(self.elapsed_s(), dtype=torch.float64))
        if self.dead_fraction.value is not None:
            self.log(metrics.TRAIN_DEAD_FRACTION, self.dead_fraction.value)
        return loss

    def compute_loss(self, output: Any, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Label-smoothed cross-entropy of the logits, plus `aux_weight` times that of the
        auxiliary logits when the network returns (logits, aux_logits); also the main logits."""
        logits, aux_logits = output if isinstance(output, tuple) else (output, None)
        loss = self.criterion(logits, labels)
        if aux_logits is not None:
            loss = loss + self.aux_weight * self.criterion(aux_logits, labels)
        return loss, logits

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        """The optimizer's step, then the moving average's: both are done when a step's
        checkpoint is written (in on_train_batch_end), so a resumed run misses neither."""
        super().optimizer_step(*args, **kwargs)
        if self.ema_model is not None and self.ema_decay is not None:
            if self._ema_count is None:  # first step of a session: the buffer a resume restored
                self._ema_count = int(self.ema_updates)
            update_ema(self.ema_model, self.model, ema_decay(self.ema_decay, self._ema_count))
            self._ema_count += 1
            self.ema_updates.fill_(self._ema_count)

    def configure_gradient_clipping(
        self,
        optimizer: Optimizer,
        gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:
        """Lightning's clipping, but by norm with `clip_grad_norm`: the same figures in a few
        operations, where torch's `clip_grad_norm_` adds one per gradient. Precision plugins
        that clip their own way (FSDP's, DeepSpeed's) and optimizers that unscale gradients
        themselves (fused ones under a GradScaler, which Lightning refuses) keep Lightning's path."""
        plugin = self.trainer.precision_plugin
        if (
            gradient_clip_algorithm == "norm"
            and gradient_clip_val is not None
            and gradient_clip_val > 0
            and type(plugin).clip_gradients
            in (Precision.clip_gradients, MixedPrecision.clip_gradients)
            and type(plugin).clip_grad_by_norm is Precision.clip_grad_by_norm
            and not getattr(optimizer, "_step_supports_amp_scaling", False)
        ):
            clip_grad_norm(plugin.main_params(optimizer), float(gradient_clip_val))
            return
        super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)

    # -- validation ----------------------------------------------------------------------------
    def evaluation_model(self) -> nn.Module:
        return self.ema_model if self.ema_model is not None else self.model

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        images, labels = batch
        logits = self.evaluation_model()(images.contiguous(memory_format=self.memory_format))
        self.val_loss.update(self.criterion(logits, labels), weight=labels.numel())
        self.val_top1.update(logits, labels)
        self.val_top5.update(logits, labels)

    def on_validation_epoch_end(self) -> None:
        # compute() reduces over every rank, so each rank logs the same global value.
        self.log(metrics.VAL_LOSS, self.val_loss.compute())
        self.log(metrics.VAL_TOP1_ERROR, 100.0 * (1.0 - self.val_top1.compute()), prog_bar=True)
        self.log(metrics.VAL_TOP5_ERROR, 100.0 * (1.0 - self.val_top5.compute()))
        self.log(metrics.ELAPSED_S, self.elapsed_s())
        for metric in (self.val_loss, self.val_top1, self.val_top5):
            metric.reset()

    # -- optimisation --------------------------------------------------------------------------
    def configure_optimizers(self) -> Any:
        decay: list[nn.Parameter] = []
        no_decay: list[nn.Parameter] = []
        for param in self.model.parameters():
            if param.requires_grad:
                # TF-slim regularises only convolution and linear weights, not BN or biases.
                (decay if param.ndim > 1 else no_decay).append(param)
        optimizer = self.optimizer_factory(
            [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}]
        )
        if self.scheduler_factory is None:
            return optimizer
        steps_per_epoch, total_steps = stepping_batches(self.trainer)
        scheduler = self.scheduler_factory(
            optimizer, steps_per_epoch=steps_per_epoch, total_steps=total_steps
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    # -- checkpoints ---------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["elapsed_s"] = self.elapsed_s()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.elapsed_before_s = float(checkpoint.get("elapsed_s", 0.0))
        self._ema_count = None  # read again from the restored buffer


@torch.no_grad()
def clip_grad_norm(parameters: Iterable[torch.Tensor], max_norm: float) -> torch.Tensor:
    """`torch.nn.utils.clip_grad_norm_(parameters, max_norm)` (2-norm), the same operations in
    the same order, minus the `.to` that torch applies to each gradient's norm (one dispatched
    operation per tensor, about 450 a step for Inception-v4 even where nothing moves): the norms
    and the scaling are one multi-tensor operation per device and dtype. Returns the total norm."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros(())
    groups: dict[tuple[torch.device, torch.dtype], list[torch.Tensor]] = {}
    for grad in grads:
        groups.setdefault((grad.device, grad.dtype), []).append(grad)
    first = grads[0].device
    norms = [torch.stack(torch._foreach_norm(group, 2.0)) for group in groups.values()]
    norms = [norm if norm.device == first else norm.to(first) for norm in norms]
    total = torch.linalg.vector_norm(norms[0] if len(norms) == 1 else torch.cat(norms), 2.0)
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for (device, _), group in groups.items():
        torch._foreach_mul_(group, scale if device == first else scale.to(device))
    return total


def stepping_batches(trainer: pl.Trainer) -> tuple[int, int]:
    """(optimizer steps per epoch, optimizer steps in all), as Lightning estimates them, but
    without making the training loader's iterator: a resumed run must make it only after the
    Trainer has restored its progress counters (training/sampling.py)."""
    datamodule = getattr(trainer, "datamodule", None)
    if datamodule is None or not hasattr(datamodule, "train_batches_per_epoch"):
        total = max(1, int(trainer.estimated_stepping_batches))
        epochs = trainer.max_epochs or 0
        return (math.ceil(total / epochs) if epochs > 0 else total), total
    batches = datamodule.train_batches_per_epoch()
    limit = trainer.limit_train_batches
    if isinstance(limit, int):
        batches = min(batches, limit)
    elif limit is not None:
        batches = int(batches * limit)
    per_epoch = max(1, math.ceil(batches / trainer.accumulate_grad_batches))
    total = per_epoch * max(1, trainer.max_epochs or 1)
    if trainer.max_steps != -1:
        total = min(total, trainer.max_steps)
    return per_epoch, max(1, total)
