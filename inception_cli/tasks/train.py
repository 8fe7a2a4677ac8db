"""`inception train`: the Hydra task, a thin entry point over `training.loop.train(cfg, run_dir)`.

Run as `python -m inception_cli.tasks.train [OVERRIDES]` (the CLI replaces itself with this), so
that Hydra owns argv, run directories and multirun, and Lightning's DDP launcher can start the
same module in every rank with `hydra.run.dir` pointing at the shared run directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from inception_cli import runs
from inception_cli.config import TRAIN_CONFIG, config_dir, register_resolvers
from inception_cli.errors import InputError
from inception_cli.training.loop import train

__all__ = ["main", "train"]

register_resolvers()


@hydra.main(config_path=str(config_dir()), config_name=TRAIN_CONFIG, version_base="1.3")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    if not cfg.get("resume") and hydra_cfg.output_subdir is not None:
        # Hydra saves the config with interpolations; eval and resume want the values it ran with.
        runs.save_config(run_dir, OmegaConf.to_yaml(cfg, resolve=True))
    try:
        train(cfg, run_dir)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    from inception_cli.training.environment import quiet_third_party_noise

    quiet_third_party_noise()
    main()
