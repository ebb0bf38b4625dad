#!/usr/bin/env bash
# Samples per-CPU steal and busy time every 0.5 s while a two-thread mlp training bench runs, and the step time per point.
dll=/work/main/bench/bin/Release/net10.0/cnngen-bench.dll
( for i in $(seq 60); do
    awk -v t=$(date +%s.%N) '/^cpu[01] /{printf "%s %s user=%s sys=%s idle=%s steal=%s\n", t, $1, $2, $4, $5, $9}' /proc/stat
    sleep 0.5
  done ) > /tmp/steal.txt &
for r in $(seq 8); do
  echo "$(date +%s.%N) $(taskset -c 0,1 dotnet $dll --train --models mlp --threads 2 --seconds 1.5 | grep -E '^mlp ')"
done
wait
