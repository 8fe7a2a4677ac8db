"""`logger=mlflow`: params MLflow accepts; no stray warning, no usage report, one line when the
store cannot be reached; and, with `-m slow`, a run and its resume logged to one MLflow run, read
back with MLflow's own client from the local store in the run directory, and a run logged to an
`mlflow server` on the loopback address."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf
from support.user import assert_one_line_error
from test_tracking import save_hydra
from test_warnings import warnings_in

from inception_cli.rundir import layout
from inception_cli.training.mlflow_logger import CHANGED_PREFIX, MAX_VALUE, mlflow_params
from inception_cli.training.tracking import mlflow_local_uri, mlflow_tags, read_mlflow_id

pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

TINY_MLFLOW = ["train", "debug=tiny", "logger=mlflow"]  # debug=tiny sets logger=csv first


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def stray_tracking_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLFLOW_TRACKING_URI pointing where nothing listens: the config alone says where a run
    logs (MLflow sets the variable itself, for the rest of a sweep's process)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")


def the_run(cwd: Path) -> Path:
    (run_dir,) = [p for p in (cwd / "runs").iterdir() if p.is_dir()]
    return run_dir


def assert_logged_like_wandb(client: MlflowClient, run_dir: Path) -> Any:
    """The run of `run_dir` holds the metrics, params and tags W&B gets; returns it."""
    run = client.get_run(read_mlflow_id(run_dir))
    assert {"val/top1_error", "val/top5_error", "train/loss", "perf/images_per_s"} <= set(
        run.data.metrics
    )
    params = run.data.params
    assert params["model/name"] == "irv2" and params["optimizer/lr_scaling"] == "sqrt"
    assert {"params", "git_rev", "global_batch", "effective_lr"} <= set(params)
    assert float(params["effective_lr"]) > 0 and int(params["params"]) > 0
    tags = run.data.tags
    assert (tags["model"], tags["kind"], tags["group"]) == ("irv2", "residual", "quick_look")
    assert tags["mlflow.runName"] == run_dir.name
    return run


@pytest.mark.slow  # two training processes: about 30 s
def test_a_run_and_its_resume_log_to_one_mlflow_run(
    inception, tmp_path: Path, stray_tracking_env: None
) -> None:
    first = inception(*TINY_MLFLOW)
    assert first.returncode == 0, first.stderr[-3000:]
    assert warnings_in(first.stdout + first.stderr) == []
    run_dir = the_run(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"], "the store is in the run"
    client = MlflowClient(tracking_uri=mlflow_local_uri(run_dir))
    run = assert_logged_like_wandb(client, run_dir)
    assert run.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val/top1_error")] == [3]

    resumed = inception("train", f"resume={run_dir}", "trainer.max_epochs=2")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert warnings_in(resumed.stdout + resumed.stderr) == []
    assert read_mlflow_id(run_dir) == run.info.run_id, "the same MLflow run goes on"
    (only,) = client.search_runs([run.info.experiment_id])
    assert only.info.run_id == run.info.run_id and only.info.status == "FINISHED"
    history = client.get_metric_history(run.info.run_id, "val/top1_error")
    assert [m.step for m in history] == [3, 7], "the second epoch's validation joins the first"
    # MLflow keeps a param's first value; what the resume changed is a tag.
    assert only.data.params["trainer/max_epochs"] == "1"
    assert only.data.tags[f"{CHANGED_PREFIX}trainer/max_epochs"] == "2"


def test_params_are_flattened_within_mlflows_limits() -> None:
    hyperparameters = {
        "model": {"name": "v4", "width": 0.5},
        "callbacks": {"extra": {"my+probe": {"every": 3}}},
        "note": "x" * (MAX_VALUE + 10),
        "trainer": {"max_epochs": 2},
    }
    new, changed = mlflow_params(hyperparameters, {})
    assert new["model/name"] == "v4" and new["model/width"] == "0.5"
    assert new["callbacks/extra/my_probe/every"] == "3", "a character MLflow refuses is replaced"
    assert len(new["note"]) == MAX_VALUE and changed == {}
    # A resume logs them again: unchanged values are not sent, changed ones become tags.
    logged = {**new, "trainer/max_epochs": "1"}
    del logged["model/width"]
    new, changed = mlflow_params(hyperparameters, logged)
    assert new == {"model/width": "0.5"}
    assert changed == {f"{CHANGED_PREFIX}trainer/max_epochs": "2"}


def test_tags_are_the_model_its_kind_and_the_group(tmp_path: Path) -> None:
    run_dir = tmp_path / "2026-11-28_03-00-00_sweep" / "0_v3"
    save_hydra(run_dir, "MULTIRUN")
    layout.save_config(run_dir, OmegaConf.to_yaml({"model": {"name": "v3"}}))
    assert mlflow_tags(run_dir, {"owner": "lab", "model": "mine"}) == {
        "owner": "lab",
        "model": "mine",  # a configured tag is kept
        "kind": "pure",
        "group": "2026-11-28_03-00-00_sweep",
        "job_type": "train",
    }


def test_a_store_that_cannot_be_reached_is_one_line(
    inception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # nothing listens: no back-off
    uri = f"http://127.0.0.1:{free_port()}"
    done = inception(*TINY_MLFLOW, f"logger.mlflow.tracking_uri={uri}")
    assert_one_line_error(done, f"MLflow store {uri}: ")
    assert not any((tmp_path / "runs").glob("*_irv2")), "a run that never started is removed"


def test_no_usage_report_is_sent(tmp_path: Path) -> None:
    """MLflow reports usage unless told not to, and decides when it is first imported; CI
    variables turn it off too, so the check runs without them (against a store that is not
    there, which is quicker to fail than a local one is to create)."""
    code = (
        "from pathlib import Path\n"
        "from omegaconf import OmegaConf\n"
        "from inception_cli.errors import InputError\n"
        "from inception_cli.training.tracking import mlflow_logger_arguments\n"
        f"cfg = OmegaConf.create({{'tracking_uri': 'http://127.0.0.1:{free_port()}'}})\n"
        "try:\n"
        f"    mlflow_logger_arguments(Path({str(tmp_path)!r}), cfg)\n"
        "except InputError as err:\n"
        "    print('refused:', err)\n"
        "from mlflow.telemetry import get_telemetry_client\n"
        "print('telemetry:', get_telemetry_client())\n"
    )
    ci = ("PYTEST_CURRENT_TEST", "CI", "GITHUB_ACTIONS", "MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK")
    env = {key: value for key, value in os.environ.items() if key not in ci}
    env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "refused: MLflow store http://127.0.0.1:" in done.stdout
    assert "telemetry: None" in done.stdout


# -- a tracking server ----------------------------------------------------------------------------
@pytest.fixture
def mlflow_server(tmp_path: Path) -> Any:
    """`mlflow server` on 127.0.0.1 and a free port, up within two minutes, stopped after."""
    port = free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # its job runner is not needed
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1"]
    command += ["--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}"]
    command += ["--artifacts-destination", str(tmp_path / "server_artifacts")]
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not health_ok(uri):
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "mlflow server did not start in 120 s"
            time.sleep(0.5)
        yield uri
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and its worker
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def health_ok(uri: str) -> bool:
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.mark.slow
def test_a_run_logs_to_an_mlflow_server(inception, tmp_path: Path, mlflow_server: str) -> None:
    done = inception(*TINY_MLFLOW, f"logger.mlflow.tracking_uri={mlflow_server}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert warnings_in(done.stdout + done.stderr) == []
    run_dir = the_run(tmp_path)
    assert not (run_dir / "mlflow").exists(), "no local store beside a server"
    run = assert_logged_like_wandb(MlflowClient(tracking_uri=mlflow_server), run_dir)
    assert run.info.status == "FINISHED"


@pytest.mark.slow
def test_each_job_of_a_sweep_logs_to_its_own_store(
    inception, tmp_path: Path, stray_tracking_env: None
) -> None:
    done = inception("train", "-m", "model=v3,irv1", "debug=tiny", "logger=mlflow")
    assert done.returncode == 0, done.stderr[-3000:]
    (sweep,) = (tmp_path / "runs").iterdir()
    for run_dir, model in ((sweep / "0_v3", "v3"), (sweep / "1_irv1", "irv1")):
        client = MlflowClient(tracking_uri=mlflow_local_uri(run_dir))
        (run,) = client.search_runs([client.get_experiment_by_name("inception").experiment_id])
        assert run.info.run_id == read_mlflow_id(run_dir)
        assert (run.data.tags["model"], run.data.tags["group"]) == (model, sweep.name)
        assert "val/top1_error" in run.data.metrics
