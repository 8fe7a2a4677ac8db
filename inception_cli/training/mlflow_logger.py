"""MLflow as a logger (`logger=mlflow`): Lightning's MLFlowLogger, with the run's hyperparameters
as params MLflow accepts, and the MLflow run opened before training (tracking.py decides which
run: the store, its id, its tags).

MLflow keeps a param once: logging a key again with another value is refused, and a resumed run
logs its hyperparameters again (`trainer.max_epochs` and `resume` have changed). The params keep
the values the run started with; a value that changed is set as the tag `resumed/<key>`, which
holds the latest value.
"""

from __future__ import annotations

import logging
import re
from argparse import Namespace
from typing import Any

from lightning.fabric.utilities.logger import _convert_params, _flatten_dict
from lightning.pytorch.loggers import mlflow as lightning_mlflow
from lightning.pytorch.utilities.rank_zero import rank_zero_only

MAX_KEY = 250  # MLflow's limits on a param's key and value, and params per request
MAX_VALUE = 6000
PER_BATCH = 100
CHANGED_PREFIX = "resumed/"
# What MLflow allows in a key on every system (colons are refused on Windows).
NOT_IN_KEY = re.compile(r"[^/\w.\- ]")


def mlflow_params(
    hyperparameters: dict[str, Any] | Namespace, logged: dict[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The params to log, flattened with '/' as Lightning's loggers do, keys and values within
    MLflow's limits; and those whose value differs from the one `logged` already holds."""
    new: dict[str, str] = {}
    changed: dict[str, str] = {}
    for key, value in _flatten_dict(_convert_params(hyperparameters)).items():
        name = "/".join(part for part in NOT_IN_KEY.sub("_", str(key)).split("/") if part)
        text = str(value)[:MAX_VALUE]
        name = name[:MAX_KEY]
        if name not in logged:
            new[name] = text
        elif logged[name] != text:
            changed[(CHANGED_PREFIX + name)[:MAX_KEY]] = text
    return new, changed


class MLFlowLogger(lightning_mlflow.MLFlowLogger):
    """Lightning's MLFlowLogger (same class name, so the checks before a run name its package),
    logging the hyperparameters as `mlflow_params` says."""

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace) -> None:
        from mlflow.entities import Param, RunTag

        client, run_id = self.experiment, self.run_id
        assert run_id is not None
        new, changed = mlflow_params(params, client.get_run(run_id).data.params)
        listed = [Param(key, value) for key, value in new.items()]
        for start in range(0, len(listed), PER_BATCH):
            client.log_batch(run_id, params=listed[start : start + PER_BATCH])
        tags = [RunTag(key, value) for key, value in changed.items()]
        for start in range(0, len(tags), PER_BATCH):
            client.log_batch(run_id, tags=tags[start : start + PER_BATCH])


def open_mlflow_run(
    uri: str, experiment: str, tags: dict[str, str], stored: str | None, artifacts: str | None
) -> str:
    """The id of the MLflow run to log to: `stored` (the run continues) when the store has it,
    marked running again; else a new run in `experiment`, whose artifacts go to `artifacts`
    when it is created here (None: where the server puts them)."""
    from mlflow.tracking import MlflowClient
    from mlflow.tracking.context.registry import resolve_tags

    # A new local store logs its table creation at INFO: MLflow's business, not the user's.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
    client = MlflowClient(tracking_uri=uri)
    if stored and _has_run(client, stored):
        client.update_run(stored, status="RUNNING")
        return stored
    experiment_id = _experiment_id(client, experiment, artifacts)
    return str(client.create_run(experiment_id, tags=resolve_tags(tags)).info.run_id)


def _experiment_id(client: Any, name: str, artifacts: str | None) -> str:
    """The experiment's id, created when missing; on a server the jobs of a sweep that start
    together race to create it, and those that lose find it."""
    from mlflow.exceptions import MlflowException

    try:
        found = client.get_experiment_by_name(name)
        return str(found.experiment_id if found else client.create_experiment(name, artifacts))
    except MlflowException:
        found = client.get_experiment_by_name(name)
        if found is None or found.lifecycle_stage != "active":
            raise  # e.g. deleted: MLflow's message says how to restore it
        return str(found.experiment_id)


def _has_run(client: Any, run_id: str) -> bool:
    """A run moved to another store (tracking_uri changed on resume) starts a new MLflow run."""
    from mlflow.exceptions import MlflowException

    try:
        return bool(client.get_run(run_id).info.lifecycle_stage == "active")
    except MlflowException as err:
        if err.error_code == "RESOURCE_DOES_NOT_EXIST":
            return False
        raise
