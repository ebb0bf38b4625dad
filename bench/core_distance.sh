#!/usr/bin/env bash
# Why two-thread timings on a small VM swing between two speeds: times a cache-line round trip between cores 0 and 1
# (bench/tools/pingpong.c, two threads bouncing one atomic) right before each two-thread run of CnnGen and ONNX Runtime,
# so every run's speed can be read against how far apart its two cores were at that moment (on a host, two vCPUs on one
# core complex exchange a cache line in tens of nanoseconds; across complexes or sockets it takes several times longer,
# and every barrier and every shared weight line pays that).
#
# usage: bench/core_distance.sh [runs]      (default 6; needs gcc and, for ORT, ../shared/peers)
#   MODELS="efficientnet_b0 mobilenet_v2"    zoo networks, batch 1, one image on two threads (cores 0-1)
# Writes bench/results/core_distance/log.txt: one line per probe and per run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
peers=${CNNGEN_PEERS:-$repo/../shared/peers}
runs=${1:-6}
models=${MODELS:-efficientnet_b0 mobilenet_v2}
out=$here/results/core_distance
mkdir -p "$out"
gcc -O2 -pthread -o "$out/pingpong" "$here/tools/pingpong.c"
dotnet build -c Release "$here/CnnGen.Bench.csproj" -nologo -v q /clp:ErrorsOnly
bench=(dotnet "$here/bin/Release/net10.0/cnngen-bench.dll")
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), commit $(git -C "$repo" rev-parse --short HEAD), $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
  for i in $(seq 1 "$runs"); do
    echo "run $i: core 0 <-> core 1 $("$out/pingpong" 1000000)"
    taskset -c 0-1 "${bench[@]}" --models "${models// /,}" --batch 1 --threads 2 --seconds 2 | grep -E "^[a-z0-9_]+ +V[0-9]+ " | sed 's/^/  cnngen /'
    echo "run $i: core 0 <-> core 1 $("$out/pingpong" 1000000)"
    # shellcheck disable=SC2086 # one argument per model
    taskset -c 0-1 "$peers/run_ort_zoo.sh" --threads 2 --batch 1 --seconds 2 $models | grep -E "median" | sed 's/^/  ort    /'
  done
} | tee "$out/log.txt"
