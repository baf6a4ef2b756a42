#!/usr/bin/env bash
# A second round of continuous quality levels for the default codec: the recipe of tools/train_continuous.sh (each
# image's level drawn from [0, 7], a warm restart at 3e-5, tenfold lower from 70 % of 40 epochs, every other batch as
# 64x64 patches) started from the shipped default, hyperprior-continuous, whose first round's best epoch was its last
# (validation loss still falling: 3.1455 -> 3.1336 over 20 epochs); twice as long (an epoch takes about 130 s on 2 AMD EPYC Zen 4 cores).
# Resumable: the same command goes on where a sitting stopped (runs/continuous-more/backup holds the state; between
# sessions it is committed in weights/continuous-more-checkpoint/, restored by `bash tools/train_continuous_more.sh --restore`).
# On a CPU with bfloat16 units train-codec computes the four output convolutions in bfloat16 (`--output-precision
# compute`); the run of the forty-fifth session did so and lost at the top levels (results/continuous-more/README.md).
# OUTPUT_PRECISION=float32 repeats it with them in float32 (runs/continuous-more-float32, weights/continuous-more-float32-checkpoint):
# that run lost more (results/continuous-more-float32/README.md), so the loss is the recipe's, not bfloat16's.
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz [OUTPUT_PRECISION=float32] bash tools/train_continuous_more.sh [HOURS]
set -euo pipefail
cd "$(dirname "$0")/.."
precision=${OUTPUT_PRECISION:-compute}
run=runs/continuous-more$([ "$precision" = compute ] || echo "-$precision")
if [ "${1:-}" = "--restore" ]; then
  exec bash tools/restore_checkpoint.sh "weights/$(basename "$run")-checkpoint" "$run"
fi
python -m cae_helpers train-codec --data "${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}" \
  --out "$run" --init-from cae_helpers/zoo/hyperprior-continuous --coded-channels 40 --continuous-levels \
  --large-patch 64 --epochs 40 --decay-at 0.7 --learning-rate 3e-5 --output-precision "$precision" --time-limit "${1:-0}"
