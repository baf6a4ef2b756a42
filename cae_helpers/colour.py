"""Mean-colour corrections after the decoder (byte format versions 22-24): one integer per 32x32 block and channel.

The decoded image is often off by a mean colour per region on smooth content (the forty-first and forty-second
sessions' probes, `results/dc-correction-probe/`). The encoder, which can decode its own bytes, sends for each
BLOCK x BLOCK block of the decoded image (edge blocks partial) and each channel the block's mean error
(original - decoded, 8-bit units) rounded to an integer; the decoder adds it to every pixel of the block and
clips to 0..255. The values are coded under one integer table per quality level (a discretised Laplacian,
`entropy.tables.laplace_table`, fitted on held-out training images by `tools/fit_colour_levels.py`), pushed on
top of a version 19-21 string's ANS stack, so the decoder pops them first. Integer arithmetic only: both sides
get the same pixels from the same decoded image.
"""

from __future__ import annotations

import numpy as np

from .entropy.tables import TableCoder, mix_level_tables

BLOCK = 32  # pixels a side of a correction block (the last row and column of blocks may be partial)
RADIUS = 40  # the tables hold -RADIUS..RADIUS and an escape (larger values: two uniform bytes, `TableCoder`)


def block_grid(height: int, width: int) -> tuple[int, int]:
    """(block rows, block columns) of an image: ceil(H / BLOCK), ceil(W / BLOCK)."""
    return -(-height // BLOCK), -(-width // BLOCK)


def block_means(err: np.ndarray) -> np.ndarray:
    """(H, W, 3) float error -> (block rows, block columns, 3) mean error per block (edge blocks partial)."""
    h, w, _ = err.shape
    starts_h, starts_w = np.arange(0, h, BLOCK), np.arange(0, w, BLOCK)
    sums = np.add.reduceat(np.add.reduceat(err, starts_h, axis=0), starts_w, axis=1)  # (bh, bw, 3)
    counts = np.outer(np.diff(np.r_[starts_h, h]), np.diff(np.r_[starts_w, w]))  # (bh, bw) pixels a block
    return sums / counts[..., None]


def corrections(original: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """int64 (block rows, block columns, 3): each block's mean error of a decoded uint8 image (H, W, 3), rounded."""
    if original.shape != decoded.shape or original.ndim != 3:
        raise ValueError(f"expected two images (H, W, 3) of one size, got {original.shape} and {decoded.shape}")
    err = original.astype(np.float64) - decoded.astype(np.float64)
    return np.rint(block_means(err)).astype(np.int64)


def apply(decoded: np.ndarray, symbols: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3): a decoded image with each block's correction (bh, bw, 3) added, clipped to 0..255."""
    h, w, _ = decoded.shape
    if symbols.shape != block_grid(h, w) + (3,):
        raise ValueError(f"a {h}x{w} image takes {block_grid(h, w) + (3,)} corrections, got {symbols.shape}")
    up = np.repeat(np.repeat(np.asarray(symbols, np.int64), BLOCK, axis=0), BLOCK, axis=1)[:h, :w]
    return np.clip(decoded.astype(np.int64) + up, 0, 255).astype(np.uint8)


class ColourCoder:
    """Push and pop one image's corrections under the integer table of its quality byte."""

    def __init__(self, level_tables: np.ndarray):
        self.level_tables = np.asarray(level_tables, np.int64)  # (L, 2 RADIUS + 2) frequencies per integer level
        self._coders: dict[int, TableCoder] = {}

    def _coder(self, level16: int) -> TableCoder:
        if level16 not in self._coders:
            self._coders[level16] = TableCoder([mix_level_tables(self.level_tables, level16)], centred=True)
        return self._coders[level16]

    def push(self, coder, symbols: np.ndarray, level16: int) -> None:
        """Push corrections (bh, bw, 3) onto an ANS coder (decoded first: they go on top)."""
        self._coder(level16).push(coder, symbols, np.zeros(np.shape(symbols), np.int64))

    def pop(self, coder, shape: tuple, level16: int) -> np.ndarray:
        """The corrections (bh, bw, 3) `push` put on top of a coder."""
        return self._coder(level16).pop(coder, np.zeros(shape, np.int64))
