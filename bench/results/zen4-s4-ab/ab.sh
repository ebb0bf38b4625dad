#!/usr/bin/env bash
# Lead's interleaved A/B: A = main (all new splits), B = /tmp/lead-B (dense column split and element-wise/pack split off)
set -uo pipefail
A=/work/main/bench/bin/Release/net10.0/cnngen-bench.dll
B=/tmp/lead-B/bench/bin/Release/net10.0/cnngen-bench.dll
pp=/work/main/bench/results/core_distance/pingpong
[ -x $pp ] || gcc -O2 -pthread -o /tmp/pingpong /work/main/bench/tools/pingpong.c && pp=${pp}
[ -x $pp ] || pp=/tmp/pingpong
cd /work/main
echo "date $(date -u) main $(git rev-parse --short HEAD) load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in 1 2 3 4 5 6; do
  echo "round $r probe $($pp 1000000)"
  for v in A B; do
    eval d=\$$v
    taskset -c 0,1 dotnet $d --train --models mlp --threads 2 --seconds 1 | grep -E '^mlp ' | sed "s/^/$v 2T /"
    taskset -c 1 dotnet $d --train --models mlp --threads 1 --seconds 1 | grep -E '^mlp ' | sed "s/^/$v 1T /"
  done
done
for r in 1 2 3; do
  for v in A B; do
    eval d=\$$v
    echo "round $r $v probe $($pp 1000000)"
    taskset -c 0,1 dotnet $d --models mobilenet_v2,efficientnet_b0,resnet50 --batch 1 --threads 2 --seconds 2 | grep -E '^(mobilenet_v2|efficientnet_b0|resnet50) ' | sed "s/^/$v 2T /"
  done
done
echo "done $(date -u)"
