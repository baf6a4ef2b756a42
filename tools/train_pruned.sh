#!/usr/bin/env bash
# The pruned hyperprior (40 latent channels instead of 128: the ones that carry >= 99.8 % of y's bits at every
# quality, chosen on CIFAR-100 training images), fine-tuned from the shipped codec's weights restricted to them
# (the parts that read dropped channels first fitted to the shipped codec's outputs: tools/prune_codec.py).
# Resumable: the same command goes on where a sitting stopped.
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz bash tools/train_pruned.sh [HOURS]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}"
[ -f runs/pruned40/weights.npz ] || python tools/prune_codec.py --data "$data" --codec cae_helpers/zoo/hyperprior \
  --latent-channels 40 --hyper-channels 64 --distill-epochs 4 --out runs/pruned40
# --output-precision float32: as the recorded run trained, before the faster default (results/output-precision-ab/)
python -m cae_helpers train-codec --data "$data" --out runs/hyperprior-pruned --init-from runs/pruned40 \
  --latent-channels 40 --large-patch 64 --epochs 30 --decay-at 0.7 --learning-rate 1e-4 --output-precision float32 --time-limit "${1:-0}"
