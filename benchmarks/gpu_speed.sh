#!/usr/bin/env bash
# The GPU rows of docs/performance.md ("Training at the chip's speed"), in one run of at most
# DEADLINE_S seconds (8 minutes) on one GPU with the machine's cores, batch 128, bf16-mixed,
# channels_last:
#   1. the recipe against the bench, back to back: `inception bench --mode train model=v4`, then
#      `inception train experiment=paper model=v4 data=shards` from synthetic JPEGs packed with
#      --max-side 320 (perf/images_per_s, median of the later half); with the train run under
#      90% of the bench, the same run again with `debug=profile` (its table, and its trace in
#      the output folder);
#   2. torch.compile's caches warmed for every compiled row below, one process per model in
#      parallel, nothing timed meanwhile (their cold compile times are printed);
#   3. ours against timm (`inception bench --vs timm`, eager, then `--compile`), v4, irv2 and v3,
#      train and eval, in that order, in one process (tasks/bench.run_bench, what the command
#      runs), each row's JSON in the output folder;
#   4. `inception train ... compile=true` from the same shards;
#   5. a summary: images/s, share of the measured bf16 matmul peak, compile times, ratios.
# A row that would start after the deadline is not run and is listed as pending; rerun it with
# ROWS (e.g. ROWS="compare:irv2:eval compiled-train").
#
#   bash benchmarks/gpu_speed.sh [out-folder]
# A dry run on a CPU (tiny sizes; 17 minutes on two cores, most of it compiling):
#   IMAGES=48 BATCH=2 SIZE=75 MODEL=v3 MODELS=v3 MODES=train STEPS=1 REPEATS=1 TRAIN_STEPS=4 \
#   PRECISION=32 PROFILE=1 DEADLINE_S=3600 WARM_S=1800 \
#   TRAIN_EXTRA="trainer.accelerator=cpu trainer.precision=32" bash benchmarks/gpu_speed.sh
set -euo pipefail
started="$(date +%s)"
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-${TMPDIR:-/tmp}/inception-gpu-speed}"
images="${IMAGES:-8192}"
batch="${BATCH:-128}"
size="${SIZE:-}"                      # empty: each model's own input (299 px)
model="${MODEL:-v4}"                  # the recipe's model
models="${MODELS:-v4 irv2 v3}"        # ours against timm, in this order
modes="${MODES:-train eval}"
steps="${STEPS:-10}"
repeats="${REPEATS:-3}"
train_steps="${TRAIN_STEPS:-48}"
precision="${PRECISION:-bf16-mixed}"
deadline="${DEADLINE_S:-480}"
warm_s="${WARM_S:-150}"
rows="${ROWS:-recipe warm compare compiled-train}"
cores="$(nproc)"
workers="$((cores > 1 ? cores - 1 : 1))"
work="$(mktemp -d)"
mkdir -p "$out"
: >"$out/pending.txt"
left() { echo $((deadline - ($(date +%s) - started))); }
# in_dir DIR COMMAND...: as an executable, for `timeout` (each training run has a folder).
# shellcheck disable=SC2016
in_dir=(bash -c 'cd "$1" && shift && exec "$@"' _)
wanted() { [[ " $rows " == *" $1 "* ]]; }
# run_row NAME SECONDS_NEEDED COMMAND...: the command under the time left, or NAME pending.
run_row() {
  local name="$1" need="$2"
  shift 2
  if (($(left) < need)); then
    echo "== $name: pending ($(left) s left, about $need s needed)"
    echo "$name" >>"$out/pending.txt"
    return 0
  fi
  echo "== $name ($(left) s left)"
  timeout "$(left)" "$@" || {
    echo "== $name: failed or out of time (exit $?)"
    echo "$name" >>"$out/pending.txt"
  }
}
size_option=()
[[ -n "$size" ]] && size_option=(--size "$size")
train_size=()
[[ -n "$size" ]] && train_size=("data.input_size=$size")

date -u +%Y-%m-%dT%H:%MZ
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c "import torch, torchvision, lightning, timm; print('torch', torch.__version__, \
'torchvision', torchvision.__version__, 'lightning', lightning.__version__, 'timm', \
timm.__version__, 'cores', $cores)" || true

# The training data: synthetic JPEGs in 4 classes, a small val/, packed into shards.
if wanted recipe || wanted compiled-train; then
  echo "== writing $images JPEGs on $cores processes, packing them with --max-side 320"
  python3 "$here/synthetic_jpegs.py" "$work/jpegs" "$images"
  inception data pack "$work/jpegs" "$work/shards" --max-side 320 --workers "$cores" >/dev/null
fi
read -ra train_extra <<<"${TRAIN_EXTRA:-}"
read -ra mode_list <<<"$modes"
train_run=(inception train experiment=paper model="$model" trainer.devices=1 data=shards
  data.root="$work/shards" data.num_classes=4 data.batch_size="$batch" "${train_size[@]}"
  data.num_workers="$workers" logger=csv callbacks.progress_bar=none
  trainer.log_every_n_steps=4 "${train_extra[@]}")
# images/s of a run: perf/images_per_s, median of the later half of its logged intervals.
train_rate() {
  python3 - "$1" <<'EOF'
import csv
import statistics
import sys
from pathlib import Path

(metrics,) = Path(sys.argv[1]).glob("runs/*/metrics.csv")
rows = [r for r in csv.DictReader(metrics.open()) if r.get("perf/images_per_s")]
rates = [float(r["perf/images_per_s"]) for r in rows]
print(f"{statistics.median(rates[len(rates) // 2 :]):.1f}")
EOF
}

if wanted recipe; then
  run_row "recipe:bench" 60 inception bench --mode train model="$model" --precision "$precision" \
    --batch-size "$batch" "${size_option[@]}" steps="$((2 * steps))" warmup=5 --repeats 3 \
    peak_seconds=1 --output "$out/recipe-bench.json"
  mkdir -p "$work/train"
  run_row "recipe:train" 90 "${in_dir[@]}" "$work/train" "${train_run[@]}" \
    trainer.max_steps="$train_steps"
  if [[ -f "$out/recipe-bench.json" && -n "$(ls "$work"/train/runs/*/metrics.csv 2>/dev/null)" ]]; then
    rate="$(train_rate "$work/train")"
    echo "$rate" >"$out/recipe-train-images_per_s.txt"
    share="$(python3 -c "import json, sys; b = json.load(open(sys.argv[1])); \
print(round(float(sys.argv[2]) / b['results']['train']['networks'][0]['images_per_s'], 3))" \
      "$out/recipe-bench.json" "$rate")"
    echo "recipe: train $rate images/s = $share of the bench's training step"
    if [[ "${PROFILE:-auto}" == 1 || ("${PROFILE:-auto}" == auto && \
      $(python3 -c "print(int($share < 0.9))") == 1) ]]; then
      mkdir -p "$work/profiled"
      run_row "recipe:profile" 90 "${in_dir[@]}" "$work/profiled" \
        "${train_run[@]}" debug=profile
      for file in "$work"/profiled/runs/*/profile/*; do
        [[ -f "$file" ]] && gzip -c "$file" >"$out/profile-$(basename "$file").gz"
      done
    fi
  fi
fi

# Each model's compiled networks, ours and timm's, train and eval, with the settings of the
# timed rows (the same graphs): the timed rows then find them in torch.compile's caches.
if wanted warm; then
  budget="$(($(left) - 120 < warm_s ? $(left) - 120 : warm_s))"
  budget="$((budget > 1 ? budget : 1))"
  echo "== warming torch.compile's caches ($budget s at most; nothing is timed meanwhile)"
  pids=()
  for m in $models; do
    PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True timeout "$budget" python3 - "$m" "$batch" \
      "$size" "$precision" "${mode_list[@]}" >"$out/warm-$m.log" 2>&1 <<'EOF' &
import sys

import torch
from rich.console import Console

from inception_cli.benchmarking.networks import prepare_network
from inception_cli.benchmarking.settings import make_settings

model, batch, size, precision, *modes = sys.argv[1:]
torch.backends.cudnn.benchmark = torch.cuda.is_available()
for mode in modes:
    settings = make_settings(
        [f"model={model}", "warmup=0"], mode=mode, batch_size=int(batch),
        size=int(size) if size else None, precision=precision, channels_last=True,
        compile=True, vs="timm", repeats=1,
    )
    for label in ("ours", "timm"):
        network = prepare_network(settings, label, mode, Console(stderr=True))
        seconds = f"{network.compile_s:.1f} s" if network.compile_s else network.compile_error
        print(f"cold compile {model} {mode} {label}: {seconds}", flush=True)
        del network
        torch.cuda.empty_cache()
EOF
    pids+=("$!")
  done
  if wanted compiled-train; then
    mkdir -p "$work/warm-train"
    (cd "$work/warm-train" && timeout "$budget" "${train_run[@]}" compile=true \
      trainer.max_steps=2 >"$out/warm-train.log" 2>&1) &
    pids+=("$!")
  fi
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  cat "$out"/warm-*.log | grep -h "cold compile\|compiled in" || true
fi

if wanted compare || [[ "$rows" == *compare:* ]]; then
  echo "== ours against timm ($(left) s left)"
  timeout "$(($(left) > 10 ? $(left) : 10))" python3 - "$out" "$batch" "$size" "$precision" \
    "$steps" "$repeats" "$deadline" "$started" "$rows" "$models" "$modes" <<'EOF' || true
import gc
import sys
import time
from pathlib import Path

import torch

from inception_cli.tasks.bench import run_bench

out, batch, size, precision, steps, repeats, deadline, started, rows, models, modes = sys.argv[1:]
end = float(started) + float(deadline)
order = [(m, mode) for mode in modes.split() for m in models.split()]
# v4 and irv2 first (the issue's criteria), training before evaluation; v3 last.
order = sorted(order, key=lambda row: (row[0] == "v3", row[1] != "train"))
for model, mode in order:
    if "compare" not in rows.split() and f"compare:{model}:{mode}" not in rows.split():
        continue
    for compiled in (False, True):
        name = f"compare:{model}:{mode}:{'compiled' if compiled else 'eager'}"
        need = 45 if compiled else 20
        if time.time() + need > end:
            print(f"== {name}: pending ({end - time.time():.0f} s left)")
            Path(out, "pending.txt").open("a").write(name + "\n")
            continue
        print(f"== {name}", flush=True)
        try:
            run_bench(
                [f"model={model}", f"steps={steps}", "warmup=3", "peak_seconds=0.5"],
                output=Path(out, f"{model}-{mode}-{'compiled' if compiled else 'eager'}.json"),
                mode=mode, batch_size=int(batch), size=int(size) if size else None,
                precision=precision, channels_last=True, compile=compiled, vs="timm",
                repeats=int(repeats),
            )
        except Exception as err:  # one row failing leaves the others to run
            print(f"== {name}: failed: {type(err).__name__}: {err}")
            Path(out, "pending.txt").open("a").write(name + "\n")
        torch._dynamo.reset()
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
EOF
fi

if wanted compiled-train; then
  mkdir -p "$work/compiled-train"
  run_row "compiled-train" 90 "${in_dir[@]}" "$work/compiled-train" \
    "${train_run[@]}" compile=true trainer.max_steps="$train_steps"
  if [[ -n "$(ls "$work"/compiled-train/runs/*/metrics.csv 2>/dev/null)" ]]; then
    train_rate "$work/compiled-train" >"$out/compiled-train-images_per_s.txt"
  fi
fi

echo "== summary ($(($(date +%s) - started)) s in all)"
python3 - "$out" <<'EOF'
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])


def load(name: str) -> dict | None:
    path = out / name
    return json.loads(path.read_text()) if path.is_file() else None


DTYPES = {"bf16-mixed": "bfloat16", "16-mixed": "float16"}


def rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def cell(row: dict | None) -> str:
    if row is None:
        return "-"
    text = f"{rate(row['images_per_s'])} ({100 * row['share_of_peak']:.1f}%)"
    return text + (f" [{row['compile_s']:.0f} s]" if row.get("compile_s") else "")


bench = load("recipe-bench.json")
for name, label in (("recipe-train", "train"), ("compiled-train", "train compile=true")):
    path = out / f"{name}-images_per_s.txt"
    if bench and path.is_file():
        ours = bench["results"]["train"]["networks"][0]
        images_per_s = float(path.read_text())
        dtype = DTYPES.get(bench["settings"]["precision"], "float32")
        peak = bench["matmul_peak_gflops"][dtype]
        share = images_per_s * ours["gflop_per_step"] / bench["settings"]["batch_size"] / peak
        print(
            f"{label}: {rate(images_per_s)} images/s ({100 * share:.1f}% of the {dtype} peak) "
            f"= {images_per_s / ours['images_per_s']:.2f} of the bench's "
            f"{rate(ours['images_per_s'])}"
        )
print("images/s (share of the measured matmul peak of the compute dtype) [compile s, caches warm]")
print("| model | mode | ours eager | ours compiled | timm eager | timm compiled "
      "| ours compiled / timm eager | ours/timm eager | ours/timm compiled |")
print("|---|---|---|---|---|---|---|---|---|")
order = {"v4": 0, "irv2": 1, "v3": 2}
found = [path.stem.split("-")[:2] for path in out.glob("*-eager.json")]
for model, mode in sorted(found, key=lambda row: (order.get(row[0], 3), row[0], row[1] != "train")):
    eager, compiled = load(f"{model}-{mode}-eager.json"), load(f"{model}-{mode}-compiled.json")
    ours_e, timm_e = eager["results"][mode]["networks"]
    ours_c, timm_c = compiled["results"][mode]["networks"] if compiled else (None, None)
    ratio = f"{ours_c['images_per_s'] / timm_e['images_per_s']:.2f}" if ours_c else "-"
    vs_c = f"{compiled['results'][mode]['vs']['median_ratio']:.3f}" if compiled else "-"
    print(
        f"| {model} | {mode} | {cell(ours_e)} | {cell(ours_c)} | {cell(timm_e)} | "
        f"{cell(timm_c)} | {ratio} | {eager['results'][mode]['vs']['median_ratio']:.3f} | "
        f"{vs_c} |"
    )
if bench:
    peaks = bench["matmul_peak_gflops"]
    print("matmul peak GFLOP/s: " + ", ".join(f"{k} {v:,.0f}" for k, v in peaks.items()))
pending = (out / "pending.txt").read_text().split()
print("pending: " + (" ".join(pending) if pending else "none"))
EOF
grep -h "cold compile\|compiled in" "$out"/warm-*.log 2>/dev/null || true
rm -rf "$work"
