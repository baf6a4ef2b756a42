"""Input checks shared by every public function: clear errors, never silent garbage."""

from __future__ import annotations

import numpy as np

IMAGE_HW = (32, 32)


def check_images(images: np.ndarray, name: str = "images") -> np.ndarray:
    """A non-empty (N, H, W, 3) batch of images."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"{name} must be a batch of RGB images shaped (N, H, W, 3); got shape {images.shape}")
    if images.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {images.shape})")
    return images


def check_uint8_images(images: np.ndarray, name: str = "images") -> np.ndarray:
    """A uint8 (N, H, W, 3) batch."""
    images = check_images(images, name)
    if images.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8 in [0, 255]; got dtype {images.dtype} (use to_uint8 for floats)")
    return images


def check_float_images(images: np.ndarray, name: str = "images", clip_ok: bool = False) -> np.ndarray:
    """A floating (N, H, W, 3) batch in [0, 1], finite; `clip_ok` allows small overshoots."""
    images = check_images(images, name)
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"{name} must be floats in [0, 1]; got dtype {images.dtype} (use to_float for uint8)")
    if not np.all(np.isfinite(images)):
        raise ValueError(f"{name} contains NaN or inf")
    lo, hi = float(images.min()), float(images.max())
    slack = 0.5 if clip_ok else 1e-6
    if lo < -slack or hi > 1 + slack:
        raise ValueError(f"{name} must lie in [0, 1]; got values in [{lo:.4g}, {hi:.4g}] (uint8 data divided by 255?)")
    return images


def check_pair(orig: np.ndarray, rec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Originals and reconstructions of the same shape and kind (both uint8 or both float)."""
    orig, rec = check_images(orig, "orig"), check_images(rec, "rec")
    if orig.shape != rec.shape:
        raise ValueError(f"orig and rec differ in shape: {orig.shape} vs {rec.shape}")
    if (orig.dtype == np.uint8) != (rec.dtype == np.uint8):
        raise ValueError(f"orig and rec must both be uint8 or both float; got {orig.dtype} and {rec.dtype}")
    if orig.dtype == np.uint8:
        return orig, rec
    return check_float_images(orig, "orig"), check_float_images(rec, "rec")


def check_model_input(images: np.ndarray, model, name: str = "images") -> np.ndarray:
    """uint8 images whose height, width and channels match the model's input."""
    images = check_uint8_images(images, name)
    expected = tuple(model.input.shape[1:])
    if tuple(images.shape[1:]) != expected:
        raise ValueError(f"{name} are {images.shape[1:]} but the model takes {expected} images")
    return images
