#!/usr/bin/env bash
# The input-pipeline figures of docs/performance.md ("Input pipeline"), on one CPU core:
# the training loader reading 500x375 JPEGs from a folder and the same images packed into
# shards with --max-side 320 (timed blocks alternate, A B A B ...), next to the training
# step of Inception-v3, then the uint8 pipeline against the float one.
#
#   bash benchmarks/data_loader.sh [core] [repeats]   # about 10-20 minutes on a quiet core
# Fewer repeats (e.g. 5) shorten it on a busy machine; the blocks still alternate.
set -euo pipefail
core="${1:-0}"
repeats="${2:-9}"
out="${TMPDIR:-/tmp}/inception-data-bench"
mkdir -p "$out"
lscpu | grep -m1 "Model name"
python -c "import torch, torchvision, PIL; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'pillow', PIL.__version__)"
export OMP_NUM_THREADS=1
taskset -c "$core" inception bench --mode data model=v3 --precision bf16-mixed --batch-size 16 \
  --max-side 320 workers=0 steps=8 warmup=2 --repeats "$repeats" peak_seconds=0.5 \
  --output "$out/data-$(date +%Y%m%d-%H%M%S).json"
taskset -c "$core" python "$(dirname "$0")/uint8_pipeline.py" "$repeats"
