#!/usr/bin/env bash
# The CPU table of docs/performance.md: our networks against timm's, training and inference,
# float32 (NCHW; also channels_last for training) and bf16 with channels_last, 299 px, batch 8,
# 7 interleaved pairs each; then the tool's defaults against timm in plain float32.
# About 25 minutes on 2 cores.
# Figures are printed and written as JSON under runs/bench/.
set -euo pipefail

train="inception bench --mode train --size 299 --batch-size 8 steps=2 warmup=1 --repeats 7 --vs timm"
eval="inception bench --mode eval --size 299 --batch-size 8 steps=3 warmup=2 --repeats 7 --vs timm"
for model in v4 irv2 v3; do
  $train model=$model --precision 32 --no-channels-last
  $train model=$model --precision 32 --channels-last
  $train model=$model --precision bf16-mixed --channels-last
  $eval model=$model --precision 32 --no-channels-last
  $eval model=$model --precision bf16-mixed --channels-last
done
inception bench model=v4 --mode train --size 299 --batch-size 8 --vs timm-fp32 steps=2 warmup=1 --repeats 3
