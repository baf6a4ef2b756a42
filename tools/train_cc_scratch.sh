#!/usr/bin/env bash
# The channel-context hyperprior trained from scratch (Minnen & Singh 2020 at this size): y's 40 coded channels in 4 slices
# of 10, each slice's mean and scale refined from the slices decoded before it, trained jointly with the transforms from
# the first step (warm-started on the shipped transforms it learned nothing: README, "Channel-wise context"). The
# default codec's other settings (128 latent channels, 64 hyper-latent channels, continuous quality levels, every other
# batch as 64x64 patches, half the images zoomed crops); the first model's schedule: 150 epochs of 45,000 images at 3e-4,
# tenfold lower from 90 % (so its validation curve compares with weights/hyperprior-checkpoint's, epoch by epoch).
# Training commands turn oneDNN on where TensorFlow leaves it off (README, "Training speed").
# Resumable: the same command goes on where a sitting stopped (runs/cc-scratch/backup holds the state; between sessions
# it was committed in weights/cc-scratch-checkpoint/, restored by `bash tools/train_cc_scratch.sh --restore`).
# Finished in four sittings (150 epochs, 211,050 steps, 6.92 h on 2 AMD EPYC cores); the folder now keeps the record and
# the best weights, and its README says how to export them and where the last resumable state is in git history.
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz bash tools/train_cc_scratch.sh [HOURS]
set -euo pipefail
cd "$(dirname "$0")/.."
run=runs/cc-scratch
if [ "${1:-}" = "--restore" ]; then
  exec bash tools/restore_checkpoint.sh weights/cc-scratch-checkpoint "$run"
fi
python -m cae_helpers train-codec --data "${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}" \
  --out "$run" --context-slices 4 --coded-channels 40 --continuous-levels --large-patch 64 \
  --epochs 150 --learning-rate 3e-4 --decay-at 0.9 --time-limit "${1:-0}"
