"""A crop of a photograph beside its decodes in both layouts at two qualities: where the 32x32 tile seams show.

    python tools/seams_figure.py --out results/photos/seams.png

Rows: quality 1 and 3 (default); left the original crop (china.jpg rows 150-277, columns 250-377), middle our
codec's decode as independent 32x32 tiles, right coded whole (one pass), each pixel shown 3x3. Refuses to replace
--out without --overwrite.
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from cae_helpers.bench.photos import sample_photos
from cae_helpers.codec import HyperpriorCodec


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--codec", default="cae_helpers/zoo/hyperprior")
    p.add_argument("--qualities", type=float, nargs="+", default=[1, 3])
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args()
    if args.out.exists() and not args.overwrite:
        p.error(f"{args.out} exists; pass --overwrite to replace it")
    codec = HyperpriorCodec.load(args.codec)
    img = sample_photos()["china.jpg"]
    crop = (slice(150, 278), slice(250, 378))
    rows = []
    for q in args.qualities:
        tiles, whole = (codec.decompress_image(codec.compress_image(img, q, tiles=t)) for t in (True, False))
        rows.append(np.concatenate([img[crop], tiles[crop], whole[crop]], axis=1))
    out = np.concatenate(rows, axis=0)
    Image.fromarray(out).resize((3 * out.shape[1], 3 * out.shape[0]), Image.NEAREST).save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
