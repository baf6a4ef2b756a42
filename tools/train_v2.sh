#!/usr/bin/env bash
# The second hyperprior model (lighter hyper path, lower lowest lambda), warm-started from the shipped codec's
# analysis and synthesis transforms; resumable: the same command goes on where a sitting stopped.
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz bash tools/train_v2.sh [HOURS]
set -euo pipefail
cd "$(dirname "$0")/.."
# --output-precision float32: as the recorded run trained, before the faster default (results/output-precision-ab/)
python -m cae_helpers train-codec --data "${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}" \
  --out runs/hyperprior-v2 --init-from cae_helpers/zoo/hyperprior --init-partial \
  --hyper-kernel 1 --hyper-channels 32 --hyper-filters 64 \
  --lambdas 0.00015,0.000511,0.00174,0.00593,0.0202,0.0689,0.235,0.8 \
  --large-patch 64 --epochs 36 --decay-at 0.8 --learning-rate 3e-4 --output-precision float32 --time-limit "${1:-0}"
