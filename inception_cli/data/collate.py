"""Batching the loaders' samples without changing the images' memory layout.

The resampling kernels leave an image channels-last (stored H, W, C); stacking such images
into a standard (B, C, H, W) batch is a transposing copy that costs a CPU core as much per
image as a third of the decoding. The batch is stacked channels-last instead, a plain copy:
the network runs channels-last anyway (`channels_last: true`), and the finishing on the
device is element-wise, so nothing downstream pays for the layout.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import get_worker_info
from torch.utils.data._utils.collate import collate, default_collate_fn_map


def _is_channels_last(image: torch.Tensor) -> bool:
    return image.dim() == 3 and image.stride(0) == 1 and image.shape[0] > 1


def _output(like: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor | None:
    """In a worker process, the batch is made in shared memory, as default_collate does, so
    that it reaches the main process without another copy."""
    if get_worker_info() is None:
        return None
    numel = 1
    for size in shape:
        numel *= size
    storage = like._typed_storage()._new_shared(numel, device=like.device)
    return like.new(storage).resize_(shape)


def stack_images(batch: list[torch.Tensor], *, collate_fn_map: Any = None) -> torch.Tensor:
    first = batch[0]
    if not all(_is_channels_last(image) for image in batch):
        return collate([*batch], collate_fn_map=default_collate_fn_map)  # type: ignore[no-any-return]
    channels, height, width = first.shape
    shape = (len(batch), height, width, channels)
    stacked = torch.stack([image.permute(1, 2, 0) for image in batch], out=_output(first, shape))
    return stacked.permute(0, 3, 1, 2)  # (B, C, H, W), stored channels-last


COLLATE_FN_MAP = {**default_collate_fn_map, torch.Tensor: stack_images}


def collate_samples(samples: list[Any]) -> Any:
    """default_collate, but image tensors keep their channels-last layout."""
    return collate(samples, collate_fn_map=COLLATE_FN_MAP)
