#!/usr/bin/env bash
# Issue 5: times CnnGen and ONNX Runtime on the reference models in one invocation, both pinned to the
# same core, and prints the ratio table (CnnGen median time / ORT median time) with the targets.
#
# usage: bench/run.sh [extra cnngen-bench arguments, e.g. --seconds 3]
#   CORE=1                 the core both benchmarks are pinned to (taskset -c)
#   MODELS="mlp lenet5 ..." the models (default: all five)
#   WIDTHS=auto,256        the vector widths CnnGen runs (the first one is judged against the targets)
#   CNNGEN_PEERS=...       ../shared/peers (run_ort.sh, ort_bench.js)
# Writes bench/results/{cnngen.json,ort.json,table.md,machine.txt} (gitignored; bench/results/final/ is the
# committed copy of the run docs/BENCHMARKS.md reports).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
peers=${CNNGEN_PEERS:-$repo/../shared/peers}
core=${CORE:-1}
models=${MODELS:-mlp lenet5 cifar_resnet8 mobilenet_block vgg_block}
widths=${WIDTHS:-auto,256}
out=$here/results
proj=$here/CnnGen.Bench.csproj
mkdir -p "$out"

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; pinned to core $core"
  echo "dotnet: $(dotnet --version) (runtime $(dotnet --list-runtimes | sed -n 's/^Microsoft.NETCore.App \([^ ]*\).*/\1/p' | tail -1))"
  echo "node: $(node --version)"
  echo "kernel: $(uname -r)"
} | tee "$out/machine.txt"

# Build outside the timed, pinned part.
dotnet build -c Release "$proj" -nologo -v q /clp:ErrorsOnly

rc=0
taskset -c "$core" dotnet run -c Release --no-build --project "$proj" -- \
  --models "${models// /,}" --batch 1,64 --width "$widths" --json "$out/cnngen.json" "$@" || rc=$?

# shellcheck disable=SC2086 # one argument per model
taskset -c "$core" "$peers/run_ort.sh" --json "$out/ort.json" $models

echo
dotnet run -c Release --no-build --project "$proj" -- --report "$out/cnngen.json" --compare "$out/ort.json" | tee "$out/table.md"
exit $rc
