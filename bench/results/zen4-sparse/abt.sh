#!/usr/bin/env bash
# usage: abt.sh ROUNDS SECONDS -- interleaved: A (a11c1d0), B (sparse), PyTorch 1.13 lenet5 one-thread training steps, batch 64
rounds=$1; secs=$2
A=/tmp/sparse-base/bench/bin/Release/net10.0/cnngen-bench.dll; B=/tmp/sparse-final/cnngen-bench.dll
for r in $(seq $rounds); do
  echo "A $(dotnet $A --train --models lenet5 --threads 1 --seconds $secs | grep -E '^lenet5 ')"
  echo "B $(dotnet $B --train --models lenet5 --threads 1 --seconds $secs | grep -E '^lenet5 ')"
  /usr/bin/python3 /work/shared/peers/train_torch.py --seconds $secs --json /tmp/sparse-ab/torch-$r.json lenet5 | grep -i lenet5 | sed 's/^/T /'
done
