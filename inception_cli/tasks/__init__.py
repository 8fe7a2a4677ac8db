"""One pure function per command, testable without the CLI; tasks/launch.py checks `inception
train`'s arguments in the CLI process (no torch) before tasks/train.py, the Hydra task, runs."""
