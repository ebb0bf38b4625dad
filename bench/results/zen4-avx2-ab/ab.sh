#!/usr/bin/env bash
# usage: avx2-ab.sh "models" "batches" rounds secs [widths: v256 v512]
models=$1 batches=$2 rounds=${3:-3} secs=${4:-1} widths=${5:-"v256 v512"}
A=/tmp/avx2-base/bench/bin/Release/net10.0/cnngen-bench.dll
B=/work/wt-avx2/bench/bin/Release/net10.0/cnngen-bench.dll
for r in $(seq 1 $rounds); do
  for wd in $widths; do
    env=(); [ $wd = v256 ] && env=(env DOTNET_EnableAVX512=0)
    for side in A B; do
      dll=$A; [ $side = B ] && dll=$B
      flock /work/bench.lock "${env[@]}" taskset -c 1 dotnet $dll --models "$models" --batch "$batches" --width auto --seconds $secs 2>&1 \
        | awk -v s=$side -v r=$r -v wd=$wd '$2 ~ /^V(256|512)$/ && $3 ~ /^[0-9]+$/ {print r, wd, s, $1, $3, $5, $6}'
    done
  done
done
