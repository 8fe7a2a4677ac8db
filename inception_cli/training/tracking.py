"""What the experiment trackers know of a run, read from and kept in its run directory.

- its W&B id: random, written to `<run dir>/wandb_id` when the run starts and reused when it
  continues (`resume=`, or a requeued job that finds its checkpoints), so that two sweeps never
  share a W&B run, as they did when the id was the directory's name (`0_v3`);
- its W&B group: the sweep's folder for a job of a sweep (`runs/<sweep>/<n>_<model>`), else
  the experiment (`experiment=`), both read from what Hydra saved in `.hydra/hydra.yaml`;
- its tags: the model and whether it is residual or pure (catalog.py);
- its hyperparameters: the resolved config and the facts of summary.json that the config does
  not say (parameters, git revision, global batch, effective learning rate);
- evaluation results, added to the W&B run's summary by `inception eval`;
- its MLflow run: opened here before training (in the local store `<run dir>/mlflow`, or on a
  server), its id kept in `<run dir>/mlflow_id` and continued the same way; its tags say the
  same as W&B's (model, residual or pure, group) as key-value pairs.

Torch-free; wandb and mlflow are imported only where their runs are opened.
"""

from __future__ import annotations

import os
import secrets
import string
from pathlib import Path
from typing import Any, Literal

from omegaconf import DictConfig, OmegaConf

from inception_cli import catalog
from inception_cli.errors import InputError
from inception_cli.rundir import layout
from inception_cli.rundir.durable import atomic_write_text

WANDB_ID_FILE = "wandb_id"
MLFLOW_ID_FILE = "mlflow_id"
MLFLOW_DIR = "mlflow"  # the local store: mlflow.db and artifacts/
MLFLOW_EXPERIMENT = "inception"
HYDRA_SAVED = Path(".hydra") / "hydra.yaml"
TRAIN_JOB = "train"
FACTS_FOR_TRACKERS = ("params", "git_rev", "global_batch", "effective_lr")
ID_ALPHABET = string.ascii_lowercase + string.digits  # what W&B's own ids are made of


def new_wandb_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(8))


def read_wandb_id(run_dir: Path, file: str = WANDB_ID_FILE) -> str | None:
    try:
        return (run_dir / file).read_text().strip() or None
    except OSError:
        return None


def read_mlflow_id(run_dir: Path) -> str | None:
    return read_wandb_id(run_dir, MLFLOW_ID_FILE)


def is_continuing(run_dir: Path) -> bool:
    """A run with a checkpoint continues (resume=, or a requeued job); a new one has none."""
    return layout.has_checkpoint(run_dir)


def wandb_run_id(run_dir: Path) -> str:
    """The W&B id of the run in `run_dir`: the stored one when the run continues, else a new
    random one, stored (a run restarted from scratch in its directory is a new W&B run)."""
    stored = read_wandb_id(run_dir)
    if stored and is_continuing(run_dir):
        return stored
    run_id = new_wandb_id()
    atomic_write_text(run_dir / WANDB_ID_FILE, run_id + "\n")
    return run_id


def _saved_hydra(run_dir: Path) -> DictConfig | None:
    try:
        saved = OmegaConf.load(run_dir / HYDRA_SAVED)
    except (OSError, ValueError):
        return None
    return saved if isinstance(saved, DictConfig) else None


def run_group(run_dir: Path) -> str | None:
    """The sweep folder's name for a job of a sweep, else the experiment's name."""
    saved = _saved_hydra(run_dir)
    if saved is None:
        return None
    if OmegaConf.select(saved, "hydra.mode") == "MULTIRUN":
        return run_dir.parent.name
    experiment = OmegaConf.select(saved, "hydra.runtime.choices.experiment")
    return str(experiment) if experiment else None


def _saved_config(run_dir: Path) -> DictConfig | None:
    try:
        cfg = layout.load_config(run_dir)
    except (OSError, ValueError):
        return None
    return cfg if isinstance(cfg, DictConfig) else None


def run_tags(run_dir: Path, configured: Any = ()) -> list[str]:
    """The configured tags, the model's name and `residual` or `pure`, each once."""
    tags = [str(tag) for tag in configured or ()]
    cfg = _saved_config(run_dir)
    model = OmegaConf.select(cfg, "model.name") if cfg is not None else None
    if model:
        tags.append(str(model))
        if str(model) in catalog.CATALOG:
            tags.append("residual" if catalog.entry(str(model)).residual else "pure")
    return list(dict.fromkeys(tags))


WandbMode = Literal["online", "offline", "disabled"]


def wandb_mode() -> WandbMode:
    """disabled when WANDB_MODE says so, else offline or online as `wandb_offline` decides."""
    from inception_cli.config.resolvers import wandb_offline

    if os.environ.get("WANDB_MODE", "").lower() == "disabled":
        return "disabled"
    return "offline" if wandb_offline() else "online"


def wandb_logger_arguments(run_dir: Path, logger_cfg: DictConfig) -> dict[str, Any]:
    """What WandbLogger gets beside its config: where it writes, the run's id, group, job type
    and tags. Only global rank 0 opens the W&B run; the other ranks get no id."""
    from inception_cli.rundir.claims import global_rank

    arguments: dict[str, Any] = {
        "save_dir": str(run_dir),
        "name": logger_cfg.get("name") or run_dir.name,
        "id": wandb_run_id(run_dir) if global_rank() == 0 else None,
        "group": logger_cfg.get("group") or run_group(run_dir),
        "job_type": logger_cfg.get("job_type") or TRAIN_JOB,
        "tags": run_tags(run_dir, logger_cfg.get("tags")),
    }
    if logger_cfg.get("log_model") and logger_cfg.get("offline"):
        # Lightning refuses log_model offline; W&B itself keeps offline artifacts for `wandb
        # sync`, so the run is opened offline through W&B's own setting instead.
        arguments.update(offline=False, mode=wandb_mode())
    return arguments


def mlflow_local_uri(run_dir: Path) -> str:
    """A SQLite store inside the run directory: MLflow 3 refuses its file store by default."""
    return f"sqlite:///{(run_dir / MLFLOW_DIR / 'mlflow.db').resolve()}"


def mlflow_tags(run_dir: Path, configured: Any = None) -> dict[str, str]:
    """The configured tags, then the model, `kind` (residual or pure), group and job type."""
    tags = {str(key): str(value) for key, value in (configured or {}).items()}
    model_and_kind = run_tags(run_dir)  # [model, residual or pure] when the run has a model
    facts = {
        "model": model_and_kind[0] if model_and_kind else None,
        "kind": model_and_kind[1] if len(model_and_kind) > 1 else None,
        "group": run_group(run_dir),
    }
    tags.update({key: str(value) for key, value in facts.items() if value and key not in tags})
    tags.setdefault("job_type", TRAIN_JOB)
    return tags


def mlflow_logger_arguments(run_dir: Path, logger_cfg: DictConfig) -> dict[str, Any] | None:
    """What the MLflow logger gets beside its config: the store, and the run, opened here so
    that a store that cannot be reached stops the run with one line before it trains; its id is
    kept in the run directory and continued as W&B's is. None off global rank 0: the other
    ranks log nothing, and opening the store from every rank at once would race to create the
    local database."""
    from inception_cli.rundir.claims import global_rank

    if global_rank() != 0:
        return None
    # Set before mlflow is first imported, when it decides: no usage report leaves the machine.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow.exceptions import MlflowException

    from inception_cli.training.mlflow_logger import open_mlflow_run

    local = not logger_cfg.get("tracking_uri")
    uri = mlflow_local_uri(run_dir) if local else str(logger_cfg.tracking_uri)
    name = str(logger_cfg.get("run_name") or run_dir.name)
    tags = mlflow_tags(run_dir, logger_cfg.get("tags"))
    experiment = str(logger_cfg.get("experiment_name") or MLFLOW_EXPERIMENT)
    stored = read_mlflow_id(run_dir) if is_continuing(run_dir) else None
    artifacts = (run_dir / MLFLOW_DIR / "artifacts").resolve().as_uri() if local else None
    try:
        if local:
            (run_dir / MLFLOW_DIR).mkdir(parents=True, exist_ok=True)
        run_id = open_mlflow_run(
            uri, experiment, {**tags, "mlflow.runName": name}, stored, artifacts
        )
    except (MlflowException, OSError) as err:
        message = (str(err).strip() or type(err).__name__).splitlines()[0]
        raise InputError(
            f"MLflow store {uri}: {message}; check logger.mlflow.tracking_uri "
            "(null: a local store in the run directory)"
        ) from None
    if run_id != stored:
        atomic_write_text(run_dir / MLFLOW_ID_FILE, run_id + "\n")
    return {"tracking_uri": uri, "run_id": run_id, "run_name": name, "tags": tags}


def run_hyperparameters(cfg: DictConfig, facts: dict[str, Any]) -> dict[str, Any]:
    """The resolved config (no `hydra` node) and FACTS_FOR_TRACKERS from run_facts."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    params = {str(key): value for key, value in plain.items() if key != "hydra"}
    params.update({key: facts[key] for key in FACTS_FOR_TRACKERS if key in facts})
    return params


def eval_summary(run_dir: Path, record: dict[str, Any]) -> dict[str, Any]:
    """The W&B summary keys of an evaluation record for the run in `run_dir`: its own errors
    when it is one member of an ensemble, else the record's."""
    own = next(
        (
            member
            for member in record.get("members", [])
            if member.get("run_dir") and Path(member["run_dir"]).resolve() == run_dir.resolve()
        ),
        record,
    )
    crops = (record.get("protocol") or {}).get("crops", record.get("crops", 1))
    prefix = f"eval/{crops}crop"
    summary = {f"{prefix}/top1_error": own["top1_error"], f"{prefix}/top5_error": own["top5_error"]}
    if record.get("ensemble"):
        summary[f"{prefix}/ensemble_top1_error"] = record["top1_error"]
        summary[f"{prefix}/ensemble_top5_error"] = record["top5_error"]
    return summary


def add_eval_results_to_wandb(run_dir: Path, record: dict[str, Any]) -> bool:
    """Add the top-1/top-5 errors of an `inception eval` record to the summary of the W&B run of
    `run_dir`, offline unless W&B is logged in (`wandb sync` uploads it later, with the run).
    Returns False, doing nothing, for a run without a W&B run or where wandb is missing."""
    run_id = read_wandb_id(run_dir)
    if run_id is None or wandb_mode() == "disabled":
        return False
    try:
        import wandb
    except ImportError:
        return False
    cfg = _saved_config(run_dir)
    logger_cfg = OmegaConf.select(cfg, "logger.wandb") if cfg is not None else None
    run = wandb.init(
        id=run_id,
        resume="allow",
        dir=str(run_dir),
        project=(logger_cfg.get("project") if logger_cfg else None) or "inception",
        entity=logger_cfg.get("entity") if logger_cfg else None,
        mode=wandb_mode(),
        settings=wandb.Settings(silent=True),
    )
    try:
        run.summary.update(eval_summary(run_dir, record))
    finally:
        run.finish()
    return True


def record_eval_in_wandb(record: dict[str, Any]) -> list[Path]:
    """`add_eval_results_to_wandb` for each run evaluated in `record`; the runs it reached."""
    run_dirs = {Path(m["run_dir"]) for m in record.get("members", []) if m.get("run_dir")}
    return [run_dir for run_dir in sorted(run_dirs) if add_eval_results_to_wandb(run_dir, record)]
