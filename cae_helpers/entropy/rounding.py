"""Rate-distortion rounding: the encoder's choice of each latent symbol, weighing its bits against its error.

The plain encoder codes a latent value r = y - mu as round(r). That is the nearest reconstruction but not always
the cheapest one: a value just past a bin's edge may cost a bit or two more than its neighbour for an error only a
little larger. `rd_round` takes, of the two integers around r, the one with fewer bits under the value's own shipped
table plus `weight` x the squared error of where the decoder puts it (its bin's centre, moved toward the bin's mean
by the decoder's bin-mean weight, in units of the gained latent). The decoder, the tables and the byte format are
untouched: it reads whatever symbol was sent. This is the rate-distortion optimised quantisation of video encoders
(for example HEVC's RDOQ) on one value at a time, at about the cost of computing each value's bits twice.
"""

from __future__ import annotations

import numpy as np

from .tables import TableCoder, bin_mean_offset_table, bin_mean_offsets

# bits per unit of squared gained-latent error: chosen on held-out training images (tools/rounding_probe.py --heldout,
# docs/hyperprior-codec.md "Rate-distortion rounding"); the gains make one value serve every quality level
RD_ROUNDING_WEIGHT = 20.0


def rd_round(r: np.ndarray, indexes: np.ndarray, coder: TableCoder, weight: float, toward_means: float = 0.0) -> np.ndarray:
    """Symbols (float64, the shape of r) for values r = y - mu coded under table `indexes`: of round(r) and the other
    integer next to r, the one with the lower bits + weight x (r - reconstruction)^2.

    `toward_means`: how far the decoder moves a symbol from its bin's centre toward the bin's mean (0: the centre);
    `weight` 0 or less: round(r) itself.
    """
    nearest = np.rint(r)
    if weight <= 0:
        return nearest
    other = nearest + np.where(r >= nearest, 1.0, -1.0)  # the second integer of the bin pair around r
    k = np.stack([nearest, other])  # (2, ...): both candidates at once
    both = np.broadcast_to(indexes, k.shape)
    centre = k + toward_means * _offsets(k, both) if toward_means else k
    cost = coder.symbol_bits(k, both) + weight * np.square(r - centre)
    return np.where(cost[1] < cost[0], other, nearest)


TABLED = 64  # |k| up to this is read from `bin_mean_offset_table`, the same values computed once


def _offsets(k: np.ndarray, indexes: np.ndarray) -> np.ndarray:
    """`bin_mean_offsets(k, indexes)`, values equal, read off `bin_mean_offset_table` where |k| <= TABLED (most symbols)."""
    magnitude = np.abs(k).astype(np.int64)
    out = np.sign(k) * bin_mean_offset_table(TABLED)[indexes, np.minimum(magnitude, TABLED)]
    far = magnitude > TABLED
    if far.any():
        out[far] = bin_mean_offsets(k[far], indexes[far])
    return out
