"""How many bits the hyper-latent z could save on whole photographs: the probe behind byte formats 5 and 7.

    CIFAR100_PATH=../shared/data/cifar-100-python.tar.gz python tools/z_coding_probe.py > results/z-coding-probe/probe.log

On scikit-learn's two photographs coded whole by the default codec, per z position (all channels), in bits:
the shipped tables; each channel's empirical entropy within each photograph (plug-in: a lower bound no
causal coder reaches); the same given the left neighbour; the adaptive model per position and row by row for
prior weights W and count caps (`entropy.adaptive`, format 5, which ships W=32, cap 256, row by row); then
per position with counts kept per context (`entropy.context`, format 7: the left and upper neighbours below, at
or above their channel's mode, "lu", times 4 classes of how many neighbour values are off their modes, "act")
for prior weights W. Then the same models on 1,000 CIFAR-100 test images (10 per class; CIFAR100_PATH names the
archive), in bytes per image.
"""

from __future__ import annotations

import os

import numpy as np
from sklearn.datasets import load_sample_images

from cae_helpers.codec import _pad, shipped_codec
from cae_helpers.entropy import context
from cae_helpers.pixels import to_float

CODEC = shipped_codec()
TABLES = CODEC.z_tables.astype(np.int64)  # (Nz, K)
NZ, K = TABLES.shape
CHANNEL = np.arange(NZ)


def entropy_bits(values: np.ndarray) -> float:
    """Plug-in entropy of the rows of `values` (n, d) times n: the empirical code length in bits."""
    _, counts = np.unique(values, return_counts=True, axis=0)
    q = counts / counts.sum()
    return float(-(q * np.log2(q)).sum() * len(values))


def empirical_bits(s: np.ndarray) -> tuple[float, float]:
    """(marginal, given the left neighbour) empirical code length of z symbols (h, w, Nz), positions past the first column."""
    marginal = conditional = 0.0
    for c in range(NZ):
        a, left = s[:, 1:, c].ravel(), s[:, :-1, c].ravel()
        marginal += entropy_bits(a[:, None])
        conditional += entropy_bits(np.stack([a, left], 1)) - entropy_bits(left[:, None])
    return marginal, conditional


def adaptive_bits(s: np.ndarray, weight: int, cap: int, per_position: bool) -> float:
    """Ideal code length of z symbols (h, w, Nz) under the adaptive model, updated per position or per row."""
    rows = s.reshape(-1, 1, NZ) if per_position else s
    counts, bits = np.zeros((NZ, K), np.int64), 0.0
    for row in rows:
        while counts.sum(axis=1).max() > cap:
            counts = (counts + 1) // 2
        f = weight * TABLES + 65536 * counts
        bits -= np.log2((f / f.sum(axis=1, keepdims=True))[CHANNEL[None], row]).sum()
        np.add.at(counts, (np.broadcast_to(CHANNEL, row.shape), row), 1)
    return bits


def context_bits(s: np.ndarray, weight: int, activity: bool) -> float:
    """Ideal code length of z symbols (h, w, Nz) under per-context counts: `entropy.context` with prior weight W, with or without the activity classes."""
    return context.ContextZCoder(TABLES, weight, context.ACTIVITY_EDGES if activity else ()).bits(s[None])


CONTEXT_VARIANTS = ((32, False), (16, False), (8, False), (4, False), (16, True), (8, True), (4, True))  # (W, activity)


def z_symbols(images: np.ndarray, level: float) -> np.ndarray:
    """(N, h, w, Nz) z symbols of uint8 images (N, H, W, 3) at a level (quality - 1)."""
    return CODEC._z_symbols(CODEC.gained_latents(_pad(to_float(images)), level)[1])


def main() -> None:
    photos = load_sample_images().images
    print(f"codec: the default ({CODEC.model_id.hex()}); scikit-learn's photographs coded whole; bits per z position")
    for level in (0.0, 1.0, 3.0):
        zs = [z_symbols(p[None], level)[0] for p in photos]
        n = sum(z.shape[0] * z.shape[1] for z in zs)
        fixed = sum(float(-np.log2(TABLES[CHANNEL, z] / 65536).sum()) for z in zs)
        marginal, given_left = (sum(v) for v in zip(*(empirical_bits(z) for z in zs)))
        n_inner = sum(z.shape[0] * (z.shape[1] - 1) for z in zs)
        line = [f"quality {level + 1:g}: shipped tables {fixed / n:.1f}", f"empirical {marginal / n_inner:.1f}",
                f"given left {given_left / n_inner:.1f}", f"adaptive per position W32 {sum(adaptive_bits(z, 32, 10**9, True) for z in zs) / n:.1f}"]
        for weight, cap in ((16, 10**9), (32, 10**9), (64, 10**9), (32, 128), (32, 256), (32, 1024)):
            line.append(f"rows W{weight} cap {cap if cap < 10**9 else 'none'} {sum(adaptive_bits(z, weight, cap, False) for z in zs) / n:.2f}")
        for weight, act in CONTEXT_VARIANTS:
            line.append(f"context lu{'+act' if act else ''} W{weight} {sum(context_bits(z, weight, act) for z in zs) / n:.2f}")
        print(", ".join(line))
    if os.environ.get("CIFAR100_PATH"):
        from cae_helpers.data import balanced_subset, load_cifar100

        test = balanced_subset(load_cifar100(os.environ["CIFAR100_PATH"]).test, 10, seed=0).images
        for level in (0.0, 3.0):
            zs = z_symbols(test, level)
            fixed = np.mean([-np.log2(TABLES[CHANNEL, z] / 65536).sum() for z in zs]) / 8
            rows = np.mean([adaptive_bits(z, 32, 256, False) for z in zs]) / 8
            ctx = ", ".join(f"context lu{'+act' if act else ''} W{w} {np.mean([context_bits(z, w, act) for z in zs]) / 8:.2f}"
                            for w, act in CONTEXT_VARIANTS)
            print(f"CIFAR-100 test (1,000), quality {level + 1:g}: z {fixed:.2f} bytes per image under the shipped tables, "
                  f"{rows:.2f} adaptive (W32, cap 256, rows), {ctx}")


if __name__ == "__main__":
    main()
