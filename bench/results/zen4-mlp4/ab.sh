#!/usr/bin/env bash
# usage: ab.sh ROUNDS SECONDS THREADS CORES dirA dirB ...  (run under flock /work/bench.lock)
# alternates `cnngen-bench --train --models mlp` builds (copies of bench/bin/Release/net10.0), waiting up to 20 s for
# both CPUs to be 85% idle before each run ("(busy)" when they were not); prints name, median_us, min_us per run
here=$(dirname "$0")
rounds=$1 secs=$2 thr=$3 cores=$4; shift 4
for r in $(seq $rounds); do
  for d in "$@"; do
    n=$(basename $d); b=""; bash $here/../zen4-mlp3/quiet.sh 20 || b="(busy)"
    taskset -c $cores dotnet $d/cnngen-bench.dll --train --models mlp --threads $thr --seconds $secs 2>&1 | grep -E '^mlp ' | awk -v n=$n -v r=$r -v b="$b" '{print r, n, $5, $6, b}'
  done
done
