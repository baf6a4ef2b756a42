"""Byte strings of a zoo codec and the pixels they decode to here, saved as a test fixture for later commits and other
machines to decode (`tests/test_integer_hs.py`).

    python tools/make_string_fixture.py hyperprior-exact tests/data/hyperprior-exact-strings.npz

What it codes: the 48x80 image of tests/data/format34.npz whole, as tiles and at half size (quality 2, mean-colour
corrections where the codec ships them), and the first 16 of scikit-learn's 32x32 photo crops at qualities 1, 4 and 8
(their strings concatenated, with their lengths). Refuses to overwrite OUT.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cae_helpers.codec import pretrained_codec
from cae_helpers.data import photo_crops

IMAGE = Path(__file__).resolve().parent.parent / "tests" / "data" / "format34.npz"
LAYOUTS = {"whole": {"tiles": False}, "tiles": {"tiles": True}, "half": {"rescale": 0.5}}
CROP_QUALITIES = (1, 4, 8)


def fixture(name: str) -> dict[str, np.ndarray]:
    """{f"{name}/{layout}/blob" | ".../decoded", f"{name}/crops/q{q}/..."}: byte strings as uint8 and their pixels."""
    codec = pretrained_codec(name=name).codec
    image, out = np.load(IMAGE)["image"], {}
    for layout, options in LAYOUTS.items():
        blob = codec.compress_image(image, 2, **options)
        out[f"{name}/{layout}/blob"] = np.frombuffer(blob, np.uint8)
        out[f"{name}/{layout}/decoded"] = codec.decompress_image(blob)
    crops = photo_crops()[0][:16]
    for q in CROP_QUALITIES:
        blobs = codec.compress(crops, q)
        out[f"{name}/crops/q{q}/blobs"] = np.frombuffer(b"".join(blobs), np.uint8)
        out[f"{name}/crops/q{q}/lengths"] = np.array([len(b) for b in blobs])
        out[f"{name}/crops/q{q}/decoded"] = codec.decompress(blobs)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", help="a zoo codec's name")
    p.add_argument("out", type=Path, help="the .npz to write (must not exist)")
    args = p.parse_args()
    if args.out.exists():
        raise SystemExit(f"{args.out} exists: not overwriting it")
    np.savez_compressed(args.out, **fixture(args.name))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
