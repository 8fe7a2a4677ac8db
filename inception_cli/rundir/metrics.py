"""The names of the metrics a run logs: the columns of metrics.csv, the keys W&B, TensorBoard
and MLflow get, and what compare, resume and the summary read back. Written here once."""

from __future__ import annotations

EPOCH = "epoch"
STEP = "step"
ELAPSED_S = "time/elapsed_s"
LR = "lr"
TRAIN_LOSS = "train/loss"  # also the key that marks a training step's row
TRAIN_TOP1_ERROR = "train/top1_error"
TRAIN_DEAD_FRACTION = "train/dead_fraction"  # residual scaling: share of dead residual units
VAL_PREFIX = "val/"
VAL_LOSS = "val/loss"
VAL_TOP1_ERROR = "val/top1_error"  # in percent; the checkpoint and search monitor
VAL_TOP5_ERROR = "val/top5_error"
PERF_IMAGES_PER_S = "perf/images_per_s"
PERF_MFU = "perf/mfu"
PERF_DATA_WAIT_SHARE = "perf/data_wait_share"
PERF_PEAK_GFLOPS = "perf/peak_gflops"

METRIC_COLUMNS = (
    EPOCH,
    STEP,
    ELAPSED_S,
    LR,
    TRAIN_LOSS,
    TRAIN_TOP1_ERROR,
    VAL_LOSS,
    VAL_TOP1_ERROR,
    VAL_TOP5_ERROR,
)
PERF_KEYS = (PERF_IMAGES_PER_S, PERF_MFU, PERF_DATA_WAIT_SHARE, PERF_PEAK_GFLOPS)
