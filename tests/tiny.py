"""Shared small test inputs: a tiny hyperprior configuration (seconds to build and train), random uint8 images, and
byte strings re-spelled in the versions that decode at the bins' centres (as the model's own rounded path does), and
the check that pixels decoded here match pixels committed from another machine."""

from __future__ import annotations

import dataclasses

import numpy as np

TINY = dict(filters=8, latent_channels=8, hyper_filters=8, hyper_channels=4, lambdas=(0.001, 0.01, 0.1), epochs=2,
            batch_size=16, precision="float32")


def random_images(n: int = 6, h: int = 32, w: int = 32, seed: int = 0) -> np.ndarray:
    """(n, h, w, 3) uint8 noise images, reproducible by seed."""
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def blocky_images(n: int = 6, cells: int = 8, seed: int = 0, noise: float = 0.0) -> np.ndarray:
    """(n, 32, 32, 3) uint8 images of cells x cells random colour blocks, plus Gaussian noise of std `noise`: smooth content."""
    rng = np.random.default_rng(seed)
    side = 32 // cells
    blocks = np.repeat(np.repeat(rng.integers(0, 256, (n, cells, cells, 3)), side, axis=1), side, axis=2)
    return np.clip(blocks + rng.normal(0, noise, blocks.shape), 0, 255).astype(np.uint8) if noise else blocks.astype(np.uint8)


def as_legacy(codec, blobs: list[bytes]) -> list[bytes]:
    """The same payload words in the word-counted versions (7, 8, 9), which decode each value at its bin's centre."""
    from cae_helpers.entropy import container

    out = []
    for b in blobs:
        header, words = container.unpack(b, codec.model_id)  # versions 16-18 (z under per-level tables) have no word version
        out.append(container.pack(dataclasses.replace(header, legacy=True), words))
    return out


def without_level_z(codec):
    """The same codec without per-level z tables: it writes versions 13-15 (z under the shared tables), as before them."""
    return dataclasses.replace(codec, z_level_tables=None)


def assert_decodes_as_committed(decoded: np.ndarray, committed: np.ndarray) -> None:
    """Pixels decoded here match pixels committed from another machine up to the synthesis' float32 rounding.

    The symbols are what is guaranteed across machines; the synthesis transform then runs in float32, whose summation
    order differs between CPU kinds (AVX-512 where the files were made, AVX2 on an AMD EPYC Zen 2, where 1 of 11,520
    values came out 1 apart). A desynchronised decode would differ everywhere, by far more.
    """
    assert decoded.shape == committed.shape and decoded.dtype == committed.dtype
    diff = np.abs(decoded.astype(np.int16) - committed)
    assert diff.max() <= 1 and np.count_nonzero(diff) <= max(1, diff.size // 1000), \
        f"{np.count_nonzero(diff)} of {diff.size} values differ, by up to {diff.max()}"
