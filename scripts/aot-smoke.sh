#!/usr/bin/env bash
# AOT smoke test for the MNIST sample (samples/Mnist).
#
# Publishes the sample as a NativeAOT binary with trimming/AOT warnings as errors, runs it, and fails unless
# it gives PyTorch's accuracies (LeNet-5 96.65%, MLP 93.80%) and predictions (also through --weights), classifies
# a picture, prints --help and rejects bad input (missing files, bad options, an unknown command) with a one-line
# error, and trains both networks for one epoch (weights, chart and JSON written; run --weights loads them). Then builds the JIT version and prints binary size, time to first
# prediction and per-digit latency of both side by side.
#
# usage: bash scripts/aot-smoke.sh [RID] [extra dotnet publish arguments]
#   RID defaults to linux-x64. On x64 the project sets IlcInstructionSet=x86-x64-v3 (AVX2: Vector256
#   accelerated); add -p:IlcInstructionSet=x86-x64-v4 (or native) for Vector512 on AVX-512 machines.
#   A RID the machine cannot run is published (and checked for warnings) but not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROJECT="$ROOT/samples/Mnist/Mnist.csproj"
RID="${1:-linux-x64}"
shift || true
WORK="$(mktemp -d "${TMPDIR:-/tmp}/mnist-aot.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
AOT="$WORK/aot"
JIT="$WORK/jit"
RUNS=5  # process launches timed per build

fail() { echo "aot-smoke: FAIL: $*" >&2; exit 1; }
step() { echo; echo "== $* =="; }

# now_ns: wall clock in nanoseconds
now_ns() { date +%s%N; }

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "?" } else if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'; }

# check_run NAME OUTPUT_FILE: the default command's output must show PyTorch's results.
check_run() {
  local name="$1" out="$2"
  grep -q "test accuracy:   96.65% (1,933/2,000 digits); PyTorch: 96.65%" "$out" || fail "$name: LeNet-5 accuracy is not 96.65%"
  grep -q "test accuracy:   93.80% (1,876/2,000 digits); PyTorch: 93.80%" "$out" || fail "$name: MLP accuracy is not 93.80%"
  [ "$(grep -c "agrees with PyTorch on 2000/2000 digits" "$out")" = 2 ] || fail "$name: predictions differ from PyTorch's"
}

latency() { # latency FILE N -> the N-th "latency:" line's median in µs (1 = LeNet-5, 2 = MLP)
  grep "^latency:" "$1" | sed -n "${2}p" | awk '{ print $2 }'
}

step "publish NativeAOT ($RID) with warnings as errors"
start=$(now_ns)
set +e
# --artifacts-path: build everything (the src/ projects too) in $WORK, so the script neither races with nor
# disturbs builds in the working tree (a RID restore rewrites the projects' obj/project.assets.json).
dotnet publish "$PROJECT" -c Release -r "$RID" -p:TreatWarningsAsErrors=true -p:IlcTreatWarningsAsErrors=true \
  --artifacts-path "$WORK/artifacts" -o "$AOT" "$@" > "$WORK/publish.log" 2>&1
status=$?
set -e
publish_s=$(( ($(now_ns) - start) / 1000000000 ))
if [ $status -ne 0 ]; then
  grep -E "error|warning" "$WORK/publish.log" | sort -u | head -40 >&2 || cat "$WORK/publish.log" >&2
  fail "dotnet publish failed (exit code $status)"
fi
if grep -E "warning [A-Z]+[0-9]+|Trim analysis warning|AOT analysis warning" "$WORK/publish.log" | sort -u | head -20 >&2; then
  fail "the publish produced warnings"
fi
[ -x "$AOT/mnist" ] || fail "no binary at $AOT/mnist"
aot_size=$(stat -c %s "$AOT/mnist")
echo "published in ${publish_s}s: $AOT/mnist, $aot_size bytes"

host_rid="$(dotnet --info | awk '/^ *RID:/ { print $2; exit }')"
if [ "$RID" != "$host_rid" ]; then
  echo "aot-smoke: $RID is not this machine's RID ($host_rid): published and checked, not run"
  exit 0
fi

step "run the NativeAOT binary"
"$AOT/mnist" > "$WORK/aot-run.txt" 2> "$WORK/aot-run.err" || { cat "$WORK/aot-run.txt" "$WORK/aot-run.err" >&2; fail "the binary's default command failed"; }
[ -s "$WORK/aot-run.err" ] && { cat "$WORK/aot-run.err" >&2; fail "the binary wrote to stderr"; }
check_run "NativeAOT" "$WORK/aot-run.txt"
grep -q "^runtime: .*NativeAOT" "$WORK/aot-run.txt" || fail "the binary does not report NativeAOT"
case "$RID" in
  *x64) grep -q "Vector256 yes" "$WORK/aot-run.txt" || fail "Vector256 is not hardware-accelerated in the binary (IlcInstructionSet?)" ;;
esac
grep -E "^(runtime|SIMD|test accuracy|agrees|latency):" "$WORK/aot-run.txt"

"$AOT/mnist" show --out "$WORK/show" > "$WORK/aot-show.txt" || fail "show failed"
digit="$WORK/show/digit.png"   # test digit #0, a 2, enlarged 8 times
[ -s "$digit" ] || fail "show wrote no digit.png"
"$AOT/mnist" classify "$digit" > "$WORK/aot-classify.txt" || fail "classify failed"
grep -q "^prediction: 2 " "$WORK/aot-classify.txt" || fail "classify did not recognise the 2"

set +e
"$AOT/mnist" classify "$WORK/missing.png" > /dev/null 2> "$WORK/bad.err"
status=$?
set -e
[ $status -eq 1 ] || fail "a missing image gave exit code $status, expected 1"
[ "$(wc -l < "$WORK/bad.err")" -eq 1 ] && grep -q "^error: .*missing.png: file not found" "$WORK/bad.err" \
  || { cat "$WORK/bad.err" >&2; fail "a missing image did not give a one-line error"; }
# expect_error NAME ARGS...: the binary must exit 1 with one line "error: ..." on stderr and nothing else there.
expect_error() {
  local name="$1" status
  shift
  set +e
  "$AOT/mnist" "$@" > /dev/null 2> "$WORK/bad.err"
  status=$?
  set -e
  [ $status -eq 1 ] || { cat "$WORK/bad.err" >&2; fail "$name gave exit code $status, expected 1"; }
  [ "$(wc -l < "$WORK/bad.err")" -eq 1 ] && grep -q "^error: " "$WORK/bad.err" \
    || { cat "$WORK/bad.err" >&2; fail "$name did not give a one-line error"; }
}
expect_error "an unknown option" run --frobnicate
expect_error "an unknown command" frobnicate
expect_error "a bad train option" train --epochs 0
expect_error "a missing weights folder" classify "$digit" --weights "$WORK/nowhere"
"$AOT/mnist" --help > "$WORK/help.txt" || fail "--help failed"
grep -q "Usage:" "$WORK/help.txt" && grep -q "train" "$WORK/help.txt" || fail "--help does not list the commands"
"$AOT/mnist" train --help > "$WORK/train-help.txt" || fail "train --help failed"
grep -q -- "--json <PATH>" "$WORK/train-help.txt" || fail "train --help does not list --json"

# --weights with a copy of PyTorch's weights: still compared with PyTorch's predictions.
mkdir -p "$WORK/weights"
cp "$AOT/data/lenet5.safetensors" "$AOT/data/mlp.safetensors" "$WORK/weights/"
"$AOT/mnist" run --weights "$WORK/weights" --runs 200 --warmup 0 > "$WORK/aot-weights.txt" || fail "run --weights failed"
check_run "NativeAOT, --weights" "$WORK/aot-weights.txt"
echo "show, classify, --help, --weights and bad input: ok"

step "train one epoch through the NativeAOT binary (both networks, 8,000 digits)"
start=$(now_ns)
"$AOT/mnist" train --epochs 1 --out "$WORK/trained" --json "$WORK/train.json" > "$WORK/aot-train.txt" 2> "$WORK/aot-train.err" \
  || { cat "$WORK/aot-train.txt" "$WORK/aot-train.err" >&2; fail "train --epochs 1 failed"; }
train_s=$(awk -v ns=$(( $(now_ns) - start )) 'BEGIN { printf "%.1f", ns / 1e9 }')
[ -s "$WORK/aot-train.err" ] && { cat "$WORK/aot-train.err" >&2; fail "train wrote to stderr"; }
for f in lenet5.safetensors mlp.safetensors training.png; do [ -s "$WORK/trained/$f" ] || fail "train wrote no $f"; done
[ -s "$WORK/train.json" ] || fail "train wrote no JSON"
for key in '"name": "lenet5"' '"name": "mlp"' '"epochs_log"' '"train_accuracy"' '"images_per_s"'; do
  grep -q "$key" "$WORK/train.json" || fail "the JSON has no $key"
done
# after one epoch both networks classify at least 80% of the test digits (the JIT build: ~87-90%)
awk '/"test_accuracy"/ { gsub(/[ ,]/, "", $2); n++; if ($2 + 0 < 0.8) bad = 1 } END { exit !(n == 4 && !bad) }' "$WORK/train.json" \
  || { cat "$WORK/train.json" >&2; fail "a test accuracy after one epoch is below 0.8"; }
grep -E "^ +1 " "$WORK/aot-train.txt"
"$AOT/mnist" run --weights "$WORK/trained" --runs 200 --warmup 0 > "$WORK/aot-trained.txt" || fail "run --weights (trained) failed"
grep -q "(not PyTorch's" "$WORK/aot-trained.txt" || fail "run --weights did not load the trained weights"
echo "train --epochs 1: ok in ${train_s}s (weights, chart, JSON; run --weights loads them)"

step "publish the JIT version (Release, framework-dependent, no RID)"
dotnet publish "$PROJECT" -c Release --artifacts-path "$WORK/artifacts" -o "$JIT" > "$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; fail "dotnet publish (JIT) failed"; }
dotnet "$JIT/mnist.dll" > "$WORK/jit-run.txt" || fail "the JIT build's default command failed"
check_run "JIT" "$WORK/jit-run.txt"
grep -q "^runtime: .*JIT" "$WORK/jit-run.txt" || fail "the JIT build does not report JIT"
jit_size=$(cat "$JIT"/*.dll "$JIT/mnist" | wc -c)  # the app's assemblies and launcher; the .NET runtime is extra

step "time to first prediction: 'classify digit.png', process launch to exit, median of $RUNS"
first_ms() { # first_ms COMMAND... -> prints "wall_ms in_main_ms" per launch
  local s e
  for _ in $(seq "$RUNS"); do
    s=$(now_ns)
    "$@" classify "$digit" > "$WORK/first.txt"
    e=$(now_ns)
    echo "$(( (e - s) / 1000 )) $(awk '/^first prediction:/ { print $3 }' "$WORK/first.txt")"
  done
}
first_ms "$AOT/mnist" > "$WORK/aot-first.txt"
first_ms dotnet "$JIT/mnist.dll" > "$WORK/jit-first.txt"
aot_first=$(awk '{ print $1 / 1000 }' "$WORK/aot-first.txt" | median | awk '{ printf "%.1f", $1 }')
jit_first=$(awk '{ print $1 / 1000 }' "$WORK/jit-first.txt" | median | awk '{ printf "%.1f", $1 }')
aot_main=$(awk '{ print $2 }' "$WORK/aot-first.txt" | median)
jit_main=$(awk '{ print $2 }' "$WORK/jit-first.txt" | median)

jit_runtime=$(sed -n 's/^runtime: *//p' "$WORK/jit-run.txt")
aot_runtime=$(sed -n 's/^runtime: *//p' "$WORK/aot-run.txt")
step "NativeAOT versus JIT"
printf '%-34s %20s %20s\n' "" "NativeAOT" "JIT"
printf '%-34s %20s %20s\n' "binary size (MB)" "$(awk -v b="$aot_size" 'BEGIN { printf "%.2f", b / 1048576 }')" \
  "$(awk -v b="$jit_size" 'BEGIN { printf "%.2f + runtime", b / 1048576 }')"
printf '%-34s %20s %20s\n' "first prediction, from launch (ms)" "$aot_first" "$jit_first"
printf '%-34s %20s %20s\n' "first prediction, from Main (ms)" "$aot_main" "$jit_main"
printf '%-34s %20s %20s\n' "LeNet-5 latency per digit (µs)" "$(latency "$WORK/aot-run.txt" 1)" "$(latency "$WORK/jit-run.txt" 1)"
printf '%-34s %20s %20s\n' "MLP latency per digit (µs)" "$(latency "$WORK/aot-run.txt" 2)" "$(latency "$WORK/jit-run.txt" 2)"
printf '%-34s %20s %20s\n' "accuracy LeNet-5 / MLP" "96.65% / 93.80%" "96.65% / 93.80%"
echo
echo "NativeAOT: $aot_runtime"
echo "JIT:       $jit_runtime"
echo "$(sed -n 's/^SIMD: *//p' "$WORK/aot-run.txt" | sed 's/^/NativeAOT SIMD: /')"
echo "$(sed -n 's/^SIMD: *//p' "$WORK/jit-run.txt" | sed 's/^/JIT SIMD:       /')"
echo
echo "aot-smoke: OK"
