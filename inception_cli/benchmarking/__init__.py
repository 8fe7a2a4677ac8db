"""Throughput of training, inference and the input pipeline, optionally against timm.

Achieved GFLOP/s divide the FLOPs of one step (torch's FlopCounterMode: 2 per multiply-add;
forward for eval, forward and backward for train) by the step time, and are set against a
square-matmul peak measured in the same process, so that a figure says how much of the
hardware a network uses, not only how fast it is. docs/performance.md explains every column.
The network modes never import omegaconf, hydra or Lightning; only the data mode does, lazily.

    settings.py  the command's options and overrides, checked into BenchSettings
    peak.py      the matmul peak, peak memory and waiting for the device
    networks.py  building ours and timm's, step functions, FLOPs, interleaved timed blocks
    data.py      the training loader's images/s per worker count, synthetic JPEGs
    report.py    the environment record and rich tables
    output.py    the JSON record's file, claimed before anything is measured
"""
