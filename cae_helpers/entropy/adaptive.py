"""Backward-adaptive coding of the hyper-latent z (byte format versions 5 and 6).

The shipped factorised prior is one table per z channel, fitted to training images; on a large
photograph its z values cluster more tightly than on CIFAR, so the fixed tables overspend (about
a third of z's bits on scikit-learn's two photographs at quality 1). Here each channel's table is
sharpened by the symbols already coded, the same way on both sides:

    f_c(s) = W * table_c(s) + 2^16 * count_c(s)        integer frequencies of channel c, row r
    p_c(s) = f_c(s) / sum_s f_c(s)                     exact integers, one correctly rounded division

with the counts of rows 0..r-1 of z (a row: one row of z positions, or of a tile's 2x2 z), halved
(rounding up) whenever a channel has counted more than CAP values, so the model follows content
that changes across the image and no probability exceeds a fixed bound (the payload floor below).
The first row is coded under the shipped tables exactly. W and CAP were chosen on scikit-learn's
photographs and CIFAR-100 test images, never on scikit-image's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .tables import TOTAL

PRIOR_WEIGHT = 32  # W: the shipped table counts as this many values already seen
CAP = 256  # counts are halved while a channel has counted more than this many values


def categorical_family():
    """constriction's Categorical model family: each coded symbol comes with its own probability vector."""
    import constriction

    return constriction.stream.model.Categorical(perfect=False)


def checked_z_symbols(symbols: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """z symbols as int64 (N, h, w, Nz), checked against tables (Nz, K): ValueError naming what is wrong."""
    symbols = np.asarray(symbols, np.int64)
    if symbols.ndim != 4 or symbols.shape[-1] != len(tables):
        raise ValueError(f"expected z symbols (N, h, w, {len(tables)}), got shape {symbols.shape}")
    if symbols.size and (symbols.min() < 0 or symbols.max() >= tables.shape[1]):
        raise ValueError(f"z symbols must be in 0..{tables.shape[1] - 1}")
    return symbols


class _Counts:
    """The recurrence both sides run: the next row's probabilities from the counts so far, then that row's counts."""

    def __init__(self, tables: np.ndarray):
        self.prior = PRIOR_WEIGHT * tables.astype(np.int64)  # (Nz, K)
        self.counts = np.zeros(tables.shape, np.int64)
        self.channel = np.arange(len(tables))

    def probabilities(self) -> np.ndarray:
        """(Nz, K) float64: exact integer frequencies, one correctly rounded division per entry."""
        while self.counts.sum(axis=1).max() > CAP:
            self.counts = (self.counts + 1) // 2
        f = self.prior + TOTAL * self.counts
        return f / f.sum(axis=1, keepdims=True)

    def add(self, row: np.ndarray) -> None:
        """Count a row of symbols (w, Nz)."""
        np.add.at(self.counts, (np.broadcast_to(self.channel, row.shape), row), 1)


@dataclass
class AdaptiveZCoder:
    """ANS coding of z symbols (N, h, w, Nz), row by row, under per-channel tables adapted to the rows before."""

    tables: np.ndarray  # (Nz, K) integer frequencies summing to 2^16 per channel (the shipped z tables)

    @cached_property
    def family(self):
        return categorical_family()

    def _rows(self, symbols: np.ndarray) -> np.ndarray:
        """Checked z symbols (N, h, w, Nz) as rows (N * h, w, Nz) of w positions each."""
        symbols = checked_z_symbols(symbols, self.tables)
        return symbols.reshape(-1, symbols.shape[2], symbols.shape[3])

    def _row_models(self, rows: np.ndarray) -> list[np.ndarray]:
        """Each row's (Nz, K) probabilities, rows (R, w, Nz) known (the encoder's side)."""
        counts, models = _Counts(self.tables), []
        for row in rows:
            models.append(counts.probabilities())
            counts.add(row)
        return models

    def push(self, coder, symbols: np.ndarray) -> None:
        """Push z symbols (N, h, w, Nz) onto an AnsCoder so that `pop` decodes them row by row, first row first."""
        rows = self._rows(symbols)  # (R, w, Nz)
        for row, p in zip(rows[::-1], self._row_models(rows)[::-1]):  # a stack: the last row goes in first
            coder.encode_reverse(row.ravel().astype(np.int32), self.family, np.tile(p, (row.shape[0], 1)))

    def pop(self, coder, shape: tuple) -> np.ndarray:
        """The z symbols (int64, `shape` = (N, h, w, Nz)) that `push` put on the coder."""
        out = self._rows(np.zeros(shape, np.int64))  # (R, w, Nz), filled row by row
        counts = _Counts(self.tables)
        for row in out:  # the encoder's recurrence, fed by the decoded rows
            p = np.tile(counts.probabilities(), (row.shape[0], 1))
            row[:] = np.asarray(coder.decode(self.family, p), np.int64).reshape(row.shape)
            counts.add(row)
        return out.reshape(shape)

    def bits(self, symbols: np.ndarray) -> float:
        """Information content of z symbols (N, h, w, Nz) under the adaptive model (what `push` spends before ANS rounding)."""
        rows = self._rows(symbols)
        channel = np.arange(self.tables.shape[0])
        return float(sum(-np.log2(p[channel, row]).sum() for row, p in zip(rows, self._row_models(rows))))

    @cached_property
    def floor_bits(self) -> float:
        """Fewest bits one z position (all channels) can cost: no probability exceeds its value at CAP counts on one symbol."""
        t_max = self.tables.max(axis=1).astype(np.float64)
        p_max = (PRIOR_WEIGHT * t_max + TOTAL * CAP) / (TOTAL * (PRIOR_WEIGHT + CAP))
        return float(-np.log2(p_max).sum())
