#!/usr/bin/env bash
# usage: ab.sh ROUNDS SECONDS THREADS CORES dirA dirB ...
rounds=$1 secs=$2 thr=$3 cores=$4; shift 4
out=/tmp/mlp3-ab; rm -rf $out; mkdir -p $out
for r in $(seq $rounds); do
  for d in "$@"; do
    n=$(basename $d); /tmp/mlp3-quiet.sh 20 || echo "(busy)" >&2
    TL=$out/$n-$r.tl taskset -c $cores dotnet $d/cnngen-bench.dll --train --models mlp --threads $thr --seconds $secs 2>&1 | tail -1 | awk -v n=$n '{print n, $5, $6}' | tee -a $out/$n.txt
  done
done
