#!/usr/bin/env bash
# The default codec (hyperprior-coded-long) trained on with continuous quality levels (`--continuous-levels`: each image's
# level drawn from [0, 7], lambda and gains log-linear between the eight trained levels), so that fractional qualities,
# such as the ~1.56 where 0.5 bpp falls on CIFAR, are trained rather than only interpolated. A warm restart from the
# shipped weights at 3e-5, tenfold lower from 70 % of 20 epochs, every other batch as 64x64 patches (as its last schedule).
# Resumable: the same command goes on where a sitting stopped (runs/continuous/backup holds the state; between sessions
# it was committed in weights/continuous-checkpoint/, restored by `bash tools/train_continuous.sh --restore`). Finished in
# two sittings (28,140 steps, 2.75 h on 2 AMD EPYC Zen 2 cores); its last epoch, fitted, is cae_helpers/zoo/hyperprior-continuous.
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz bash tools/train_continuous.sh [HOURS]
set -euo pipefail
cd "$(dirname "$0")/.."
run=runs/continuous
if [ "${1:-}" = "--restore" ]; then
  exec bash tools/restore_checkpoint.sh weights/continuous-checkpoint "$run"
fi
python -m cae_helpers train-codec --data "${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}" \
  --out "$run" --init-from cae_helpers/zoo/hyperprior-coded-long --coded-channels 40 --continuous-levels \
  --large-patch 64 --epochs 20 --decay-at 0.7 --learning-rate 3e-5 --time-limit "${1:-0}"
