"""Convolutions of h_s in NumPy float64, as Keras computes them: stride-1 'same' and stride-2 'same' transposed.

Both sides of the codec run h_s here, not in Keras, so that its output does not depend on the backend or its precision;
each is one matrix product per block of output positions (patches gathered, im2col). With integer-valued inputs and
weights whose partial sums stay below 2^53 the results are exact in any summation order (`integer_hs`).
"""

from __future__ import annotations

import numpy as np

GEMM_ROWS = 2048  # output positions per matrix product in h_s (a (2048, taps x C) float64 patch matrix: about 20 MB)


def row_blocks(n: int, h: int, w: int, rows: int = GEMM_ROWS):
    """(image slice, first row, end row) blocks of an (n, h, w) output grid, about `rows` positions each."""
    per = rows // (h * w)
    if per:
        yield from ((slice(a, min(n, a + per)), 0, h) for a in range(0, n, per))
        return
    step = max(1, rows // w)
    yield from ((slice(i, i + 1), a, min(h, a + step)) for i in range(n) for a in range(0, h, step))


def correlate(xp: np.ndarray, offsets: list[tuple[int, int]], kernel: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """out[n, r, c] = sum over taps t of xp[n, r + di_t, c + dj_t] @ kernel_t: (n, h, w, F) float64 for `shape` (n, h, w).

    kernel (T x C, F), its taps stacked in the order of `offsets`; one matrix product per block of output positions
    (patches gathered, im2col), not one small product per tap.
    """
    n, h, w = shape
    out = np.empty((n, h, w, kernel.shape[1]))
    for images, a, b in row_blocks(n, h, w):
        patches = np.concatenate([xp[images, a + di:b + di, dj:dj + w] for di, dj in offsets], axis=-1)  # (n', b - a, w, T x C)
        out[images, a:b] = (patches.reshape(-1, kernel.shape[0]) @ kernel).reshape(patches.shape[:3] + (-1,))
    return out


def conv_same(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Stride-1 'same' convolution (cross-correlation, as Keras): x (N, H, W, C), kernel (k, k, C, F)."""
    k = kernel.shape[0]
    p = (k - 1) // 2
    xp = np.pad(x, ((0, 0), (p, k - 1 - p), (p, k - 1 - p), (0, 0)))
    taps = [(i, j) for i in range(k) for j in range(k)]
    return correlate(xp, taps, kernel.reshape(k * k * x.shape[-1], -1), x.shape[:3]) + bias


def conv_transpose_2x(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Stride-2 'same' transposed convolution, as Keras/TensorFlow: x (N, H, W, C), kernel (k, k, F, C) -> (N, 2H, 2W, F).

    Output row o = 2r + a takes the taps i = o + (k - 2) // 2 - 2p, i.e. those of i's parity, from input rows p: so each of
    the four output parities (a, b) is a stride-1 correlation of x with its own taps (sub-pixel form), interleaved.
    """
    k = kernel.shape[0]
    n, h, w, _ = x.shape
    before, pad = (k - 2) // 2, k // 2 + 1  # Keras' 'same' crop; padding that covers every tap's input row
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    out = np.empty((n, h, 2, w, 2, kernel.shape[2]))
    for a in range(2):
        rows = [i for i in range(k) if (i - a - before) % 2 == 0]
        for b in range(2):
            cols = [j for j in range(k) if (j - b - before) % 2 == 0]
            offsets = [(pad + (a + before - i) // 2, pad + (b + before - j) // 2) for i in rows for j in cols]
            taps = np.concatenate([kernel[i, j].T for i in rows for j in cols])  # (T x C, F)
            out[:, :, a, :, b] = correlate(xp, offsets, taps, (n, h, w))
    return out.reshape(n, 2 * h, 2 * w, -1) + bias
