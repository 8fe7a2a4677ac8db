"""Reading checkpoint files without letting them run code (training resumes, evaluation)."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

from inception_cli.errors import InputError, first_line


def load_checkpoint(path: Path, *, map_location: Any = "cpu", mmap: bool = False) -> dict[str, Any]:
    """A checkpoint's contents, unpickling nothing but tensors and plain containers
    (`torch.load(weights_only=True)`). A file that asks for anything else is refused with
    InputError before any of it runs; one that cannot be read raises OSError or RuntimeError."""
    import torch

    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as err:
        wanted = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(err))
        what = wanted.group(1) if wanted else first_line(err)[:80]
        raise InputError(
            f"{path} is not a plain checkpoint (it asks to unpickle {what}); refusing to load "
            "it. Only load checkpoints you trust, made by this tool"
        ) from None
    if not isinstance(checkpoint, dict):
        raise InputError(f"{path} does not hold a checkpoint dictionary")
    return checkpoint
