"""The weights a run's checkpoint holds for evaluation: which checkpoint (best, else last), and the
EMA or raw weights in it, loaded into the network its config describes."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from torch import Tensor, nn

from inception_cli.errors import InputError, first_line
from inception_cli.rundir import layout
from inception_cli.rundir.checkpoints import load_checkpoint

PREFERENCE = ("best", "last")
# Lightning saves the LightningModule's state: the network under `model.`, its running
# average under `ema_model.`.
PREFIXES = {"model": "model.", "ema": "ema_model."}


def find_checkpoint(run_dir: Path) -> Path:
    candidates = [layout.checkpoint(run_dir, which) for which in PREFERENCE]
    found = next((path for path in candidates if path.is_file()), None)
    if found is None:
        names = " or ".join(str(path.relative_to(run_dir)) for path in candidates)
        raise InputError(f"{run_dir} has no {names}; train it (longer) or name another run")
    return found


def _weights_under(state_dict: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """The entries under `prefix`, without it (nor a torch.compile or AveragedModel wrapper)."""
    weights = {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
    weights.pop("n_averaged", None)
    for wrapper in ("module.", "_orig_mod."):
        if weights and all(key.startswith(wrapper) for key in weights):
            weights = {key[len(wrapper) :]: value for key, value in weights.items()}
    return weights


def saved_weights(
    checkpoint: Path, *, ema: bool, console: Console
) -> tuple[str, dict[str, Tensor]]:
    """("ema" or "model", the network's weights); the raw weights, with a note, when `ema` is
    asked for and the checkpoint has no average."""
    try:
        saved = load_checkpoint(checkpoint)
    except (OSError, RuntimeError, EOFError, ValueError) as error:
        raise InputError(f"cannot read {checkpoint}: {first_line(error)}") from None
    state_dict = saved.get("state_dict", saved) if isinstance(saved, dict) else {}
    kind = "ema" if ema else "model"
    weights = _weights_under(state_dict, PREFIXES[kind])
    if ema and not weights:
        console.print(
            f"{escape(str(checkpoint))} holds no EMA weights; evaluating the raw weights (model.)"
        )
        kind, weights = "model", _weights_under(state_dict, PREFIXES["model"])
    if not weights:
        raise InputError(f"{checkpoint} holds no network weights under 'model.'")
    return kind, weights


def load_weights(
    model: nn.Module, weights: dict[str, Tensor], checkpoint: Path, config_file: Path
) -> None:
    try:
        model.load_state_dict(weights)
    except RuntimeError as error:
        # The first line only names the module; the next one names the keys or shapes that differ.
        _, _, details = str(error).strip().partition("\n")
        reason = first_line(RuntimeError(details)) if details.strip() else first_line(error)
        raise InputError(
            f"{checkpoint} does not fit the model in {config_file}: {reason}"
        ) from None
