#!/usr/bin/env bash
# The shipped learned codecs (weights/learned/*): one lambda from scratch, the others warm-started
# from their neighbour. Every step resumes if killed; a finished step (weights.npz there) is skipped.
#   bash tools/train_learned_codecs.sh ../shared/data/cifar-100-python.tar.gz
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-${CIFAR100_PATH:?give the CIFAR-100 archive as the first argument or in CIFAR100_PATH}}"
out=weights/learned
step() {  # lambda epochs [init-from lambda]: from scratch at learning rate 3e-4, warm starts at 1e-4
  local dir="$out/lmbda-$1"
  [ -f "$dir/weights.npz" ] && { echo "skip $dir (done)"; return; }
  python -m cae_helpers train-factorised --data "$data" --lmbda "$1" --epochs "$2" \
    ${3:+--init-from "$out/lmbda-$3" --learning-rate 1e-4} --out "$dir"
}
# interleaved, so that a partial chain already spans the curve
step 0.02 14
step 0.007 8 0.02
step 0.06 8 0.02
step 0.0025 6 0.007
step 0.18 6 0.06
step 0.0009 6 0.0025
step 0.8 6 0.18
step 0.035 6 0.06
