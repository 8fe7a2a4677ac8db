"""Nothing read from a run directory runs code (rundir/trust.py): `resume=` composes the run
again from conf/ and the saved overrides and only compares the saved config with it. Each test
plants code in a finished run's .hydra/ and checks that the file the code would leave never
appears."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.user import TINY, assert_one_line_error, finished_run

PROBE = Path(__file__).parent / "support" / "probe"
MORE = "trainer.max_epochs=2"  # a continuation with something to do


def inception(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(PROBE), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "inception_cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return finished_run(tmp_path_factory.mktemp("finished"))


@pytest.fixture
def planted(finished: Path, tmp_path: Path) -> Path:
    """A copy of the finished run, for one test to plant code in."""
    run_dir = tmp_path / "planted"
    shutil.copytree(finished, run_dir)
    return run_dir


def edit_yaml(path: Path, change: dict) -> None:
    data = yaml.safe_load(path.read_text())
    data.update(change)
    path.write_text(yaml.safe_dump(data))


class RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.makedirs, (str(self.marker),))


def test_a_target_that_unpickles_a_shipped_file_is_refused(planted: Path, tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    (planted / "notes.pkl").write_bytes(pickle.dumps(RunsCode(marker)))
    extra = {"_target_": "torch.load", "f": str(planted / "notes.pkl"), "weights_only": False}
    config = planted / ".hydra" / "config.yaml"
    data = yaml.safe_load(config.read_text())
    data["callbacks"]["extra"] = {"x": extra}
    config.write_text(yaml.safe_dump(data))
    done = inception(tmp_path, "train", f"resume={planted}", MORE)
    assert_one_line_error(done, "callbacks.extra.x={'_target_': 'torch.load'")
    assert "trust_config=true" in done.stderr and not marker.exists()


def test_a_target_made_by_an_interpolation_is_refused(planted: Path, tmp_path: Path) -> None:
    marker = tmp_path / "interpolated"
    config = planted / ".hydra" / "config.yaml"
    data = yaml.safe_load(config.read_text())
    data["callbacks"]["extra"] = {
        "x": "${oc.create:{_target_: os.makedirs, name: " + str(marker) + "}}"
    }
    config.write_text(yaml.safe_dump(data))
    done = inception(tmp_path, "train", f"resume={planted}", MORE)
    assert_one_line_error(done, "callbacks.extra.x=")
    assert not marker.exists()


def test_a_defaults_list_pulling_a_sibling_file_is_refused(planted: Path, tmp_path: Path) -> None:
    marker = tmp_path / "sibling"
    hydra_dir = planted / ".hydra"
    (hydra_dir / "evil.yaml").write_text(
        yaml.safe_dump(
            {"callbacks": {"extra": {"x": {"_target_": "os.makedirs", "name": str(marker)}}}}
        )
    )
    edit_yaml(hydra_dir / "config.yaml", {"defaults": ["_self_", "evil"]})
    done = inception(tmp_path, "train", f"resume={planted}", MORE)
    assert_one_line_error(done, "defaults=")
    assert not marker.exists()


def hydra_node(marker: Path, env_marker: Path) -> dict:
    return {
        "callbacks": {"x": {"_target_": "os.makedirs", "name": str(marker)}},
        "job": {"env_set": {"INCEPTION_TEST_MARKER": str(env_marker)}},
    }


@pytest.mark.parametrize("where", ["config.yaml", "hydra.yaml"])
def test_hydra_callbacks_and_environment_never_act(
    planted: Path, tmp_path: Path, where: str
) -> None:
    """In the saved config they are a difference from conf/ and refused; in hydra.yaml they
    are never read, and the run continues with conf/'s Hydra settings."""
    marker, env_marker = tmp_path / "callback", tmp_path / "environment"
    edit_yaml(planted / ".hydra" / where, {"hydra": hydra_node(marker, env_marker)})
    done = inception(tmp_path, "train", f"resume={planted}", MORE)
    if where == "config.yaml":
        assert_one_line_error(done, "hydra=")
    else:
        assert done.returncode == 0, done.stderr[-3000:]
    assert not marker.exists() and not env_marker.exists()


@pytest.mark.parametrize(
    "override",
    ["+callbacks.extra.x._target_=os.makedirs", "hydra.job.env_set.A=1", "seed=${oc.env:HOME}"],
)
def test_saved_overrides_may_only_choose_and_set_values(
    planted: Path, tmp_path: Path, override: str
) -> None:
    overrides = planted / ".hydra" / "overrides.yaml"
    overrides.write_text(yaml.safe_dump([*yaml.safe_load(overrides.read_text()), override]))
    done = inception(tmp_path, "train", f"resume={planted}", MORE)
    assert_one_line_error(done, repr(override))


def test_the_probe_sees_an_environment_hydra_sets(tmp_path: Path) -> None:
    """The environment marker above would appear if Hydra applied env_set: shown on a new run."""
    env_marker = tmp_path / "environment"
    done = inception(
        tmp_path, "train", *TINY, f"+hydra.job.env_set.INCEPTION_TEST_MARKER={env_marker}"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert env_marker.exists()


def test_trust_config_still_runs_the_saved_config_as_it_is(planted: Path, tmp_path: Path) -> None:
    config = planted / ".hydra" / "config.yaml"
    data = yaml.safe_load(config.read_text())
    data["callbacks"]["checkpoint_every_n_train_steps"] = 1  # an edit conf/ would not compose
    config.write_text(yaml.safe_dump(data))
    refused = inception(tmp_path, "train", f"resume={planted}", MORE)
    assert_one_line_error(refused, "callbacks.checkpoint_every_n_train_steps=1")
    done = inception(tmp_path, "train", f"resume={planted}", MORE, "trust_config=true")
    assert done.returncode == 0, done.stderr[-3000:]
