#!/usr/bin/env bash
# usage: ab5.sh ROUNDS SECONDS MODEL THREADS CPUS [env...] -- interleaved A (83d18fb) / B (main) training steps
rounds=$1; secs=$2; model=$3; thr=$4; cpus=$5; shift 5
A=/tmp/ab-base/bench/bin/Release/net10.0/cnngen-bench.dll
B=/work/main/bench/bin/Release/net10.0/cnngen-bench.dll
for r in $(seq $rounds); do
  for side in A B; do
    dll=$A; [ $side = B ] && dll=$B
    line=$(env "$@" taskset -c $cpus dotnet $dll --train --models $model --threads $thr --seconds $secs | grep -E "^$model ")
    echo "$side $line"
  done
done
