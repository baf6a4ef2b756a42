"""Coding an image at a smaller size and resizing it back (byte format version 15, or 18 with per-level z tables; 12 before the one-byte lead, 9 before payloads were counted in bytes), and choosing that size.

At low rates a photograph's fine detail costs more bits than it gives back in PSNR; coding a smaller
copy and resizing the decoded one to full size (Pillow's Lanczos filter both ways) can then give a
higher PSNR for the same bytes, as libjxl's resampling and AV1's super-resolution mode do.
`rescale="auto"` lets the encoder decide per image: it codes the image at full size and at 3/4 and 1/2
of each side, decodes each, and keeps the one with the least bpp + lambda x 255^2 x MSE (the training
loss at the asked quality). A size whose copy pads to the same latent grid as a larger size's is not
tried (`distinct_grids`: 3/4 of 32 pixels is 24, padded back to 32), so a 32x32 image tries two sizes.
A smaller copy is coded at the level whose lambda is lambda / s^2: its pixels each stand for 1 / s^2 of
the full image's.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .entropy.container import SCALES16, coded_side

AUTO_SCALES16 = (16, 12, 8)  # what rescale="auto" tries: full size, 3/4 and 1/2 of each side


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """uint8 (h, w, 3) -> uint8 (height, width, 3), Pillow's Lanczos filter (both directions)."""
    if image.shape[:2] == (height, width):
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.LANCZOS))


def candidate_scales(rescale) -> tuple[int, ...]:
    """Scales in sixteenths to try for a `rescale` argument: None or 1 (full size), "auto", or a scale 1/4..15/16."""
    if rescale is None or (not isinstance(rescale, (str, bool)) and rescale == 1):
        return (16,)
    if rescale == "auto":
        return AUTO_SCALES16
    if isinstance(rescale, (int, float, np.floating)) and not isinstance(rescale, bool):
        k = int(round(float(rescale) * 16))
        if k in SCALES16 and abs(k / 16 - float(rescale)) < 1e-9:
            return (k,)
    raise ValueError(f"rescale must be None, 'auto' or a scale in sixteenths from {SCALES16.start}/16 to "
                     f"{SCALES16.stop - 1}/16 (for example 0.75 or 0.5), got {rescale!r}")


def distinct_grids(scales16: tuple[int, ...], height: int, width: int, multiple: int) -> tuple[int, ...]:
    """`scales16` (largest first) less each scale whose copy pads to the same sides as a larger scale's copy.

    Such a copy codes as many latents as the larger one for fewer of the image's pixels; on 1,000 CIFAR test
    images `auto` chose 3/4 (24 pixels, padded back to 32) for at most 0.3 % of them at any quality.
    """
    kept, grids = [], set()
    for k in scales16:
        grid = tuple(-(-coded_side(side, k) // multiple) for side in (height, width))  # latent-grid sides, in multiples
        if grid not in grids:
            kept.append(k)
            grids.add(grid)
    return tuple(kept)


def level16_at_scale(lambdas, level16: int, scale16: int) -> int:
    """The quality byte (level x 16) for a copy at scale16 / 16: lambda(level) / s^2, log-linear between levels, clamped."""
    log_lambdas = np.log(np.asarray(lambdas, np.float64))
    steps = np.arange(len(log_lambdas))
    target = np.interp(level16 / 16, steps, log_lambdas) + 2 * np.log(16 / scale16)
    return int(round(16 * float(np.interp(target, log_lambdas, steps))))


def loss(image: np.ndarray, decoded: np.ndarray, nbytes: int, lmbda: float) -> float:
    """bpp + lambda x 255^2 x MSE of a decoded uint8 image against the original (the training loss, on uint8)."""
    mse = np.mean(np.square(decoded.astype(np.float64) - image.astype(np.float64)))  # on uint8: 255^2 x MSE on [0, 1]
    return 8 * nbytes / (image.shape[0] * image.shape[1]) + lmbda * float(mse)
