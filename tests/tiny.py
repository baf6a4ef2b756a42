"""Shared small test inputs: a tiny hyperprior configuration (seconds to build and train) and random uint8 images."""

from __future__ import annotations

import numpy as np

TINY = dict(filters=8, latent_channels=8, hyper_filters=8, hyper_channels=4, lambdas=(0.001, 0.01, 0.1), epochs=2,
            batch_size=16, precision="float32")


def random_images(n: int = 6, h: int = 32, w: int = 32, seed: int = 0) -> np.ndarray:
    """(n, h, w, 3) uint8 noise images, reproducible by seed."""
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)
