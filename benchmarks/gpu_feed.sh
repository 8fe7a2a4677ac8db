#!/usr/bin/env bash
# The GPU rows of docs/performance.md ("Feeding a GPU"): on one GPU with all of the machine's
# cores, Inception-v4 at 299 px in bf16 -
#   1. the training step on synthetic data (`inception bench --mode train`),
#   2. the training loader reading a JPEG folder and the same images packed into shards with
#      --max-side 320, at 8 workers and at one per core (`inception bench --mode data`),
#   3. `inception train experiment=paper model=v4` from those shards, whose perf/images_per_s
#      (metrics.csv) is set against (1);
#   4. the operations, kernels and host and device time per step of that recipe, and of the
#      recipe with each part taken away (benchmarks/step_dispatches.py).
# The JPEGs are synthetic 500x375 photographs' stand-ins (benchmarking/data.py), 4 classes.
#
#   bash benchmarks/gpu_feed.sh [out-folder]      # about 7 minutes on an H200
# A dry run on a CPU: IMAGES=48 BATCH=4 MODEL=v3 STEPS=2 DISPATCH_DEVICE=cpu \
#   TRAIN_EXTRA="trainer.accelerator=cpu trainer.precision=32" bash benchmarks/gpu_feed.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-${TMPDIR:-/tmp}/inception-gpu-feed}"
images="${IMAGES:-8192}"
batch="${BATCH:-128}"
model="${MODEL:-v4}"
steps="${STEPS:-16}"
cores="$(nproc)"
workers="$((cores > 1 ? cores - 1 : 1))"
work="$(mktemp -d)"
mkdir -p "$out"
date -u +%Y-%m-%dT%H:%MZ
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import torch, torchvision, lightning; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'lightning', lightning.__version__, 'cores', $cores)"

echo "== writing $images JPEGs on $cores processes, and a val/ of 32 a class for validation"
python3 "$here/synthetic_jpegs.py" "$work/jpegs" "$images"
inception data pack "$work/jpegs" "$work/shards" --max-side 320 --workers "$cores"

echo "== training step, synthetic data"
inception bench --mode train model="$model" --precision bf16-mixed --batch-size "$batch" \
  steps="$steps" warmup=5 --repeats 3 --output "$out/bench-train.json"

echo "== loaders"
inception bench --mode data model="$model" --precision bf16-mixed --batch-size "$batch" \
  data.root="$work/jpegs" --shards "$work/shards" workers="8,$workers" steps="$steps" warmup=2 \
  --repeats 3 --output "$out/bench-data.json"

echo "== inception train experiment=paper model=$model from the shards"
cd "$work"
inception train experiment=paper model="$model" trainer.devices=1 data=shards \
  data.root="$work/shards" data.num_classes=4 data.batch_size="$batch" \
  data.num_workers="$workers" logger=csv trainer.max_steps="$((3 * steps))" \
  trainer.log_every_n_steps=4 ${TRAIN_EXTRA:-}
metrics="$(find "$work/runs" -name metrics.csv | head -1)"
cp "$metrics" "$out/train-metrics.csv"
python3 - "$metrics" <<'EOF'
import csv
import statistics
import sys

rows = [r for r in csv.DictReader(open(sys.argv[1])) if r.get("perf/images_per_s")]
rates = [float(r["perf/images_per_s"]) for r in rows]
later = rates[len(rates) // 2 :]  # the first intervals hold cuDNN's algorithm search
print("train perf/images_per_s per interval:", [round(r) for r in rates])
print(f"train images/s (median of the later half): {statistics.median(later):.0f}")
for key in ("perf/mfu", "perf/data_wait_share"):
    values = [float(r[key]) for r in rows[len(rows) // 2 :] if r.get(key)]
    if values:
        print(f"{key} (median of the later half): {statistics.median(values):.3f}")
EOF
echo "== operations per step (benchmarks/step_dispatches.py)"
python3 "$here/step_dispatches.py" --device "${DISPATCH_DEVICE:-cuda}" --model "$model" \
  --width 1 --size 299 --batch "$batch" --workers "$workers" --jpegs "$work/jpegs" \
  2>"$out/step-dispatches.log" | tee "$out/step-dispatches.txt"
rm -rf "$work"
