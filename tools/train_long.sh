#!/usr/bin/env bash
# A longer schedule for the default codec (hyperprior-coded's architecture), in several sittings: a warm restart from the
# shipped weights at 1e-4, tenfold lower from 80 % of the 100 epochs, every other batch as 64x64 patches, the output
# convolutions in bfloat16 (the default). The shipped model saw 294,771 steps of 32 images; this adds 140,700 (1,407 a 45,000-image epoch).
# Resumable: the same command goes on where a sitting stopped (runs/coded-long/backup holds the state; between sessions
# it was committed in weights/coded-long-checkpoint/, restored by `bash tools/train_long.sh --restore`). Finished in four
# sittings (140,700 steps, 3.81 h on 2 Intel Xeon cores); its best epoch (99), fitted, ships as cae_helpers/zoo/hyperprior-coded-long.
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz bash tools/train_long.sh [HOURS]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--restore" ]; then
  exec bash tools/restore_checkpoint.sh weights/coded-long-checkpoint runs/coded-long
fi
python -m cae_helpers train-codec --data "${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}" \
  --out runs/coded-long --init-from cae_helpers/zoo/hyperprior-coded --coded-channels 40 \
  --large-patch 64 --epochs 100 --decay-at 0.8 --learning-rate 1e-4 --time-limit "${1:-0}"
