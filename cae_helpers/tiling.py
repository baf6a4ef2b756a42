"""Bounded memory for large images: convolutional transforms run strip by strip with a halo of context.

A fully convolutional transform computed on a horizontal strip of its input, widened by a halo at
least as deep as the transform's receptive field, gives the same rows as on the whole image
(up to float rounding): the zero padding of the strip's own edges only touches the halo, which is
cropped away. Strips span the full width; their height is chosen from the width so that each strip
holds about a fixed number of values, which bounds the working memory whatever the image size.

`coding_strips` is part of the byte format (entropy.container, versions 3, 5, 7 and 10): the latent of an image
is entropy coded strip by strip in this order, and a decoder must split it the same way. Version 4
cuts the image into independent tiles instead (`to_tiles` / `from_tiles`), coded `TILE_GROUP` at a time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# The latent of an image is coded in strips of about this many values (y positions x channels);
# an image up to one megapixel (with 128 latent channels) is one strip.
CODING_STRIP_VALUES = 1 << 23
# Network transforms run on strips of about this many pixels (activations of 128 channels at half
# resolution: about 128 MiB of float32 per tensor).
NETWORK_STRIP_PIXELS = 1 << 20
# The byte format's tiled versions (4, 6, 8, 11): the side of a tile, and how many tiles' latents are coded as one group (one megapixel).
TILE = 32
TILE_GROUP = 1024


def strip_rows(width: int, budget: int, multiple: int) -> int:
    """Rows per strip so a strip of `width` columns holds about `budget` values: a multiple of `multiple`, at least one."""
    return max(multiple, budget // max(width, 1) // multiple * multiple)


def spans(total: int, rows: int) -> list[tuple[int, int]]:
    """[start, stop) row spans of `rows` rows covering 0..total (the last may be shorter)."""
    return [(a, min(a + rows, total)) for a in range(0, total, rows)]


def coding_strips(latent_height: int, latent_width: int, channels: int) -> list[tuple[int, int]]:
    """Latent row spans coded one after another (the byte format's whole-image versions 3, 5, 7, 10); multiples of 4 rows (one z row)."""
    return spans(latent_height, strip_rows(latent_width * channels, CODING_STRIP_VALUES, 4))


def rows_of(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, scale: float, start: int, stop: int,
            halo: int) -> np.ndarray:
    """Output rows [start, stop) of fn(x), computing fn only on the input rows they need plus `halo` output rows each side.

    x: (N, H, W, C); fn maps (N, h, W, C) -> (N, h * scale, W * scale, C'). `start`, `stop`
    (unless it is the last row) and `halo` must be whole multiples of 1/scale output rows' worth
    of input, so strips stay aligned with every stride of fn.
    """
    total = round(x.shape[1] * scale)
    lo, hi = max(start - halo, 0), min(stop + halo, total)
    in_lo, in_hi = lo / scale, hi / scale
    if in_lo != int(in_lo) or (hi < total and in_hi != int(in_hi)):
        raise ValueError(f"rows {lo}..{hi} do not align with the transform's scale {scale}")
    part = np.asarray(fn(x[:, int(in_lo):int(round(in_hi))]))
    return part[:, start - lo:stop - lo]


def map_rows(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, scale: float, rows: int, halo: int,
             dtype=np.float32, tick: Callable[[], object] | None = None) -> np.ndarray:
    """fn(x) assembled from strips of `rows` output rows, each computed with `halo` output rows of context; `tick()` after each."""
    total = round(x.shape[1] * scale)
    out = None
    for a, b in spans(total, rows):
        part = rows_of(fn, x, scale, a, b, halo)
        if out is None:
            out = np.empty((part.shape[0], total) + part.shape[2:], dtype)
        out[:, a:b] = part
        if tick is not None:
            tick()
    return out


def tile_grid(height: int, width: int, size: int = TILE) -> tuple[int, int]:
    """(rows, columns) of `size` x `size` tiles covering an image of height x width."""
    return -(-height // size), -(-width // size)


def to_tiles(image: np.ndarray, size: int = TILE) -> np.ndarray:
    """(H, W, C) -> (rows * columns, size, size, C) in raster order, the image edge-padded to multiples of `size`."""
    rows, cols = tile_grid(*image.shape[:2], size)
    x = np.pad(image, ((0, rows * size - image.shape[0]), (0, cols * size - image.shape[1]), (0, 0)), mode="edge")
    return x.reshape(rows, size, cols, size, -1).swapaxes(1, 2).reshape(rows * cols, size, size, -1)


def from_tiles(tiles: np.ndarray, height: int, width: int) -> np.ndarray:
    """The inverse of `to_tiles`: (T, size, size, C) in raster order -> (height, width, C), padding cropped."""
    size = tiles.shape[1]
    rows, cols = tile_grid(height, width, size)
    x = tiles.reshape(rows, cols, size, size, -1).swapaxes(1, 2).reshape(rows * size, cols * size, -1)
    return x[:height, :width]
