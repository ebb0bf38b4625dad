# Sourced by bench/run.sh and bench/zoo.sh: the machine header every result file starts with (the CPU, its flags and
# caches, the commit and whether the tree was dirty, the toolchain), so every recorded number names its machine, and
# the table both print at the end from their interleaved rounds.
# usage: machine_header REPO "CPU LINE SUFFIX" "EXTRA LINE"...
flag() { if grep -qw "$1" /proc/cpuinfo; then echo "$1 yes"; else echo "$1 no"; fi; }
cache() { lscpu -C 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'; }
machine_header() {
  local repo=$1 cpu_suffix=$2
  shift 2
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p') (family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p')), $(nproc) cores$cpu_suffix"
  echo "flags: $(flag avx2), $(flag fma), $(flag avx512f)"
  echo "caches per core: L1d $(cache L1d), L2 $(cache L2); L3 $(cache L3)"
  local line
  for line in "$@"; do echo "$line"; done
  echo "dotnet: $(dotnet --version) (runtime $(dotnet --list-runtimes | sed -n 's/^Microsoft.NETCore.App \([^ ]*\).*/\1/p' | tail -1))"
  echo "node: $(node --version)"
  echo "kernel: $(uname -r)"
}

# The arguments joined by commas (a list of round files for the bench's --report and --compare).
list() { local IFS=,; echo "$*"; }

# Prints OUT/machine.txt and the merged rounds' table (CnnGen against ONNX Runtime), writes OUT/{cnngen,ort}.json and
# OUT/table.md. usage: report_table OUT BENCH_PROJECT CNNGEN_FILES ORT_FILES (comma-separated; '+' joins one round's files)
report_table() {
  local out=$1 proj=$2
  {
    echo '```'
    cat "$out/machine.txt"
    echo '```'
    echo
    dotnet run -c Release --no-build --project "$proj" -- --report "$3" --compare "$4" \
      --json "$out/cnngen.json" --ort-json "$out/ort.json"
  } | tee "$out/table.md"
}
