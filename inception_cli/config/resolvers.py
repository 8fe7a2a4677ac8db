"""The resolvers the configs use: run and sweep directory names, and W&B's offline mode."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf


def wandb_offline() -> bool:
    """Offline unless the user asked for online mode or has logged in (an API key is known)."""
    mode = os.environ.get("WANDB_MODE", "").lower()
    if mode in ("online", "run"):
        return False
    if mode in ("offline", "dryrun", "disabled"):
        return True
    if os.environ.get("WANDB_API_KEY"):
        return False
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    try:
        return "api.wandb.ai" not in netrc.read_text()
    except OSError:
        return True


class RunNames:
    """The `run_id` resolver of conf/hydra/default.yaml: the run directory's name.

    In the training process (`claim=True`) the directory is created as its name is chosen
    (inception_cli/rundir/claims.py); elsewhere (checks, `config show`) only a name is shown."""

    def __init__(self) -> None:
        self.claim = False
        self.chosen: dict[tuple[str, str], str] = {}

    def __call__(self, model_name: str, runs_dir: str, *, _root_: DictConfig) -> str:
        from inception_cli.rundir import claims

        key = (str(model_name), str(runs_dir))
        if key not in self.chosen:
            if not self.claim:
                return claims.launcher_id(model_name) or f"<time>_{model_name}"

            def same_config(saved: DictConfig) -> bool:
                return _comparable(saved) == _comparable(_root_)

            self.chosen[key] = claims.choose_run_name(Path(runs_dir), model_name, same_config)
        return self.chosen[key]

    def sweep(self, runs_dir: str) -> str:
        """The `sweep_id` resolver: one folder per sweep, claimed like a run directory, so two
        sweeps started in the same second never share one."""
        from inception_cli.rundir import claims

        key = ("<sweep>", str(runs_dir))
        if key not in self.chosen:
            # A job of the sweep that runs elsewhere (a SLURM job of hydra/launcher=slurm, and
            # its requeues) composes the config again: it takes the name the sweep chose.
            given = os.environ.get(SWEEP_VARIABLE)
            if given:
                return given
            base = f"{time.strftime('%Y-%m-%d_%H-%M-%S')}_sweep"
            if not self.claim:
                return base
            self.chosen[key] = claims.claim_new_dir(Path(runs_dir), base).name
            os.environ[SWEEP_VARIABLE] = self.chosen[key]
        return self.chosen[key]


def _comparable(cfg: DictConfig) -> dict[str, Any]:
    """The keys that make two configs the same run (not `resume`, `paths` or `hydra`)."""
    keys = [str(k) for k in cfg if k not in ("hydra", "resume", "paths")]
    plain = OmegaConf.to_container(OmegaConf.masked_copy(cfg, keys), resolve=True)
    assert isinstance(plain, dict)
    return {str(key): value for key, value in plain.items()}


run_names = RunNames()
SWEEP_VARIABLE = "INCEPTION_SWEEP_DIR"


def rank_zero_only(value: Any) -> Any:
    """`value` on global rank 0; null on the other ranks an outside launcher starts (srun,
    torchrun), so that only rank 0 writes what the value names (hydra.output_subdir)."""
    from inception_cli.rundir.claims import global_rank

    return value if global_rank() == 0 else None


# Run directories whose lock this process took while Hydra set them up (`owned_output_subdir`);
# the training task keeps holding it (tasks/train.py).
held_locks: dict[Path, Any] = {}


def owned_output_subdir(value: Any, run_dir: str) -> Any:
    """`value` on global rank 0 once it holds the lock of `run_dir` (in the training process):
    Hydra saves the config there next. A directory another trainer holds ends the process here,
    with one line, before anything in it is touched. Null on the other ranks, as rank_zero_only."""
    from inception_cli.rundir.claims import RunLock, RunLocked

    value = rank_zero_only(value)
    if value is None or not run_names.claim:
        return value
    folder = Path(run_dir)
    if folder not in held_locks:
        folder.mkdir(parents=True, exist_ok=True)
        lock = RunLock(folder)
        try:
            lock.acquire()
        except RunLocked as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)  # SystemExit passes through Hydra, which would add lines to an error
        held_locks[folder] = lock
    return value


def rank_suffix() -> str:
    """ "" on global rank 0, ".rank<N>" on the others: each rank logs to its own file."""
    from inception_cli.rundir.claims import global_rank

    rank = global_rank()
    return "" if rank == 0 else f".rank{rank}"


def register_resolvers(*, claim_run_dirs: bool = False) -> None:
    """The resolvers the configs use; `claim_run_dirs` in the process that trains."""
    run_names.claim = run_names.claim or claim_run_dirs
    resolvers = (
        ("run_id", run_names),
        ("sweep_id", run_names.sweep),
        ("rank_zero_only", rank_zero_only),
        ("owned_output_subdir", owned_output_subdir),
        ("rank_suffix", rank_suffix),
        ("wandb_offline", wandb_offline),
    )
    for name, resolver in resolvers:
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)
