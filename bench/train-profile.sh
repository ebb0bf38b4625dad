#!/usr/bin/env bash
# Where a CnnGen training step's time goes: samples `cnngen-bench --train` of one model with perf (the JIT writes a
# perf map), then sums the samples by kernel family from the generated kernels' names (Conv2BackwardWeightsTile6 ->
# "weight gradients", ...). Only the timed steps matter: the warm-up and the bench's own code are a few percent.
#
# usage: bench/train-profile.sh [model ...]   (default: lenet5 mlp cifar_resnet8_bn)
#   CORE=0  the core (taskset -c);  SECONDS_PER_POINT=4
# Needs perf. Prints one table per model; writes bench/results/train/profile-MODEL.txt (perf report --sort sym).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
core=${CORE:-0}
secs=${SECONDS_PER_POINT:-4}
out=$here/results/train
mkdir -p "$out"
command -v perf > /dev/null || { echo "train-profile.sh: needs perf" >&2; exit 1; }
dotnet build -c Release "$here/CnnGen.Bench.csproj" -nologo -v q /clp:ErrorsOnly
models=${*:-lenet5 mlp cifar_resnet8_bn}
for model in $models; do
  data=$(mktemp /tmp/train-profile.XXXXXX)
  DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 taskset -c "$core" perf record -q -F 1999 -o "$data" \
    dotnet "$here/bin/Release/net10.0/cnngen-bench.dll" --train --models "$model" --seconds "$secs" | grep -E "^$model "
  perf report -i "$data" --sort sym --stdio 2> /dev/null | grep -v '^#' | grep -v '^$' > "$out/profile-$model.txt"
  rm -f "$data"
  awk -v model="$model" '
    {
      share = $1; sub(/%/, "", share); s = $0
      if (s ~ /Kernels[0-9]+::/) {
        k = s; sub(/.*Kernels[0-9]+::/, "", k); sub(/\(.*/, "", k)
        if (k ~ /BackwardWeights/) f = "weight gradients (conv/dense)"
        else if (k ~ /BackwardData/) f = "input gradients (conv/dense)"
        else if (k ~ /Backward/) f = "other backward (pool, activation, bias, batch norm, add)"
        else if (k ~ /Tile/) f = "forward conv/dense tiles"
        else f = "other forward (pool, batch norm, add, activation)"
      } else if (s ~ /Adam|Sgd|Optimizer/) f = "optimizer"
      else if (s ~ /memset|memmove|memcpy|Clear|Fill/) f = "memset/memcpy (clearing gradients and buffers)"
      else if (s ~ /NetworkTrainer|TrainingLoss|TrainingMath|WorkerPool/) f = "trainer runtime (loss, gradient sum, checks)"
      else f = "other (harness, JIT, runtime)"
      sum[f] += share; total += share
      if (s ~ /Kernels[0-9]+::/ && share + 0 > top_share[f] + 0) { top_share[f] = share; top[f] = k }
    }
    END {
      for (f in sum) printf "  %6.1f%%  %-58s %s\n", sum[f], f, (f in top) ? top[f] " " top_share[f] "%" : ""
    }' "$out/profile-$model.txt" | sort -rn > "$out/families-$model.txt"
  echo "$model: share of the samples by kernel family (largest kernel of the family)"
  cat "$out/families-$model.txt"
  echo
done
