#!/usr/bin/env bash
# A finished (or paused) train-codec run, evaluated the way the zoo codecs were, against hyperprior-continuous (the
# default's network with h_s in float64; the default, hyperprior-exact, codes the same to 0.01 %), in one command (9.1 min on 2 AMD EPYC Zen 4 cores, family 25 model 17):
#   1. export its best weights as a codec folder, OUT/NAME (NAME: OUT's last component; it names the RD curves);
#   2. fit the two per-level tables every zoo codec carries (bins' means, z levels) on held-out training images;
#   3. validation loss per quality level, float32 (tools/val_loss.py; the default's, made the same way:
#      results/continuous-levels/val-loss-hyperprior-continuous.txt);
#   4. real bytes on 2,000 CIFAR-100 test images (20 per class; qualities 1 1.5 2 3 4 5 6 7 8) and on the
#      photo crops (every quality), then PSNR at 0.5 / 1 / 2 / 4 bpp and the BD-rate against the default's curves
#      made by the same commands (results/level-weight-probe/cifar2000-base, results/rd-continuous-photos).
# Nothing is overwritten: OUT must not exist. EXPORT_OPTIONS go to export-codec (for example --integer-hs); QUALITIES
# replaces step 4's CIFAR qualities (for a codec with other levels, for example nine: QUALITIES="1 2 2.5 3 4 5 6 7 8 9").
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz [EXPORT_OPTIONS=...] [QUALITIES=...] bash tools/evaluate_codec_run.sh RUN OUT
set -euo pipefail
if [ $# -ne 2 ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
run=$(realpath -m "$1") out=$(realpath -m "$2") data=$(realpath -m "${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}")
cd "$(dirname "$0")/.."  # the tools and the default's results are named from the repository root
name=$(basename "$out")
codec=$out/$name
[ -d "$run" ] || { echo "$run: no such run folder" >&2; exit 1; }
[ ! -e "$out" ] || { echo "$out exists; not overwriting it (remove it or choose another OUT)" >&2; exit 1; }
mkdir -p "$out"
python -m cae_helpers export-codec --run "$run" --out "$codec" ${EXPORT_OPTIONS:-}
python tools/fit_bin_means.py --data "$data" --codec "$codec" --out "$out/bin-means.json" --write
python tools/fit_z_levels.py --data "$data" --codec "$codec" --out "$out/z-levels.json" --write
python tools/val_loss.py --data "$data" --per-level "$codec" | tee "$out/val-per-level.txt"
python -m cae_helpers bench rd --data "$data" --no-classic --per-class 20 --hyperprior "$codec" \
  --qualities ${QUALITIES:-1 1.5 2 3 4 5 6 7 8} --out "$out/rd-cifar2000"
python -m cae_helpers bench rd --data "$data" --images photos --no-classic --hyperprior "$codec" --out "$out/rd-photos"
default="learned codec (hyperprior, one model: hyperprior-continuous)"
# the curve name as bench rd makes it (a codec folder named exactly "hyperprior" keeps the bare name)
ours=$(python -c 'import sys; from cae_helpers.bench.curves import codec_name; from cae_helpers.bench.rd import HYPERPRIOR
print(codec_name(HYPERPRIOR, sys.argv[1]))' "$codec")
{
  python tools/compare_rd.py "results/level-weight-probe/cifar2000-base/rd.json::$default" "$out/rd-cifar2000/rd.json::$ours"
  python tools/compare_rd.py "results/rd-continuous-photos/rd.json::$default" "$out/rd-photos/rd.json::$ours"
} | tee "$out/compare.txt"
