#!/usr/bin/env bash
# Issue 12: times CnnGen's generated training steps (forward, cross-entropy, backward, optimizer; batch 64) and
# PyTorch 1.13's (../shared/peers/train_torch.py) pinned to the same core, in interleaved rounds
# (CnnGen, PyTorch, CnnGen, PyTorch, ...), and prints the ratio table with the targets and ranges over the rounds.
#
# usage: bench/train.sh [extra cnngen-bench arguments, e.g. --width 256]
#   CORE=0                  the core both are pinned to for the one-thread runs (taskset -c)
#   CORES=0,1               the cores of the all-cores run (CnnGen only; PyTorch is timed on one thread);
#                           CORES= (empty) skips it
#   ROUNDS=2                interleaved rounds
#   SECONDS_PER_POINT=3     timing per model and thread count (both sides)
#   PROFILE=1               also time each phase of a CnnGen step (first round, one thread)
#   CNNGEN_PEERS=...        ../shared/peers
# Needs `apt-get install -y python3-torch libopenblas0-pthread` (without OpenBLAS PyTorch's linear layers are ~10x
# slower). Writes bench/results/train/{machine.txt,cnngen-N.json,cnngen-all-N.json,torch-N.json,table.md}.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
peers=${CNNGEN_PEERS:-$repo/../shared/peers}
core=${CORE:-0}
cores=${CORES-0,1}
rounds=${ROUNDS:-2}
secs=${SECONDS_PER_POINT:-3}
out=$here/results/train
proj=$here/CnnGen.Bench.csproj
bench=(dotnet "$here/bin/Release/net10.0/cnngen-bench.dll")
mkdir -p "$out"

/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "train.sh: /usr/bin/python3 has no torch (apt-get install -y python3-torch libopenblas0-pthread)" >&2; exit 1; }
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; one thread pinned to core $core; all cores: ${cores:-not run}"
  echo "flags: $(grep -o -w 'avx2\|avx512f\|avx512_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "dotnet: $(dotnet --version) (runtime $(dotnet --list-runtimes | sed -n 's/^Microsoft.NETCore.App \([^ ]*\).*/\1/p' | tail -1))"
  echo "torch: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), $(/usr/bin/python3 -c 'import torch; print(torch.__config__.show())' | sed -n 's/^ *- CPU capability usage: */CPU capability /p')"
  echo "openblas: $(dpkg-query -W -f='${Package} ${Version}' libopenblas0-pthread 2>/dev/null || echo 'not installed')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"

# Build outside the timed, pinned part.
dotnet build -c Release "$proj" -nologo -v q /clp:ErrorsOnly

cnngen=() torch=()
for r in $(seq "$rounds"); do
  echo; echo "== round $r: CnnGen, one thread, core $core =="
  profile=()
  [ "${PROFILE:-0}" = 1 ] && [ "$r" = 1 ] && profile=(--profile)
  taskset -c "$core" "${bench[@]}" --train --threads 1 --seconds "$secs" --json "$out/cnngen-$r.json" "${profile[@]}" "$@"
  cnngen+=("$out/cnngen-$r.json")
  if [ -n "$cores" ]; then
    n=$(( $(echo "$cores" | tr -cd ',' | wc -c) + 1 ))
    echo; echo "== round $r: CnnGen, 1 and $n threads, cores $cores =="
    taskset -c "$cores" "${bench[@]}" --train --threads "1,$n" --seconds "$secs" --json "$out/cnngen-all-$r.json" "$@"
  fi
  echo; echo "== round $r: PyTorch, one thread, core $core =="
  taskset -c "$core" /usr/bin/python3 "$peers/train_torch.py" --seconds "$secs" --json "$out/torch-$r.json"
  torch+=("$out/torch-$r.json")
done

echo
join() { local IFS=,; echo "$*"; }
status=0
"${bench[@]}" --train-report "$(join "${cnngen[@]}")" --torch "$(join "${torch[@]}")" | tee "$out/table.md" || status=$?
if [ -n "$cores" ]; then
  all=()
  for r in $(seq "$rounds"); do all+=("$out/cnngen-all-$r.json"); done
  echo; echo "Thread scaling (cores $cores; the one-thread column re-measured with the same affinity):" >> "$out/table.md"
  "${bench[@]}" --train-report "$(join "${all[@]}")" --torch "$(join "${torch[@]}")" | tee -a "$out/table.md" > /dev/null || true
  tail -n +1 "$out/table.md" | sed -n '/^Thread scaling/,$p'
fi
exit $status
