"""Would z tables fitted per quality level code CIFAR's hyper-latent in fewer bytes than the shipped ones? A probe, no format change.

    CIFAR100_PATH=../shared/data/cifar-100-python.tar.gz python tools/z_level_probe.py > results/z-level-probe/probe.log

The shipped codec codes z under one table per channel for every quality level (its learned factorised prior), though
z's statistics change with the level's gains. Here each level gets its own table per channel: counts of z's
symbols on 5,000 CIFAR-100 training images (seed 0), mixed with the shipped table (weight 1 - w), evaluated on the first
1,000 test images as static cross-entropy in bytes per image (no per-image adaptation: the context coder's gain
comes on top of either). The y tables are left alone: empirical per-scale tables save under 0.6 % there.
"""

from __future__ import annotations

import os

import numpy as np

from cae_helpers.codec import _pad, shipped_codec
from cae_helpers.data import load_cifar100
from cae_helpers.pixels import to_float


def z_symbols(codec, images: np.ndarray, level: float) -> np.ndarray:
    """z symbols (N x positions, Nz) of uint8 images at a level."""
    _, z = codec.gained_latents(_pad(to_float(images)), level)
    return codec._z_symbols(z).reshape(-1, codec.z_tables.shape[0])


def cross_entropy(p: np.ndarray, sym: np.ndarray) -> float:
    """Bits of symbols (M, Nz) under per-channel probabilities p (Nz, K)."""
    return float(-np.log2(p[np.arange(p.shape[0]), sym]).sum())


def main() -> None:
    codec = shipped_codec()
    data = load_cifar100(os.environ.get("CIFAR100_PATH"))
    fit = data.train.images[np.random.default_rng(0).choice(len(data.train.images), 5000, replace=False)]
    test = data.test.images[:1000]
    shipped = codec.z_tables / codec.z_tables.sum(1, keepdims=True).astype(np.float64)
    nz, k = shipped.shape
    print("bytes per CIFAR test image for z: shipped tables | per-level tables mixed with them at weight w")
    for quality in range(1, codec.levels + 1):
        f, t = z_symbols(codec, fit, quality - 1), z_symbols(codec, test, quality - 1)
        counts = np.zeros((nz, k))
        np.add.at(counts, (np.broadcast_to(np.arange(nz), f.shape), f), 1.0)
        empirical = (counts + 0.5) / (counts + 0.5).sum(1, keepdims=True)
        row = [f"w {w}: {cross_entropy(w * empirical + (1 - w) * shipped, t) / len(test) / 8:.2f}" for w in (0.5, 0.8, 0.95)]
        print(f"quality {quality}: shipped {cross_entropy(shipped, t) / len(test) / 8:.2f} | " + ", ".join(row), flush=True)


if __name__ == "__main__":
    main()
