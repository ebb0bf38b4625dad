#!/usr/bin/env bash
# usage: prof.sh DLL OUT -- perf per-symbol profile of lenet5 one-thread training
data=$(mktemp /tmp/sparse-ab/perf.XXXXXX)
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -q -F 1999 -o "$data" dotnet $1 --train --models lenet5 --threads 1 --seconds 4 | grep -E "^lenet5 "
perf report -i "$data" --sort sym --stdio 2> /dev/null | grep -v '^#' | grep -v '^$' | head -40 > $2
rm -f "$data"
