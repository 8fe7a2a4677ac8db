#!/usr/bin/env bash
# One short GPU check: our networks against timm's (interleaved), in bf16 with channels_last,
# then a few training steps of `inception train` with the GPU preset. Figures go to $OUT
# (or ./gpu-check). Usage: bash benchmarks/gpu_check.sh
set -uo pipefail
out=${OUT:-gpu-check}
mkdir -p "$out"
run() { echo "+ $*"; "$@"; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda)" | tee -a "$out/gpu.txt"
for model in v4 irv2 v3; do
  run python3 -m inception_cli bench model=$model --mode train --batch-size 64 --precision bf16-mixed \
    --channels-last --vs timm --repeats 3 steps=5 warmup=3 peak_seconds=1 \
    --output "$out/bench-$model-train-bf16.json" 2>&1 | tail -n 12
done
run python3 -m inception_cli bench model=v4 --mode eval --batch-size 128 --precision bf16-mixed \
  --channels-last --vs timm --repeats 3 steps=5 warmup=3 peak_seconds=1 \
  --output "$out/bench-v4-eval-bf16.json" 2>&1 | tail -n 12
run python3 -m inception_cli train model=irv2 trainer=gpu data=synthetic data.num_train=2048 \
  data.num_val=256 data.batch_size=64 data.input_size=299 data.num_classes=1000 \
  trainer.max_epochs=1 callbacks.progress_bar=none paths.runs_dir="$out/runs" 2>&1 | tail -n 12
cp "$out"/runs/*/metrics.csv "$out/train-metrics.csv" 2>/dev/null
cp "$out"/runs/*/summary.json "$out/train-summary.json" 2>/dev/null
rm -rf "$out/runs"
