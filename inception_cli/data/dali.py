"""GPU decoding with NVIDIA DALI (data.backend=dali): a batch of encoded files, with the crop
and flip drawn for each (data/dali_inputs.py), becomes a uint8 batch (B, 3, S, S) on the GPU.

nvJPEG decodes only the crop's region (`fn.decoders.image_slice`, `device="mixed"`: the
Huffman stage on the CPU threads, the rest on the GPU), then the GPU resizes it to S x S and
flips it. The data module calls this in `transfer_batch_to_device`, in the training process,
so the batch never exists as decoded pixels on the host. DALI is imported here only, when the
first batch is decoded; `data/backends.py` checks beforehand that it is installed and that a
GPU is there.

Not exercised by the test suite (it needs a GPU); tests cover the inputs and the refusal on a
machine without a GPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from inception_cli.data.dali_inputs import EncodedBatch

# DALI's interpolation for each of our `interpolation` names; DALI's cubic resampling is the
# closest to torchvision's bicubic.
INTERPOLATIONS = {"nearest": "INTERP_NN", "bilinear": "INTERP_LINEAR", "bicubic": "INTERP_CUBIC"}
DECODER_THREADS = 4  # CPU threads of the Huffman decoding stage


def _build_pipeline(size: int, interpolation: str, max_batch: int, device_id: int) -> Any:
    from nvidia.dali import fn, pipeline_def, types

    @pipeline_def(  # type: ignore[misc]
        batch_size=max_batch,
        num_threads=DECODER_THREADS,
        device_id=device_id,
        exec_async=False,  # fed and run one batch at a time, from the training process
        exec_pipelined=False,
        prefetch_queue_depth=1,
    )
    def crops() -> Any:
        encoded = fn.external_source(name="data", dtype=types.UINT8)
        anchors = fn.external_source(name="anchors", dtype=types.FLOAT)
        shapes = fn.external_source(name="shapes", dtype=types.FLOAT)
        flips = fn.external_source(name="flips", dtype=types.INT32)
        images = fn.decoders.image_slice(
            encoded, anchors, shapes, device="mixed", output_type=types.RGB, axis_names="WH"
        )
        images = fn.resize(
            images,
            resize_x=size,
            resize_y=size,
            interp_type=getattr(types, INTERPOLATIONS[interpolation]),
            antialias=True,
        )
        images = fn.flip(images, horizontal=flips)
        return fn.transpose(images, perm=[2, 0, 1])  # HWC to CHW

    pipeline = crops()
    pipeline.build()
    return pipeline


class DaliDecoder:
    """Decodes `EncodedBatch`es on one GPU; the pipeline is built at the first batch."""

    def __init__(self, size: int, interpolation: str, max_batch: int) -> None:
        self.size, self.interpolation, self.max_batch = size, interpolation, max_batch
        self._pipelines: dict[int, Any] = {}

    def _pipeline(self, device: torch.device) -> Any:
        device_id = device.index if device.index is not None else torch.cuda.current_device()
        if device_id not in self._pipelines:
            self._pipelines[device_id] = _build_pipeline(
                self.size, self.interpolation, self.max_batch, device_id
            )
        return self._pipelines[device_id]

    def __call__(self, batch: EncodedBatch, device: torch.device) -> Tensor:
        from nvidia.dali.plugin.pytorch import feed_ndarray

        pipeline = self._pipeline(device)
        windows = batch.windows.numpy()
        pipeline.feed_input("data", batch.data)
        pipeline.feed_input("anchors", [np.ascontiguousarray(w[:2]) for w in windows])
        pipeline.feed_input("shapes", [np.ascontiguousarray(w[2:]) for w in windows])
        pipeline.feed_input(
            "flips", [np.array(flip, dtype=np.int32) for flip in batch.flips.numpy()]
        )
        (output,) = pipeline.run()
        dense = output.as_tensor()
        images = torch.empty(dense.shape(), dtype=torch.uint8, device=device)
        feed_ndarray(dense, images, cuda_stream=torch.cuda.current_stream(device))
        return images
