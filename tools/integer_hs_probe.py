"""What an exact h_s would cost in bits: integer weights and activations whose float64 sums are exact in any order.

    python tools/integer_hs_probe.py --data ../shared/data/cifar-100-python.tar.gz > results/integer-hs-probe/probe.log

The coder's one float decision that can differ between machines is the table each latent value is coded under,
picked by rounding u = (log sigma - log s_0) / step from h_s's float64 output (`results/hs-determinism/`: about 6e-15
per value). Ballé et al. 2019 ("Integer networks for data compression with latent-variable models") remove it with
integer arithmetic. In NumPy that needs no integer kernels: products and sums of integers stay exact in float64 while
every partial sum is below 2^53, whatever order a BLAS adds them in. Here, nothing built: h_s's input z / gain is
rounded to ACT_BITS fractional bits, its weights to WEIGHT_BITS, each layer's sum plus its (rounded) bias goes
through the ReLU and is rounded back to ACT_BITS (a power-of-two division, + 1/2, floor: exact), and the last layer's output gives
mu and log sigma. The table index is then rint((log sigma_raw + log gain - log s_0) / step): with log gain taken
from the log-linear interpolation the gains already use, only IEEE additions, multiplications and one division,
the same on every machine that rounds as IEEE 754 asks (NumPy does; exp and log, which differ, are not used). The
probe measures, on the default codec's latents of the first IMAGES CIFAR-100 test images and scikit-learn's two
photographs whole, the bits of y under the integer h_s's means and tables against the float64 h_s's (the encoder
quantises y - mu either way), the share of values whose table differs, and the largest partial-sum bound seen
(sum of |a| |w|, which must stay below 2^53).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from sklearn.datasets import load_sample_images

from cae_helpers.codec import _conv_same, _conv_transpose_2x, _pad, shipped_codec
from cae_helpers.data import load_cifar100
from cae_helpers.entropy.tables import indexes_at, log_scale_grid
from cae_helpers.pixels import to_float

ACT_BITS, WEIGHT_BITS = 12, 20  # fractional bits of activations and weights
QUALITIES = (1, 2, 4, 6, 8)


def quantised_weights(codec) -> list[tuple[np.ndarray, np.ndarray]]:
    """h_s's (kernel, bias) as integers: kernel x 2^WEIGHT_BITS, bias x 2^(ACT_BITS + WEIGHT_BITS), rounded."""
    return [(np.rint(k * 2.0**WEIGHT_BITS), np.rint(b * 2.0 ** (ACT_BITS + WEIGHT_BITS))) for k, b in codec._hs_weights]


def exact_hs(codec, z_hat: np.ndarray, level: float, weights) -> tuple[np.ndarray, float]:
    """(h_s's raw output (N, 4h, 4w, 2C) as exact dyadic rationals, the largest bound on a partial sum) in integer steps."""
    gz = codec.gains(level)[1]
    a = np.rint(z_hat / gz * 2.0**ACT_BITS)  # (N, h, w, Nz) integers: the input at ACT_BITS fractional bits
    bound = 0.0
    layers = [(_conv_transpose_2x, True), (_conv_transpose_2x, True), (_conv_same, False)]
    for (conv, relu), (k, b) in zip(layers, weights):
        bound = max(bound, float(conv(np.abs(a), np.abs(k), 0 * b).max()))  # sum of |a| |w| over each output's terms
        acc = conv(a, k, b)  # exact: integers, every partial sum below the bound
        if relu:
            a = np.floor(np.maximum(acc, 0) / 2.0**WEIGHT_BITS + 0.5)  # back to ACT_BITS fractional bits, rounded, exactly
    return acc / 2.0 ** (ACT_BITS + WEIGHT_BITS), bound


def table_indexes(codec, raw: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """(mu, table index) from an h_s output: the index from log sigma by IEEE +, x and / only (no exp, no log at run time)."""
    first, step = log_scale_grid()
    log_gy = codec.log_gains_at(level)[0]  # (M,): what `gains` takes exp of
    mu_raw, log_sigma = np.split(raw, 2, axis=-1)
    idx = indexes_at((np.clip(log_sigma, -10.0, 10.0) + log_gy[:log_sigma.shape[-1]] - first) / step)
    return mu_raw * codec.gains(level)[0], idx


def bits_both_ways(codec, images: np.ndarray, quality: float, weights) -> dict:
    """Bits of y (float h_s / integer h_s), the share of tables that differ, the partial-sum bound."""
    level = codec.level16(quality) / 16
    y, z = codec.gained_latents(_pad(to_float(images)), level)
    z_hat = codec._z_symbols(z) + codec.z_low
    y_sym, y_idx, mu = codec._latent_symbols(y, codec.hyper_raw(z_hat, level), codec.gains(level)[0])
    raw, bound = exact_hs(codec, z_hat.astype(np.float64), level, weights)
    mu_i, idx_i = table_indexes(codec, raw, level)
    sym_i = np.rint(y - mu_i).astype(np.int64)
    bits = [sum(codec.y_coder.bits(s[i], x[i]) for i in range(len(images))) for s, x in ((y_sym, y_idx), (sym_i, idx_i))]
    return {"bits_float": bits[0], "bits_integer": bits[1], "tables_differ": float(np.mean(idx_i != y_idx)), "bound": bound}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.environ.get("CIFAR100_PATH"), help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    p.add_argument("--images", type=int, default=1000, help="first N CIFAR-100 test images (default 1000)")
    args = p.parse_args()
    codec = shipped_codec()
    weights = quantised_weights(codec)
    sets = {f"CIFAR-100 test, first {args.images}": load_cifar100(args.data).test.images[:args.images]}
    sets |= {f"scikit-learn photograph {i}": photo[None] for i, photo in enumerate(load_sample_images().images)}
    print(f"# default codec; h_s with {ACT_BITS} fractional bits of activation, {WEIGHT_BITS} of weight; bits of y (latent "
          f"only) under the float64 h_s and the integer one; 2^53 = {2.0**53:.3g}")
    for quality in QUALITIES:
        for name, images in sets.items():
            r = bits_both_ways(codec, images, quality, weights)
            print(f"quality {quality} ({name}): y {r['bits_float'] / 8:,.0f} -> {r['bits_integer'] / 8:,.0f} bytes "
                  f"({100 * (r['bits_integer'] / r['bits_float'] - 1):+.4f} %), tables differ on {100 * r['tables_differ']:.4f} % "
                  f"of values, largest partial-sum bound {r['bound']:.3g}", flush=True)


if __name__ == "__main__":
    main()
