#!/usr/bin/env bash
# usage: abv.sh ROUNDS SECONDS -- interleaved lenet5 one-thread V512 steps: B (sparse2: conv2 dense at V512) / F (conv2 forced to the maxima)
rounds=$1; secs=$2
for r in $(seq $rounds); do
  for spec in B F; do
    echo "$spec $(dotnet $spec/cnngen-bench.dll --train --models lenet5 --threads 1 --width 512 --seconds $secs | grep -E '^lenet5 ')"
  done
done
