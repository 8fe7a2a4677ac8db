"""An ImageNet-like folder of synthetic JPEGs for the GPU benchmarks: `count` photographs'
worth of files (inception_cli/benchmarking/data.py, write_synthetic_jpegs) in 4 classes under
train/, written by one process per core, and a small val/ of the first 32 images of each class,
hard-linked.

    python benchmarks/synthetic_jpegs.py DIR COUNT      # then: inception data pack DIR ...
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

VAL_PER_CLASS = 32


def main(root: Path, count: int) -> None:
    from inception_cli.benchmarking.data import write_synthetic_jpegs

    processes = os.cpu_count() or 1
    chunk = -(-count // processes)
    with ProcessPoolExecutor(processes) as pool:
        jobs = [
            pool.submit(write_synthetic_jpegs, root, min(chunk, count - start), 4, start)
            for start in range(0, count, chunk)
        ]
        for job in jobs:
            job.result()
    for class_dir in sorted((root / "train").iterdir()):
        val_dir = root / "val" / class_dir.name
        val_dir.mkdir(parents=True, exist_ok=True)
        for image in sorted(class_dir.glob("*.JPEG"))[:VAL_PER_CLASS]:
            os.link(image, val_dir / image.name)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one process per core already
    main(Path(sys.argv[1]), int(sys.argv[2]))
