#!/usr/bin/env bash
# usage: abw.sh ROUNDS SECONDS [bench args...] -- interleaved A (a11c1d0) / B (sparse) lenet5 one-thread steps
rounds=$1; secs=$2; shift 2
A=/tmp/sparse-base/bench/bin/Release/net10.0/cnngen-bench.dll; B=/tmp/sparse-final/cnngen-bench.dll
for r in $(seq $rounds); do
  echo "A $(dotnet $A --train --models lenet5 --threads 1 --seconds $secs "$@" | grep -E '^lenet5 ')"
  echo "B $(dotnet $B --train --models lenet5 --threads 1 --seconds $secs "$@" | grep -E '^lenet5 ')"
done
