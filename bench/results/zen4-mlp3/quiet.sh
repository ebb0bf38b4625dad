#!/usr/bin/env bash
# waits (up to $1 s) until both cpus are >= 85% idle over 0.5 s
end=$(( $(date +%s) + ${1:-60} ))
while [ $(date +%s) -lt $end ]; do
  a=($(grep '^cpu0 ' /proc/stat)); b=($(grep '^cpu1 ' /proc/stat)); sleep 0.5
  c=($(grep '^cpu0 ' /proc/stat)); d=($(grep '^cpu1 ' /proc/stat))
  i0=$(( ${c[4]} - ${a[4]} )); t0=0; for k in 1 2 3 4 5 6 7 8; do t0=$(( t0 + ${c[$k]} - ${a[$k]} )); done
  i1=$(( ${d[4]} - ${b[4]} )); t1=0; for k in 1 2 3 4 5 6 7 8; do t1=$(( t1 + ${d[$k]} - ${b[$k]} )); done
  [ $t0 -gt 0 ] && [ $t1 -gt 0 ] && [ $(( 100 * i0 / t0 )) -ge 85 ] && [ $(( 100 * i1 / t1 )) -ge 85 ] && exit 0
done
exit 1
