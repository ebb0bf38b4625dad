#!/usr/bin/env bash
# Issues 5 and 11: times CnnGen and ONNX Runtime on the reference models, both pinned to the same core, in several
# interleaved rounds (CnnGen, ORT, CnnGen, ORT, ...), and prints the ratio table (CnnGen median time / ORT median time)
# with the targets: each time is the median of the rounds' medians, with the range.
#
# usage: bench/run.sh [extra cnngen-bench arguments, e.g. --seconds 3]
#   CORE=1                 the core both benchmarks are pinned to (taskset -c)
#   ROUNDS=3               interleaved rounds of CnnGen and ORT
#   MODELS="mlp lenet5 ..." the models (default: all five)
#   WIDTHS=auto,256        the vector widths CnnGen runs (the first one is judged against the targets)
#   AVX512=off             run CnnGen with DOTNET_EnableAVX512=0: the JIT emits AVX2 code with 16 vector registers
#                          and the Vector256 kernels run (WIDTHS then defaults to auto = V256). ONNX Runtime is not
#                          affected (it picks its own kernels). On .NET 10 the older DOTNET_EnableAVX512F=0 does nothing.
#   CNNGEN_PEERS=...       ../shared/peers (run_ort.sh, ort_bench.js)
# Writes bench/results/{cnngen.json,ort.json,table.md,machine.txt} (the merged rounds, in the formats of one run plus
# "rounds" and "round_median_us") and bench/results/rounds/{cnngen,ort}.N.json (gitignored; bench/results/final/ is
# the committed copy of a run docs/BENCHMARKS.md reports).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
peers=${CNNGEN_PEERS:-$repo/../shared/peers}
core=${CORE:-1}
rounds=${ROUNDS:-3}
models=${MODELS:-mlp lenet5 cifar_resnet8 mobilenet_block vgg_block}
out=$here/results
proj=$here/CnnGen.Bench.csproj
mkdir -p "$out/rounds"
rm -f "$out"/rounds/*.json

avx512_env=()
if [ "${AVX512:-on}" = off ] || [ "${DOTNET_EnableAVX512:-1}" = 0 ]; then
  avx512_env=(env DOTNET_EnableAVX512=0)
  avx512_note="disabled for CnnGen (DOTNET_EnableAVX512=0: AVX2 code, 16 vector registers, Vector256 kernels); ONNX Runtime still runs its AVX-512 kernels"
  widths=${WIDTHS:-auto}
else
  avx512_note="enabled (CnnGen's auto width is the widest the CPU accelerates)"
  widths=${WIDTHS:-auto,256}
fi

# shellcheck source=machine.sh
. "$here/machine.sh"
machine_header "$repo" "; pinned to core $core" \
  "AVX-512: $avx512_note" \
  "rounds: $rounds interleaved (CnnGen, ORT, ...); CnnGen widths: $widths" | tee "$out/machine.txt"

# Build outside the timed, pinned part.
dotnet build -c Release "$proj" -nologo -v q /clp:ErrorsOnly

rc=0
cnngen=() ort=()
for r in $(seq 1 "$rounds"); do
  echo "== round $r of $rounds: CnnGen"
  "${avx512_env[@]}" taskset -c "$core" dotnet run -c Release --no-build --project "$proj" -- \
    --models "${models// /,}" --batch 1,64 --width "$widths" --json "$out/rounds/cnngen.$r.json" "$@" || rc=$?
  echo "== round $r of $rounds: ONNX Runtime"
  # shellcheck disable=SC2086 # one argument per model
  taskset -c "$core" "$peers/run_ort.sh" --json "$out/rounds/ort.$r.json" $models
  cnngen+=("$out/rounds/cnngen.$r.json") ort+=("$out/rounds/ort.$r.json")
done

echo
report_table "$out" "$proj" "$(list "${cnngen[@]}")" "$(list "${ort[@]}")"
exit $rc
