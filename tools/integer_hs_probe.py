"""What the exact h_s (`cae_helpers.integer_hs`) costs in bits against the float64 h_s, on a codec's own latents.

    python tools/integer_hs_probe.py --data ../shared/data/cifar-100-python.tar.gz > results/integer-hs-probe/probe.log

The coder's one float decision that can differ between machines is the table each latent value is coded under,
picked by rounding a function of h_s's float64 output (`results/hs-determinism/`: about 6e-15 per value).
`IntegerHyperSynthesis` (Ballé et al. 2019's integer networks, in float64 sums of integers that stay below 2^53 by
construction) removes it. This probe makes one from a codec (the default unless --codec) and measures, on the first
IMAGES CIFAR-100 test images and scikit-learn's two photographs whole, at several qualities: the bits of y under the
integer h_s's means and tables against the float64 h_s's (the encoder quantises y - mu either way), the share of
values whose table differs, and how near each layer's largest input comes to the clip that keeps the sums exact.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from sklearn.datasets import load_sample_images

from cae_helpers.codec import DEFAULT_MODEL, ZOO, HyperpriorCodec, _pad
from cae_helpers.data import load_cifar100
from cae_helpers.integer_hs import ACT_BITS, WEIGHT_BITS, IntegerHyperSynthesis
from cae_helpers.pixels import to_float

QUALITIES = (1, 2, 4, 6, 8)


def bits_both_ways(codec, exact: IntegerHyperSynthesis, images: np.ndarray, quality: float) -> dict:
    """Bits of y (float h_s / integer h_s), the share of tables that differ, the layers' peaks against their clips."""
    level16 = codec.level16(quality)
    level = level16 / 16
    y, z = codec.gained_latents(_pad(to_float(images)), level)
    z_hat = codec._z_symbols(z) + codec.z_low
    y_sym, y_idx, mu = codec._latent_symbols(y, codec.hyper_raw(z_hat, level), level)
    peaks = []
    raw = exact.raw(z_hat.astype(np.float64), level16, peaks)
    mu_raw, log_sigma = np.split(raw, 2, axis=-1)
    idx_i = exact.indexes(log_sigma, level16)
    sym_i = np.rint(y - mu_raw * codec.gains(level)[0]).astype(np.int64)
    bits = [sum(codec.y_coder.bits(s[i], x[i]) for i in range(len(images))) for s, x in ((y_sym, y_idx), (sym_i, idx_i))]
    return {"bits_float": bits[0], "bits_integer": bits[1], "tables_differ": float(np.mean(idx_i != y_idx)), "peaks": peaks}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.environ.get("CIFAR100_PATH"), help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    p.add_argument("--codec", default=str(ZOO / DEFAULT_MODEL), help="a codec folder, its h_s run from its float weights in "
                   "float64 and as integers (default: the default codec)")
    p.add_argument("--images", type=int, default=1000, help="first N CIFAR-100 test images (default 1000)")
    args = p.parse_args()
    codec = HyperpriorCodec.load(args.codec).with_float_hs()
    exact = IntegerHyperSynthesis.from_codec(codec)
    sets = {f"CIFAR-100 test, first {args.images}": load_cifar100(args.data).test.images[:args.images]}
    sets |= {f"scikit-learn photograph {i}": photo[None] for i, photo in enumerate(load_sample_images().images)}
    print(f"# {args.codec}; h_s with {ACT_BITS} fractional bits of activation, {WEIGHT_BITS} of weight (cae_helpers.integer_hs); "
          f"bits of y (latent only) under the float64 h_s and the integer one; each layer's largest |input| as a share of "
          f"its clip (clips {', '.join(f'{c:.3g}' for c in exact.clips)})")
    for quality in QUALITIES:
        for name, images in sets.items():
            r = bits_both_ways(codec, exact, images, quality)
            print(f"quality {quality} ({name}): y {r['bits_float'] / 8:,.0f} -> {r['bits_integer'] / 8:,.0f} bytes "
                  f"({100 * (r['bits_integer'] / r['bits_float'] - 1):+.4f} %), tables differ on {100 * r['tables_differ']:.4f} % "
                  f"of values, layer inputs at most {' / '.join(f'{x:.2g}' for x in r['peaks'])} of their clips", flush=True)


if __name__ == "__main__":
    main()
