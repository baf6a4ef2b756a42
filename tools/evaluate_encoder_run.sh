#!/usr/bin/env bash
# A --tune-encoder run evaluated in real bytes against the codec it started from, with every table that codec ships
# (bins' means, z levels, mean-colour tables, integer h_s) unchanged: only the encoder differs, or (with
# --tune-blocks-only) only the blocks the run added to the encoder or the decoder.
#   1. export the run's best epoch (export-codec), then put the start codec's tables.npz in place of the exported one
#      and check that every weight the run should have left equals the start codec's;
#   2. real bytes on 2,000 CIFAR-100 test images (20 per class; qualities 1 1.5 2 3 4 5 6 7 8) and on the 520 photo
#      crops (every quality), for the start codec and the run's, by the same commands;
#   3. PSNR at 0.5 / 1 / 2 / 4 bpp and the BD-rate of the run's codec against the start's (tools/compare_rd.py).
# Nothing is overwritten: OUT must not exist. START: the codec the run started from (default: the zoo's hyperprior-exact).
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz [START=cae_helpers/zoo/hyperprior-exact] bash tools/evaluate_encoder_run.sh RUN OUT
set -euo pipefail
if [ $# -ne 2 ]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
run=$(realpath -m "$1") out=$(realpath -m "$2") data=$(realpath -m "${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}")
cd "$(dirname "$0")/.."
start=$(realpath -m "${START:-cae_helpers/zoo/hyperprior-exact}")
[ -d "$run" ] || { echo "$run: no such run folder" >&2; exit 1; }
[ ! -e "$out" ] || { echo "$out exists; not overwriting it (remove it or choose another OUT)" >&2; exit 1; }
mkdir -p "$out"
codec=$out/$(basename "$out")
python -m cae_helpers export-codec --run "$run" --out "$codec"
cp "$start/tables.npz" "$codec/tables.npz"
echo "$codec/tables.npz: the start codec's own (fitted tables and integer h_s), in place of the export's"
python - "$start" "$codec" <<'PY'
import sys
import numpy as np
from cae_helpers.codec import HyperpriorCodec
a, b = (HyperpriorCodec.load(folder) for folder in sys.argv[1:])
# a plain --tune-encoder run trains the analysis and hyper-analysis; with --tune-blocks-only every weight the start has stays
may_move = () if b.model.config.tune_blocks_only else ("analysis", "hyper_analysis")
equal = lambda x, y: all(np.array_equal(u, v) for u, v in zip(x.get_weights(), y.get_weights()))  # noqa: E731
for name, part in a.model.parts().items():
    mine = b.model.parts()[name]
    for layer in getattr(part, "layers", [part]):  # the transforms layer by layer (the run's may have more), the rest whole
        theirs = mine.get_layer(layer.name) if hasattr(part, "layers") else mine
        if not equal(layer, theirs):
            assert name in may_move, f"{name} / {layer.name} differs from the start codec's"
            print(f"  {name} layer {layer.name}: trained")
for net in ("analysis", "synthesis"):
    extra = len(b.model.parts()[net].get_weights()) - len(a.model.parts()[net].get_weights())
    print(f"the {net} has {extra} more weight arrays than the start codec's")
print("every other weight as the start codec's")
PY
bench() { python -m cae_helpers bench rd --data "$data" --no-classic --hyperprior "$1" "${@:3}" --out "$2"; }
for c in "$start" "$codec"; do
  name=$(basename "$c")
  bench "$c" "$out/rd-cifar2000-$name" --per-class 20 --qualities 1 1.5 2 3 4 5 6 7 8
  bench "$c" "$out/rd-photos-$name" --images photos
done
{
  python tools/compare_rd.py "$out/rd-cifar2000-$(basename "$start")/rd.json" "$out/rd-cifar2000-$(basename "$codec")/rd.json"
  python tools/compare_rd.py "$out/rd-photos-$(basename "$start")/rd.json" "$out/rd-photos-$(basename "$codec")/rd.json"
} | tee "$out/compare.txt"
lscpu > "$out/lscpu.txt"
