#!/usr/bin/env bash
# The coded-40 hyperprior: the shipped codec with only the 40 latent channels that carry >= 99.9 % of y's bits coded
# and decoded (chosen on CIFAR-100 training images); its analysis and hyper-analysis stay whole, so the encoder and the
# side information start exactly as the shipped codec's (tools/prune_codec.py --coded-channels), then a fine-tune at
# the learning rate the shipped schedule ended on. Resumable: the same command goes on where a sitting stopped.
# --output-precision float32: as the shipped codec was trained (and as its recorded runs resume); the newer default,
# compute, trains about 1.2x faster with the same validation loss (results/output-precision-ab/).
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz bash tools/train_coded.sh [HOURS]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}"
[ -f runs/coded40/weights.npz ] || python tools/prune_codec.py --data "$data" --codec cae_helpers/zoo/hyperprior \
  --coded-channels 40 --distill-epochs 4 --out runs/coded40
python -m cae_helpers train-codec --data "$data" --out runs/hyperprior-coded40 --init-from runs/coded40 --coded-channels 40 \
  --large-patch 64 --epochs 36 --decay-at 0.6 --learning-rate 3e-5 --output-precision float32 --time-limit "${1:-0}"
