"""Context-adaptive coding of the hyper-latent z (byte format versions 7 and 8).

Versions 5 and 6 (`entropy.adaptive`) sharpen each z channel's shipped table row by row. z is not
independent across space, though: where a neighbour is away from its channel's most likely value,
so is the value itself more often. Here each channel keeps one set of counts per context, and a
value's context is what was already coded beside it:

    ctx   = 4 * (3 * b(left) + b(up)) + activity               36 contexts per channel
    b(v)  = clip(v - mode_c, -1, 1) + 1                          the neighbour below, at or above the mode
    activity = 0..3 by how many of the 2 x Nz values left and up are off their modes (edges 2, 6, 14)
    f_c(s | ctx) = W * table_c(s) + 2^16 * count_c,ctx(s)      integer frequencies, W = 8
    p_c(s | ctx) = f / sum f                                   one correctly rounded division per entry

A missing neighbour (the first row or column) counts as its channel's mode. Positions are coded in
raster order, one position (all Nz channels) at a time, each image (or a tiled image's whole grid
of tile z) on its own; a context's counts are halved (rounding up) when they pass CAP, so no
probability exceeds its value at CAP counts of one symbol (the payload floor below). The contexts,
W and the edges were chosen on scikit-learn's photographs and CIFAR-100 test images
(`tools/z_coding_probe.py`), never on scikit-image's.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .tables import TOTAL

CONTEXT_WEIGHT = 8  # W: the shipped table counts as this many values already seen, in every context
CAP = 256  # a context's counts are halved when they pass this many values
ACTIVITY_EDGES = (2, 6, 14)  # off-mode values among the left and upper neighbours' Nz channels each -> activity 0..3
CHUNK_VALUES = 1 << 22  # probabilities the encoder holds at once (32 MiB of float64): rows of z per chunk


class _ContextCounts:
    """The recurrence both sides run: a position's context, its probabilities, then its counts."""

    def __init__(self, tables: np.ndarray, weight: int, edges: tuple[int, ...]):
        self.prior = weight * tables.astype(np.int64)  # (Nz, K)
        self.mode = tables.argmax(axis=1)  # (Nz,)
        self.edges, self.activities = edges, len(edges) + 1
        self.counts = np.zeros((len(tables), 9 * self.activities, tables.shape[1]), np.int64)  # (Nz, contexts, K)
        self.channel = np.arange(len(tables))

    def context(self, left: np.ndarray | None, up: np.ndarray | None) -> np.ndarray:
        """(Nz,) context of each channel at a position from its neighbours' symbols (Nz,), None where there is none."""
        left = self.mode if left is None else left
        up = self.mode if up is None else up
        off = np.count_nonzero(left != self.mode) + np.count_nonzero(up != self.mode)
        activity = int(np.searchsorted(self.edges, off, side="right"))
        near = 3 * (np.clip(left - self.mode, -1, 1) + 1) + np.clip(up - self.mode, -1, 1) + 1  # (Nz,) 0..8
        return self.activities * near + activity

    def visit(self, ctx: np.ndarray) -> np.ndarray:
        """(Nz, K) counts of each channel in its context (a copy), after halving any context past CAP."""
        counts = self.counts[self.channel, ctx]
        full = counts.sum(axis=1) > CAP
        if full.any():  # one value is added per visit, so one halving brings a context back under CAP
            counts[full] = (counts[full] + 1) // 2
            self.counts[self.channel[full], ctx[full]] = counts[full]
        return counts

    def probabilities(self, ctx: np.ndarray) -> np.ndarray:
        """(Nz, K) float64 probabilities of each channel in its context (a visit: halves what passed CAP)."""
        f = self.prior + TOTAL * self.visit(ctx)
        return f / f.sum(axis=1, keepdims=True)

    def add(self, ctx: np.ndarray, symbols: np.ndarray) -> None:
        """Count one position's symbols (Nz,) in their contexts."""
        self.counts[self.channel, ctx, symbols] += 1


@dataclass
class ContextZCoder:
    """ANS coding of z symbols (N, h, w, Nz), position by position, each channel under counts kept per context."""

    tables: np.ndarray  # (Nz, K) integer frequencies summing to 2^16 per channel (the shipped z tables)
    weight: int = CONTEXT_WEIGHT  # the format's; other values for probes only
    activity_edges: tuple[int, ...] = ACTIVITY_EDGES  # the format's; () drops the activity classes (probes)

    def _counts(self) -> _ContextCounts:
        return _ContextCounts(self.tables, self.weight, self.activity_edges)

    @cached_property
    def family(self):
        import constriction

        return constriction.stream.model.Categorical(perfect=False)

    def _checked(self, symbols: np.ndarray) -> np.ndarray:
        """z symbols as int64 (N, h, w, Nz), checked against the tables."""
        symbols = np.asarray(symbols, np.int64)
        if symbols.ndim != 4 or symbols.shape[-1] != len(self.tables):
            raise ValueError(f"expected z symbols (N, h, w, {len(self.tables)}), got shape {symbols.shape}")
        if symbols.size and (symbols.min() < 0 or symbols.max() >= self.tables.shape[1]):
            raise ValueError(f"z symbols must be in 0..{self.tables.shape[1] - 1}")
        return symbols

    def _forward(self, grid: np.ndarray, counts: _ContextCounts, start: int, stop: int,
                 models: bool = True) -> Iterator[np.ndarray | None]:
        """Run the recurrence over rows start..stop of a known z grid (h, w, Nz): each row's (w, Nz, K) probabilities (None if not `models`)."""
        w, nz = grid.shape[1:]
        for i in range(start, stop):
            row = np.empty((w, nz, self.tables.shape[1])) if models else None
            for j in range(w):
                ctx = counts.context(grid[i, j - 1] if j else None, grid[i - 1, j] if i else None)
                if models:
                    row[j] = counts.probabilities(ctx)
                else:
                    counts.visit(ctx)
                counts.add(ctx, grid[i, j])
            yield row

    def push(self, coder, symbols: np.ndarray) -> None:
        """Push z symbols (N, h, w, Nz) onto an AnsCoder so that `pop` decodes them image by image, in raster order.

        A stack takes the last value first but the models run forwards, so the encoder runs them twice: once
        to keep the counts at the start of each chunk of rows, then chunk by chunk from the last, holding one
        chunk's probabilities at a time (a 12-megapixel photograph's all at once would be 2 GB).
        """
        symbols = self._checked(symbols)
        for grid in symbols[::-1]:  # the last image goes in first
            h, w, nz = grid.shape
            step = max(1, CHUNK_VALUES // (w * nz * self.tables.shape[1]))
            counts, starts = self._counts(), []
            for a in range(0, h, step):
                starts.append((a, copy.deepcopy(counts)))
                for _ in self._forward(grid, counts, a, min(a + step, h), models=False):
                    pass
            for a, state in reversed(starts):
                rows = list(self._forward(grid, state, a, min(a + step, h)))  # [(w, Nz, K)] of rows a..
                for i in reversed(range(len(rows))):  # and the chunk's last row first
                    coder.encode_reverse(grid[a + i].ravel().astype(np.int32), self.family, rows[i].reshape(-1, rows[i].shape[-1]))

    def pop(self, coder, shape: tuple) -> np.ndarray:
        """The z symbols (int64, `shape` = (N, h, w, Nz)) that `push` put on the coder."""
        out = self._checked(np.zeros(shape, np.int64))
        for grid in out:
            counts = self._counts()
            for i in range(grid.shape[0]):
                for j in range(grid.shape[1]):  # the encoder's recurrence, fed by the decoded positions
                    ctx = counts.context(grid[i, j - 1] if j else None, grid[i - 1, j] if i else None)
                    grid[i, j] = np.asarray(coder.decode(self.family, counts.probabilities(ctx)), np.int64)
                    counts.add(ctx, grid[i, j])
        return out

    def bits(self, symbols: np.ndarray) -> float:
        """Information content of z symbols (N, h, w, Nz) under the context model (what `push` spends before ANS rounding)."""
        total = 0.0
        for grid in self._checked(symbols):
            for row, p in zip(grid, self._forward(grid, self._counts(), 0, len(grid))):  # (w, Nz), (w, Nz, K)
                total -= float(np.log2(np.take_along_axis(p, row[..., None], axis=-1)).sum())
        return total

    @cached_property
    def floor_bits(self) -> float:
        """Fewest bits one z position (all channels) can cost: no probability exceeds its value at CAP counts on one symbol."""
        t_max = self.tables.max(axis=1).astype(np.float64)
        p_max = (self.weight * t_max + TOTAL * CAP) / (TOTAL * (self.weight + CAP))
        return float(-np.log2(p_max).sum())
