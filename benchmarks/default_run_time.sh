#!/usr/bin/env bash
# The time of the README's default run (`inception train` on the embedded data), with the machine,
# the date and the versions it was measured on. Prints one line per repeat and the median.
#   bash benchmarks/default_run_time.sh [REPEATS]
set -euo pipefail
repeats=${1:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1), $(nproc) cores"
echo "date: $(date -u +%Y-%m-%d)"
python -c "import torch, lightning, sys; print(f'python {sys.version.split()[0]}, torch {torch.__version__}, lightning {lightning.__version__}')"
times=()
for i in $(seq "$repeats"); do
  start=$(date +%s.%N)
  inception train callbacks.progress_bar=none > /dev/null 2>&1
  end=$(date +%s.%N)
  seconds=$(python -c "print(round($end - $start, 1))")
  times+=("$seconds")
  echo "run $i: ${seconds} s (inception train, wall clock, start to exit)"
done
python -c "import statistics, sys; print('median:', statistics.median(map(float, sys.argv[1:])), 's')" "${times[@]}"
