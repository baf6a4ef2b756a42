"""Pixel conversion, in one place: uint8 images <-> float32 in [0, 1]."""

from __future__ import annotations

import numpy as np

from .validation import check_uint8_images


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1] (pixels / 255, as the reference)."""
    return check_uint8_images(images).astype(np.float32) / 255.0


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float images (a model's output, ideally in [0, 1]) -> uint8, rounding to nearest and clipping (what a viewer stores)."""
    images = np.asarray(images)
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"images must be floats to convert to uint8; got dtype {images.dtype}")
    if not np.all(np.isfinite(images)):
        raise ValueError("images contain NaN or inf")
    return np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)
