#!/usr/bin/env bash
# The channel-context hyperprior (y coded in 4 slices of 32 channels, each conditioned on the slices before it),
# warm-started from the shipped codec: every part copied, the context networks start at zero, so training starts
# at the shipped codec's loss. Resumable: the same command goes on where a sitting stopped.
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz bash tools/train_cc.sh [HOURS]
set -euo pipefail
cd "$(dirname "$0")/.."
# --output-precision float32: as the recorded run trained, before the faster default (results/output-precision-ab/)
python -m cae_helpers train-codec --data "${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}" \
  --out runs/hyperprior-cc --init-from cae_helpers/zoo/hyperprior --init-partial --context-slices 4 \
  --large-patch 64 --epochs 32 --decay-at 0.75 --learning-rate 2e-4 --output-precision float32 --time-limit "${1:-0}"
