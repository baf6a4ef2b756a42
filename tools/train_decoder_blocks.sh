#!/usr/bin/env bash
# A larger decoder at the same bytes: two residual blocks added to g_s of the default (hyperprior-exact's network) at
# H/2 x W/2 x 128, before its output convolution, trained alone on the coded path (`--tune-encoder --decoder-blocks 2
# --tune-blocks-only`: every weight the codec ships stays, so the bytes are the default's; the blocks start as the
# identity, so the run starts at exactly the shipped codec and its loss can only fall through distortion). The question:
# the encoder side gave nothing (results/encoder-tune-probe/, results/encoder-blocks/) and the shipped synthesis
# retrained alone gave about 0.01 dB (results/synthesis-finetune/), so is the decoder short of capacity? The same recipe
# as tools/train_encoder_blocks.sh: float32, 20 epochs at 1e-4, tenfold lower from 70 %, every other batch as 64x64
# patches, continuous levels. Resumable: the same command goes on where a sitting stopped.
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz bash tools/train_decoder_blocks.sh [HOURS]
set -euo pipefail
cd "$(dirname "$0")/.."
run=runs/decoder-blocks
python -m cae_helpers train-codec --data "${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}" \
  --out "$run" --init-from cae_helpers/zoo/hyperprior-exact --coded-channels 40 --continuous-levels \
  --large-patch 64 --tune-encoder --decoder-blocks 2 --tune-blocks-only --epochs 20 --decay-at 0.7 \
  --learning-rate 1e-4 --precision float32 --time-limit "${1:-0}"
