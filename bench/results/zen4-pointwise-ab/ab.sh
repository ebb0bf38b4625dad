#!/usr/bin/env bash
# Interleaved A/B (A = main 70557f2, B = branch pointwise HEAD), pinned to core 1.
# WIDTHS: 256 (DOTNET_EnableAVX512=0, auto width = V256), 512 (auto), 128 (--width 128).
A=${AEXE:-/tmp/pw-base/bench/bin/Release/net10.0/cnngen-bench}  # main 70557f2
B=${BEXE:-/tmp/pw-head/bench/bin/Release/net10.0/cnngen-bench}
models=${MODELS:-mobilenet_block}; rounds=${ROUNDS:-3}; secs=${SECS:-1}; batch=${BATCH:-1,64}; out=${OUT:-/tmp/pw-ab}
mkdir -p $out
for r in $(seq 1 $rounds); do
  for w in ${WIDTHS:-256 512}; do
    for side in A B; do
      exe=${!side}; env=(env); wa=auto
      if [ $w = 256 ]; then env=(env DOTNET_EnableAVX512=0); fi
      if [ $w = 128 ]; then wa=128; fi
      "${env[@]}" taskset -c 1 $exe --models $models --batch $batch --width $wa --seconds $secs 2>&1 \
        | grep -E "^(mobilenet_block|lenet5|mlp|cifar_resnet8|vgg_block) " | sed "s/^/$r $side /" | tee -a $out/raw.txt
    done
  done
done
