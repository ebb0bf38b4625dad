#!/usr/bin/env bash
# Issue 13: times CnnGen and ONNX Runtime on the six full-size zoo networks (../shared/zoo, 224x224, batch 1) in several
# interleaved rounds (CnnGen, ORT, CnnGen, ORT, ...), on one thread pinned to one core and on two threads running ONE
# image (intra-op parallelism) pinned to two cores, and prints the ratio table (CnnGen median time / ORT median time)
# with the issue's targets (<= 0.9 on one and on two threads).
#
# usage: bench/zoo.sh [extra cnngen-bench arguments, e.g. --seconds 3]
#   MODELS="resnet18 ..."   the zoo networks (default: all six)
#   THREADS="1 2"           the thread counts (1: pinned to CORE; N > 1: pinned to cores 0..N-1)
#   CORE=1                  the core of the one-thread runs
#   ROUNDS=3                interleaved rounds
#   AVX512=off              CnnGen with DOTNET_EnableAVX512=0 (AVX2 code, Vector256 kernels); ORT is not affected
#   CNNGEN_PEERS=...        ../shared/peers (run_ort_zoo.sh writes each model's ORT weights once, with python3-numpy)
# Writes bench/results/zoo/{cnngen.json,ort.json,table.md,machine.txt} and bench/results/zoo/rounds/*.json.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
peers=${CNNGEN_PEERS:-$repo/../shared/peers}
core=${CORE:-1}
rounds=${ROUNDS:-3}
models=${MODELS:-alexnet vgg16 resnet18 resnet50 mobilenet_v2 efficientnet_b0}
threads=${THREADS:-1 2}
out=$here/results/zoo
proj=$here/CnnGen.Bench.csproj
mkdir -p "$out/rounds"
rm -f "$out"/rounds/*.json

env_avx=()
note="enabled (CnnGen's auto width is the widest the CPU accelerates)"
if [ "${AVX512:-on}" = off ]; then
  env_avx=(env DOTNET_EnableAVX512=0)
  note="disabled for CnnGen (DOTNET_EnableAVX512=0: AVX2 code, Vector256 kernels); ONNX Runtime still runs its AVX-512 kernels"
fi

cpus() { if [ "$1" = 1 ]; then echo "$core"; else echo "0-$(($1 - 1))"; fi; }
# shellcheck source=machine.sh
. "$here/machine.sh"
machine_header "$repo" "" \
  "AVX-512: $note" \
  "batch 1; threads: $threads (1 thread pinned to core $core; N threads to cores 0..N-1, one image split across them)" \
  "rounds: $rounds interleaved (CnnGen, ORT, ...)" | tee "$out/machine.txt"

dotnet build -c Release "$proj" -nologo -v q /clp:ErrorsOnly

rc=0
cnngen=() ort=()
for r in $(seq 1 "$rounds"); do
  c="" o=""
  for t in $threads; do
    echo "== round $r of $rounds, $t thread(s): CnnGen"
    "${env_avx[@]}" taskset -c "$(cpus "$t")" dotnet run -c Release --no-build --project "$proj" -- \
      --models "${models// /,}" --batch 1 --threads "$t" --json "$out/rounds/cnngen.$r.t$t.json" "$@" || rc=$?
    echo "== round $r of $rounds, $t thread(s): ONNX Runtime"
    # shellcheck disable=SC2086 # one argument per model
    taskset -c "$(cpus "$t")" "$peers/run_ort_zoo.sh" --threads "$t" --batch 1 --json "$out/rounds/ort.$r.t$t.json" $models
    c="${c:+$c+}$out/rounds/cnngen.$r.t$t.json" o="${o:+$o+}$out/rounds/ort.$r.t$t.json"
  done
  cnngen+=("$c") ort+=("$o")
done

echo
report_table "$out" "$proj" "$(list "${cnngen[@]}")" "$(list "${ort[@]}")"
exit $rc
