"""The precisions `inception eval` and `inception bench` run a network in (Lightning's names),
the dtype each casts the network and its inputs to, and the memory layout."""

from __future__ import annotations

import torch

PRECISIONS = ("32", "bf16-mixed", "16-mixed")
LOW_PRECISION_DTYPES = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}


def compute_dtype(precision: str) -> torch.dtype:
    """What a network's weights and inputs are cast to in `precision`."""
    return LOW_PRECISION_DTYPES.get(precision, torch.float32)


def memory_format(channels_last: bool) -> torch.memory_format:
    return torch.channels_last if channels_last else torch.contiguous_format


class CastSettings:
    """The dtype and memory layout a settings dataclass with `precision` and `channels_last`
    fields runs its network in (eval's and bench's)."""

    precision: str
    channels_last: bool

    @property
    def memory_format(self) -> torch.memory_format:
        return memory_format(self.channels_last)

    @property
    def compute_dtype(self) -> torch.dtype:
        """What the network's weights and inputs are cast to."""
        return compute_dtype(self.precision)
