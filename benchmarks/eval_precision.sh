#!/usr/bin/env bash
# docs/eval.md, "Speed: precision, memory layout, batch, loader": `inception eval` with the fast
# settings (--precision auto, which is bf16 on CPUs with AVX-512 BF16 or AMX and on Ampere or
# newer GPUs, and channels_last) against --precision 32 --no-channels-last, back to back, on the
# same run and images. Prints each pair's images/s (from the JSON results), the median ratio,
# how often the two agree on each image's top-1 class (protocol and single crop), and the error
# differences.
#
#   bash benchmarks/eval_precision.sh                    # trains the quick-look run first (~3 min)
#   bash benchmarks/eval_precision.sh runs/<id>          # an existing run
#   PAIRS=5 LIMIT=1000 CROPS=144 bash benchmarks/eval_precision.sh runs/<id>
#
# Defaults: 3 pairs, 144 crops, the first 200 validation images. Timings are only comparable on
# a quiet machine: the pairs alternate so that a change of load touches both settings alike.
set -euo pipefail

pairs=${PAIRS:-3}
limit=${LIMIT:-200}
crops=${CROPS:-144}
work=$(mktemp -d)
run=${1:-}
if [[ -z $run ]]; then
  echo "training the quick-look run (inception train trainer.max_epochs=1) in $work"
  (cd "$work" && inception train trainer.max_epochs=1 > train.log 2>&1)
  run=$(ls -d "$work"/runs/*/ | head -n 1)
fi

# A copy of the run, so that partial results of an earlier, interrupted evaluation of the same
# run and settings are not taken up (they would be: inception eval continues where it stopped).
mkdir "$work/run"
cp -r "${run%/}/.hydra" "${run%/}/checkpoints" "$work/run/"

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%F)"
python -c 'import sys, torch; print(f"python {sys.version.split()[0]}, torch {torch.__version__}")'
echo "command: inception eval <a copy of $run> --crops $crops --limit $limit --precision auto | --precision 32 --no-channels-last"
for pair in $(seq "$pairs"); do
  inception eval "$work/run" --crops "$crops" --limit "$limit" --precision auto \
    --output "$work/defaults-$pair.json" > /dev/null
  inception eval "$work/run" --crops "$crops" --limit "$limit" --precision 32 --no-channels-last \
    --output "$work/fp32-$pair.json" > /dev/null
done

python - "$work" "$pairs" <<'PY'
import json
import statistics
import sys
from pathlib import Path

import numpy as np

work, pairs = Path(sys.argv[1]), int(sys.argv[2])
ratios = []
for pair in range(1, pairs + 1):
    fast = json.loads((work / f"defaults-{pair}.json").read_text())
    exact = json.loads((work / f"fp32-{pair}.json").read_text())
    fast_rate = fast["throughput"]["images_per_s"]
    exact_rate = exact["throughput"]["images_per_s"]
    ratios.append(fast_rate / exact_rate)
    print(
        f"pair {pair}: {fast['precision']}, channels_last {fast['channels_last']}: "
        f"{fast_rate:.2f} images/s ({100 * fast['throughput']['share_outside_forward']:.0f}% "
        f"outside the forward passes); 32, NCHW: {exact_rate:.2f} images/s "
        f"({100 * exact['throughput']['share_outside_forward']:.0f}%); ratio {ratios[-1]:.2f}"
    )
print(f"median ratio over {pairs} pairs: {statistics.median(ratios):.2f}")

fast, exact = (np.load(work / f"{name}-1.npz") for name in ("defaults", "fp32"))
fast_json, exact_json = (json.loads((work / f"{n}-1.json").read_text()) for n in ("defaults", "fp32"))
print(f"images: {len(fast['labels'])}")
for head, field in (("protocol", "multi"), ("single crop", "single")):
    if len(fast[field]) == 0:
        continue
    agree = float((fast[field][:, -1, 0] == exact[field][:, -1, 0]).mean())
    if field == "multi":
        gap = fast_json["top1_error"] - exact_json["top1_error"]
    else:
        gap = fast_json["single_crop"]["top1_error"] - exact_json["single_crop"]["top1_error"]
    print(f"{head}: top-1 decisions agree on {100 * agree:.1f}% of images; top-1 error "
          f"{gap:+.2f} points (bf16 - float32)")
PY
rm -rf "$work"
