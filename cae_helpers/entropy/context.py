"""Context-adaptive coding of the hyper-latent z (byte format versions 7 and 8, and 10 to 12).

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

from .adaptive import categorical_family, checked_z_symbols
from .tables import TOTAL

CONTEXT_WEIGHT = 8  # W: the shipped table counts as this many values already seen, in every context
CAP = 256  # a context's counts are halved when they pass this many values
ACTIVITY_EDGES = (2, 6, 14)  # off-mode values among the left and upper neighbours' Nz channels each -> activity 0..3
CHUNK_VALUES = 1 << 22  # probabilities the encoder holds at once (32 MiB of float64): rows, or images, per chunk
GROUP = 64  # images run through the recurrence together (its NumPy steps shared; 64 x 0.4 MB of counts)


class _ContextCounts:
    """The recurrence both sides run, for a group of G images at once: a position's contexts, probabilities, counts."""

    def __init__(self, tables: np.ndarray, weight: int, edges: tuple[int, ...], images: int = 1):
        self.prior = weight * tables.astype(np.int64)  # (Nz, K)
        self.mode = tables.argmax(axis=1)  # (Nz,)
        self.edges, self.activities = edges, len(edges) + 1
        nz, k = tables.shape
        self.counts = np.zeros((images, nz, 9 * self.activities, k), np.int16)  # (G, Nz, contexts, K), each <= CAP + 1
        self.image, self.channel = np.arange(images)[:, None], np.arange(nz)[None, :]  # (G, 1), (1, Nz)

    def context(self, left: np.ndarray | None, up: np.ndarray | None) -> np.ndarray:
        """(G, Nz) context of each channel at a position from its neighbours' symbols (G, Nz), None where there is none."""
        left = np.broadcast_to(self.mode, self.counts.shape[:2]) if left is None else left
        up = np.broadcast_to(self.mode, self.counts.shape[:2]) if up is None else up
        off = np.count_nonzero(left != self.mode, axis=1) + np.count_nonzero(up != self.mode, axis=1)  # (G,)
        activity = np.searchsorted(self.edges, off, side="right")
        near = 3 * (np.clip(left - self.mode, -1, 1) + 1) + np.clip(up - self.mode, -1, 1) + 1  # (G, Nz) 0..8
        return self.activities * near + activity[:, None]

    def visit(self, ctx: np.ndarray) -> np.ndarray:
        """(G, Nz, K) int64 counts of each channel in its context (a copy), after halving any context past CAP."""
        counts = self.counts[self.image, self.channel, ctx].astype(np.int64)
        full = counts.sum(axis=-1) > CAP
        if full.any():  # one value is added per visit, so one halving brings a context back under CAP
            counts[full] = (counts[full] + 1) // 2
            g, c = np.nonzero(full)
            self.counts[g, c, ctx[full]] = counts[full]
        return counts

    def probabilities(self, ctx: np.ndarray) -> np.ndarray:
        """(G, Nz, K) float64 probabilities of each channel in its context (a visit: halves what passed CAP)."""
        f = self.prior + TOTAL * self.visit(ctx)
        return f / f.sum(axis=-1, keepdims=True)

    def add(self, ctx: np.ndarray, symbols: np.ndarray) -> None:
        """Count one position's symbols (G, Nz) in their contexts."""
        self.counts[self.image, self.channel, ctx, symbols] += 1


@dataclass
class ContextZCoder:
    """ANS coding of z symbols (N, h, w, Nz), position by position, each channel under counts kept per context."""

    tables: np.ndarray  # (Nz, K) integer frequencies summing to 2^16 per channel (the shipped z tables)
    weight: int = CONTEXT_WEIGHT  # the format's; other values for probes only
    activity_edges: tuple[int, ...] = ACTIVITY_EDGES  # the format's; () drops the activity classes (probes)

    def _counts(self, images: int = 1) -> _ContextCounts:
        return _ContextCounts(self.tables, self.weight, self.activity_edges, images)

    @cached_property
    def family(self):
        return categorical_family()

    def _checked(self, symbols: np.ndarray) -> np.ndarray:
        return checked_z_symbols(symbols, self.tables)

    def _groups(self, symbols: np.ndarray) -> list[tuple[int, int]]:
        """[start, stop) spans of images run together: up to GROUP, and no more than one chunk of probabilities."""
        per_image = int(np.prod(symbols.shape[1:])) * self.tables.shape[1]
        size = max(1, min(GROUP, CHUNK_VALUES // max(per_image, 1)))
        return [(a, min(a + size, len(symbols))) for a in range(0, len(symbols), size)]

    def _forward(self, grids: np.ndarray, counts: _ContextCounts, start: int, stop: int,
                 models: bool = True) -> Iterator[np.ndarray | None]:
        """Run the recurrence over rows start..stop of known z grids (G, h, w, Nz): each row's (G, w, Nz, K) probabilities (None if not `models`)."""
        g, _, w, nz = grids.shape
        for i in range(start, stop):
            row = np.empty((g, w, nz, self.tables.shape[1])) if models else None
            for j in range(w):
                ctx = counts.context(grids[:, i, j - 1] if j else None, grids[:, i - 1, j] if i else None)
                if models:
                    row[:, j] = counts.probabilities(ctx)
                else:
                    counts.visit(ctx)
                counts.add(ctx, grids[:, i, j])
            yield row

    def push_each(self, coders: list, symbols: np.ndarray) -> None:
        """Push image n's z symbols (N, h, w, Nz) onto coders[n] (N distinct AnsCoders) so that `pop_each` decodes them.

        A stack takes the last value first but the models run forwards, so the encoder runs them twice: once
        to keep the counts at the start of each chunk of rows, then chunk by chunk from the last, holding one
        chunk's probabilities at a time (a 12-megapixel photograph's all at once would be 2 GB).
        """
        symbols = self._checked(symbols)
        if len(coders) != len(symbols):
            raise ValueError(f"{len(coders)} coders for {len(symbols)} images")
        for a, b in self._groups(symbols):
            grids, h, w = symbols[a:b], symbols.shape[1], symbols.shape[2]
            step = max(1, CHUNK_VALUES // (len(grids) * w * len(self.tables) * self.tables.shape[1]))
            counts, starts = self._counts(len(grids)), []
            for r in range(0, h, step):
                starts.append((r, copy.deepcopy(counts)))
                for _ in self._forward(grids, counts, r, min(r + step, h), models=False):
                    pass
            for r, state in reversed(starts):
                rows = list(self._forward(grids, state, r, min(r + step, h)))  # [(G, w, Nz, K)] of rows r..
                for i in reversed(range(len(rows))):  # the chunk's last row first
                    for n, coder in enumerate(coders[a:b]):
                        p = rows[i][n]
                        coder.encode_reverse(grids[n, r + i].ravel().astype(np.int32), self.family, p.reshape(-1, p.shape[-1]))

    def pop_each(self, coders: list, shape: tuple) -> np.ndarray:
        """The z symbols (int64, `shape` = (N, h, w, Nz)) that `push_each` put on coders[n], n < N."""
        out = self._checked(np.zeros(shape, np.int64))
        if len(coders) != len(out):
            raise ValueError(f"{len(coders)} coders for {len(out)} images")
        for a, b in self._groups(out):
            grids, counts = out[a:b], self._counts(b - a)
            for i in range(grids.shape[1]):
                for j in range(grids.shape[2]):  # the encoder's recurrence, fed by the decoded positions
                    ctx = counts.context(grids[:, i, j - 1] if j else None, grids[:, i - 1, j] if i else None)
                    p = counts.probabilities(ctx)  # (G, Nz, K)
                    for n, coder in enumerate(coders[a:b]):
                        grids[n, i, j] = np.asarray(coder.decode(self.family, p[n]), np.int64)
                    counts.add(ctx, grids[:, i, j])
        return out

    def push(self, coder, symbols: np.ndarray) -> None:
        """Push z symbols (N, h, w, Nz) onto one AnsCoder so that `pop` decodes them image by image, in raster order."""
        for grid in self._checked(symbols)[::-1]:  # the last image goes in first
            self.push_each([coder], grid[None])

    def pop(self, coder, shape: tuple) -> np.ndarray:
        """The z symbols (int64, `shape` = (N, h, w, Nz)) that `push` put on one coder."""
        return np.concatenate([self.pop_each([coder], (1,) + tuple(shape[1:])) for _ in range(shape[0])]) if shape[0] else \
            self._checked(np.zeros(shape, np.int64))

    def bits(self, symbols: np.ndarray) -> float:
        """Information content of z symbols (N, h, w, Nz) under the context model (what `push` spends before ANS rounding)."""
        symbols, total = self._checked(symbols), 0.0
        for a, b in self._groups(symbols):
            grids = symbols[a:b]
            for i, p in enumerate(self._forward(grids, self._counts(b - a), 0, grids.shape[1])):  # (G, w, Nz, K)
                total -= float(np.log2(np.take_along_axis(p, grids[:, i, ..., None], axis=-1)).sum())
        return total

    @cached_property
    def floor_bits(self) -> float:
        """Fewest bits one z position (all channels) can cost: no probability exceeds its value at CAP counts on one symbol."""
        t_max = self.tables.max(axis=1).astype(np.float64)
        p_max = (self.weight * t_max + TOTAL * CAP) / (TOTAL * (self.weight + CAP))
        return float(-np.log2(p_max).sum())
