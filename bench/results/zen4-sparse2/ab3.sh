#!/usr/bin/env bash
# usage: ab3.sh ROUNDS SECONDS NAME=DLL... -- interleaved lenet5 one-thread training steps of several builds
rounds=$1; secs=$2; shift 2
for r in $(seq $rounds); do
  for spec in "$@"; do
    name=${spec%%=*}; dll=${spec#*=}
    line=$(dotnet $dll --train --models lenet5 --threads 1 --seconds $secs | grep -E "^lenet5 ")
    echo "$name $line"
  done
done
