#!/usr/bin/env bash
# One image on N threads (issue 13, intra-op parallelism): batch 1 on 1 thread (pinned to core 1) and on N threads
# (Predict(input, output, threads), pinned to cores 0..N-1), interleaved rounds under the machine's bench lock.
# Prints one line per model and thread count: the median of the rounds' medians, the range of the rounds' medians, the
# fastest point seen, and the speed-up of the medians over one thread. Needs the other cores quiet: a core another
# process holds makes every barrier wait for it.
# usage: bench/image_threads.sh [ROUNDS=5]   MODELS=cifar_resnet8,vgg_block THREADS=2 SECONDS_PER=2
#        BENCH=bench/bin/Release/net10.0/cnngen-bench (built with dotnet build -c Release bench)
set -euo pipefail
rounds=${1:-5}
bench=${BENCH:-$(dirname "$0")/bin/Release/net10.0/cnngen-bench}
models=${MODELS:-cifar_resnet8,vgg_block}
threads=${THREADS:-2}; secs=${SECONDS_PER:-2}
raw=$(mktemp)
for r in $(seq 1 "$rounds"); do
  flock /work/bench.lock bash -c "
    taskset -c 1 '$bench' --models $models --batch 1 --threads 1 --seconds $secs
    taskset -c 0-$((threads - 1)) '$bench' --models $models --batch 1 --threads $threads --seconds $secs
  " | awk '$3 == 1 && $4 ~ /^[0-9]+$/ {print $1, $2, $4, $5, $6}' >> "$raw"
done
# model width threads median_us min_us
python3 - "$raw" <<'PY'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    m, w, t, med, mn = line.split()
    rows.setdefault((m, w, int(t)), []).append((float(med), float(mn)))
one = {(m, w): st.median(x[0] for x in v) for (m, w, t), v in rows.items() if t == 1}
for (m, w, t), v in sorted(rows.items()):
    meds = [x[0] for x in v]
    med = st.median(meds)
    print(f"{m:15} {w} {t} threads: median {med:9.1f} us (rounds {min(meds):.1f}-{max(meds):.1f}), fastest {min(x[1] for x in v):9.1f} us, "
          f"speed-up {one[(m, w)] / med:.2f}x")
PY
rm -f "$raw"
