#!/usr/bin/env bash
# The README's headline figures for a codec that is to become the default, each merged onto the last default's files so
# every earlier curve stays beside it: the 520 photo crops, both photograph sets whole, all 10,000 CIFAR-100 test images
# near 0.5 bpp, at qualities 1-8 full size and with the size chosen per image, the byte budget, and 128 bytes an image.
# 74 min on 2 AMD EPYC Zen 4 cores beside a training run (forty-sixth session, for hyperprior-exact; the same runs for
# hyperprior-continuous, made one by one in earlier sessions, sum to about 55 min on quiet cores).
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz bash tools/headline_figures.sh CODEC NAME
# writes results/rd-NAME-photos, photos-NAME, photos-skimage-NAME, rd-NAME-half-bpp, rd-NAME-cifar10000 (and its
# byte_budget), rd-NAME-max128, each with lscpu.txt; the bench commands refuse to overwrite finished results.
# MERGE_NAME (default exact) names the files merged onto: results/rd-$MERGE_NAME-{photos,half-bpp,cifar10000}.
set -euo pipefail
cd "$(dirname "$0")/.."
codec=${1:?a codec folder}
name=${2:?a name for the results folders}
data=${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}
base=${MERGE_NAME:-exact}
run() {  # run OUT COMMAND...: time it, then record the CPU beside its results
  local out=$1 start
  shift
  echo "=== $(date -u +%T) $out: $*"
  start=$(date +%s)
  "$@"
  echo "=== $(date -u +%T) $out done in $(( $(date +%s) - start )) s"
  lscpu > "$out/lscpu.txt"
}
rd() { python -m cae_helpers bench rd --data "$data" --no-classic --hyperprior "$codec" "$@"; }
run "results/rd-$name-photos" rd --images photos --merge "results/rd-$base-photos/rd.json" --rescale --out "results/rd-$name-photos"
run "results/photos-$name" python -m cae_helpers bench photos --hyperprior "$codec" --rescale --out "results/photos-$name"
run "results/photos-skimage-$name" python -m cae_helpers bench photos --photos skimage --hyperprior "$codec" --rescale \
  --out "results/photos-skimage-$name"
run "results/rd-$name-half-bpp" rd --merge "results/rd-$base-half-bpp/rd.json" --qualities 1.5 1.5625 1.625 1.6875 \
  --out "results/rd-$name-half-bpp"
run "results/rd-$name-cifar10000" rd --merge "results/rd-$base-cifar10000/rd.json" --rescale --out "results/rd-$name-cifar10000"
run "results/rd-$name-cifar10000/byte_budget" python tools/byte_budget.py --data "$data" --codec "$codec" \
  --out "results/rd-$name-cifar10000/byte_budget"
run "results/rd-$name-max128" rd --qualities 8 --max-bytes 128 --out "results/rd-$name-max128"
