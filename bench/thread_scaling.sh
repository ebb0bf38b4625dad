#!/usr/bin/env bash
# Thread scaling of PredictBatch(ReadOnlyMemory, Memory, n, threads) on this machine (issue 13, "Many cores"), two builds
# interleaved: BEFORE and AFTER are cnngen-bench binaries (e.g. main's and a branch's bench/bin/Release/net10.0/cnngen-bench).
# Each round: 1 thread and N threads (--parallel generated) of each build on cores 0..N-1, then N independent 1-thread
# processes of AFTER at once, pinned to cores 0..N-1. Prints the Markdown table of docs/BENCHMARKS.md (medians, ranges).
# usage: BEFORE=... AFTER=... bench/thread_scaling.sh [ROUNDS=3] [OUTDIR=bench/results/scaling]
#        THREADS=2 (N) MODELS=vgg_block,cifar_resnet8,lenet5,mlp SECONDS_PER=3
set -euo pipefail
rounds=${1:-3}; out=${2:-$(dirname "$0")/results/scaling}; mkdir -p "$out"
models=${MODELS:-vgg_block,cifar_resnet8,lenet5,mlp}
secs=${SECONDS_PER:-3}
declare -A bin=([before]=${BEFORE:?BEFORE=path of the baseline cnngen-bench} [after]=${AFTER:?AFTER=path of the new cnngen-bench})
threads=${THREADS:-2}; cores=0-$((threads - 1))
common="--models $models --batch 64 --width auto --seconds $secs"
for r in $(seq 1 "$rounds"); do
  for b in before after; do
    echo "round $r $b $(date -u +%T) $(cut -d' ' -f1 /proc/loadavg)"
    taskset -c $cores "${bin[$b]}" $common --threads 1 --json "$out/r${r}_${b}_t1.json" > "$out/r${r}_${b}_t1.log"
    taskset -c $cores "${bin[$b]}" $common --threads $threads --parallel generated --json "$out/r${r}_${b}_tN.json" > "$out/r${r}_${b}_tN.log"
  done
  echo "round $r procs $(date -u +%T) $(cut -d' ' -f1 /proc/loadavg)"
  pids=()
  for c in $(seq 0 $((threads - 1))); do
    taskset -c "$c" "${bin[after]}" $common --threads 1 --json "$out/r${r}_procs_c$c.json" > "$out/r${r}_procs_c$c.log" &
    pids+=($!)
  done
  wait "${pids[@]}"
done
python3 - "$out" <<'PY'
import json, glob, sys, statistics as st, re, collections
out = sys.argv[1]
def load(p):
    return {r['model']: r for r in json.load(open(p))['results']}
data = collections.defaultdict(lambda: collections.defaultdict(list))  # model -> config -> [img/s]
alloc = collections.defaultdict(lambda: collections.defaultdict(list))
rounds = sorted({int(re.search(r'/r(\d+)_', p).group(1)) for p in glob.glob(out + '/r*_*.json')})
for r in rounds:
    for b in ('before', 'after'):
        for t in ("t1", "tN"):
            p = f'{out}/r{r}_{b}_{t}.json'
            try: d = load(p)
            except FileNotFoundError: continue
            for m, e in d.items():
                data[m][f'{b}_{t}'].append(e['imgs_per_s']); alloc[m][f'{b}_{t}'].append(e['allocated_bytes_per_call'])
    procs = [load(p) for p in sorted(glob.glob(f'{out}/r{r}_procs_c*.json'))]
    for m in (procs[0] if procs else {}):
        data[m]['procs'].append(sum(p[m]['imgs_per_s'] for p in procs))
    nprocs = len(procs)
def f(v): return f"{st.median(v):,.0f} ({min(v):,.0f}-{max(v):,.0f})"
print(f"rounds: {len(rounds)}; N = {nprocs}")
print("| model | before, 1 thr img/s | before, N thr img/s | B/call | after, 1 thr img/s | after, N thr img/s | B/call | N processes x 1 thr img/s | before N thr / processes | after N thr / processes | after N thr / 1 thr |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for m in data:
    d = data[m]; a = alloc[m]
    med = lambda k: st.median(d[k])
    print(f"| {m} | {f(d['before_t1'])} | {f(d['before_tN'])} | {max(a['before_tN']):,.0f} | {f(d['after_t1'])} | {f(d['after_tN'])} | {max(a['after_tN']):,.0f} | {f(d['procs'])} | "
          f"{med('before_tN')/med('procs'):.1%} | {med('after_tN')/med('procs'):.1%} | {med('after_tN')/med('after_t1'):.2f}x |")
PY
