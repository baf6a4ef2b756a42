"""Integer probability tables and the ANS coding that uses them, identical on every machine.

Encoder and decoder must use bit-identical distributions. So the tables are built once
(like CompressAI's `update()`), quantised to integer frequencies that sum to 2^16, shipped
beside the weights, and turned into constriction models from `freq / 2^16`, which float64
holds exactly. Nothing at coding time depends on a float computed differently on another
machine, except which table a latent uses (see `scale_indexes`).

- `gaussian_tables`: one table per entry of a fixed, log-spaced table of scales, for a unit
  bin of N(0, s^2) over -R..R (R about 7 s) plus an escape symbol; an escaped value is sent
  after all the others as two uniform bytes (values beyond +-32767 are clipped).
- `quantise_pmf`: probabilities -> integer frequencies (each at least 1, summing to 2^16).
- `laplace_table`: the same for a discretised Laplacian (the mean-colour corrections of versions 22-24, `colour`).
- `mix_level_tables`: per-level tables at a quality byte between two levels, in integers.
- `bin_mean_offsets`: where a decoder puts a decoded value inside its unit bin: the bin's mean under the
  same N(0, s^2), not its centre (byte format versions 10 to 15).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

PRECISION = 16  # bits of the integer frequencies: no symbol costs more than 16 bits (+ its escape)
TOTAL = 1 << PRECISION
SCALES = np.exp(np.linspace(math.log(0.11), math.log(256.0), 64))  # CompressAI's table of scales
TAIL = 1e-9  # probability mass left outside -R..R, for the escape symbol
ESCAPE_LIMIT = 32767  # escaped values are sent as 16 bits: |v| beyond this is clipped


def quantise_pmf(p: np.ndarray) -> np.ndarray:
    """Integer frequencies (int64) proportional to `p`, each at least 1, summing exactly to 2^16."""
    p = np.asarray(p, np.float64)
    if p.ndim != 1 or len(p) < 1 or len(p) > TOTAL or not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"expected a 1-D array of 1..{TOTAL} non-negative finite probabilities")
    free = TOTAL - len(p)  # every symbol gets 1; the rest is shared in proportion
    share = p / p.sum() * free if p.sum() > 0 else np.full(len(p), free / len(p))
    freq = 1 + np.floor(share).astype(np.int64)
    rest = TOTAL - int(freq.sum())  # < len(p): hand it to the largest remainders, ties to the lower index
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    freq[order[:rest]] += 1
    return freq


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(x)


def gaussian_tables(scales: np.ndarray = SCALES, tail: float = TAIL) -> list[np.ndarray]:
    """For each scale s: the frequencies of -R..R under a unit bin of N(0, s^2), then the escape symbol."""
    from scipy.special import ndtri

    tables = []
    for s in np.asarray(scales, np.float64):
        r = max(1, int(math.ceil(-ndtri(tail / 2) * s)))
        v = np.arange(-r, r + 1, dtype=np.float64)
        pmf = _normal_cdf((v + 0.5) / s) - _normal_cdf((v - 0.5) / s)
        tables.append(quantise_pmf(np.append(pmf, max(tail, 1.0 - pmf.sum()))))
    return tables


def laplace_table(scale: float, radius: int, tail: float = TAIL) -> np.ndarray:
    """Frequencies of -R..R under a Laplacian of `scale` discretised to the integers, then the escape symbol (as `gaussian_tables`)."""
    if not scale > 0 or radius < 1:
        raise ValueError(f"a Laplacian table needs a scale > 0 and a radius >= 1, got {scale}, {radius}")
    a = math.exp(-1.0 / scale)
    v = np.arange(-radius, radius + 1, dtype=np.float64)
    pmf = (1 - a) / (1 + a) * a ** np.abs(v)  # P(k) of the discrete Laplacian: sums to 1 over all integers
    return quantise_pmf(np.append(pmf, max(tail, 1.0 - pmf.sum())))


def mix_level_tables(tables: np.ndarray, level16: int) -> np.ndarray:
    """Integer tables (..., n) at a quality byte from per-level tables (L, ..., n): the level's own, or the two around it mixed in sixteenths.

    Integer arithmetic only, so both sides get the same tables on any machine: each entry is
    ((16 - t) x lower + t x upper) // 16 (at least 1), and what the floors drop goes to each row's largest entry.
    """
    lo, t = divmod(int(level16), 16)
    tables = np.asarray(tables, np.int64)
    if t == 0:
        return tables[lo]
    mixed = ((16 - t) * tables[lo] + t * tables[lo + 1]) // 16
    rows = mixed.reshape(-1, mixed.shape[-1])  # a view: each row sums to TOTAL again
    rows[np.arange(len(rows)), rows.argmax(axis=1)] += TOTAL - rows.sum(axis=1)
    return mixed


def bin_mean_offsets(symbols: np.ndarray, indexes: np.ndarray, scales: np.ndarray = SCALES) -> np.ndarray:
    """E[v | round(v) = k] - k for v ~ N(0, s^2), per symbol k (centred) and table index: each value's shift to its bin's mean.

    The density falls across a bin away from 0, so a bin's mean lies nearer 0 than its centre: by up to
    half a bin where s is small, by nothing at k = 0 or where s is large. Standard normal u = v / s over
    [a, b] = [(|k| - 1/2) / s, (|k| + 1/2) / s]: E[u] = (phi(a) - phi(b)) / (Q(a) - Q(b)), written with
    erfcx so that far tails (a up to ~10^4) neither underflow nor divide 0 by 0. float64, shape of `symbols`.
    """
    from scipy.special import erfcx

    symbols = np.asarray(symbols)
    out = np.zeros(symbols.shape, np.float64)
    nz = symbols != 0  # most values at low rates: nothing to compute
    k = np.abs(symbols[nz]).astype(np.float64)
    s = np.asarray(scales, np.float64)[np.asarray(indexes)[nz]]
    a, b = (k - 0.5) / s, (k + 0.5) / s
    fall = np.exp(-0.5 * (b * b - a * a))  # phi(b) / phi(a), in (0, 1)
    ratio = math.sqrt(2 / math.pi) * (1 - fall) / (erfcx(a / math.sqrt(2)) - erfcx(b / math.sqrt(2)) * fall)  # E[u]
    out[nz] = np.sign(symbols[nz]) * (s * ratio - k)
    return out


@functools.cache
def bin_mean_offset_table(largest: int) -> np.ndarray:
    """(scales, largest + 1) float64, read-only: `bin_mean_offsets` of k = 0 .. largest under each shipped table's scale."""
    k, idx = np.meshgrid(np.arange(largest + 1), np.arange(len(SCALES)))
    table = bin_mean_offsets(k, idx)
    table.flags.writeable = False  # shared by every caller through the cache
    return table


def log_scale_grid(scales: np.ndarray = SCALES) -> tuple[float, float]:
    """(log of the first scale, log-step between scales): index = rint((log sigma - first) / step), clipped."""
    return math.log(scales[0]), (math.log(scales[-1]) - math.log(scales[0])) / (len(scales) - 1)


def scale_indexes(sigma: np.ndarray, scales: np.ndarray = SCALES) -> np.ndarray:
    """Index of the table whose scale is nearest each sigma in log-scale (clipped to the table)."""
    return indexes_at(scale_positions(sigma, scales), scales)


def scale_positions(sigma: np.ndarray, scales: np.ndarray = SCALES) -> np.ndarray:
    """Where each sigma falls on the log-spaced table of scales, in steps from the first: (log sigma - first) / step."""
    log_s = np.log(np.maximum(np.asarray(sigma, np.float64), 1e-12))
    first, step = log_scale_grid(scales)
    return (log_s - first) / step


def indexes_at(positions: np.ndarray, scales: np.ndarray = SCALES) -> np.ndarray:
    """The table index of each position on the scales (`scale_positions`): rounded, clipped to the table."""
    return np.clip(np.rint(positions), 0, len(scales) - 1).astype(np.int64)


def _groups(indexes: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(table, positions in C order) for each table used, tables ascending: one stable sort, not a mask per table."""
    order = np.argsort(indexes, kind="stable")
    ordered = indexes[order]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(ordered)) + 1])
    return [(int(ordered[s]), part) for s, part in zip(starts, np.split(order, starts[1:]))]


@dataclass
class TableCoder:
    """ANS coding of integer symbols, each under one of a list of shipped integer tables."""

    tables: list[np.ndarray]  # frequencies; gaussian: 2R+1 values then escape
    centred: bool = True  # True: table j holds -R..R (+ escape); False: 0..n-1, out-of-range values clipped

    @cached_property
    def models(self) -> list:
        import constriction

        return [constriction.stream.model.Categorical(np.asarray(f, np.float64) / TOTAL, perfect=False) for f in self.tables]

    @cached_property
    def byte_model(self):
        import constriction

        return constriction.stream.model.Categorical(np.full(256, 1 / 256), perfect=False)

    def radius(self, j: int) -> int:
        return (len(self.tables[j]) - 2) // 2

    def push(self, coder, values: np.ndarray, indexes: np.ndarray) -> None:
        """Push `values` (int, any shape) coded under tables `indexes` (same shape) onto an AnsCoder.

        Decoding pops them in table order, each table's values in C order, then the escapes.
        """
        values, indexes = np.asarray(values, np.int64).ravel(), np.asarray(indexes, np.int64).ravel()
        escapes, groups = [], []
        for j, where in _groups(indexes):
            v = values[where]
            if self.centred:
                r = self.radius(j)
                out = np.abs(v) > r
                escapes.append(np.clip(v[out], -ESCAPE_LIMIT, ESCAPE_LIMIT))
                sym = np.where(out, 2 * r + 1, v + r)
            else:
                sym = np.clip(v, 0, len(self.tables[j]) - 1)
            groups.append((int(j), sym.astype(np.int32)))
        esc = np.concatenate(escapes) if escapes else np.zeros(0, np.int64)
        if len(esc):  # two bytes each, high byte first when decoded
            u = (esc + ESCAPE_LIMIT + 1).astype(np.int64)
            pairs = np.stack([u >> 8, u & 255], axis=1).ravel().astype(np.int32)
            coder.encode_reverse(pairs, self.byte_model)
        for j, sym in reversed(groups):
            coder.encode_reverse(sym, self.models[j])

    def bits(self, values: np.ndarray, indexes: np.ndarray) -> float:
        """Information content of `values` under tables `indexes` (what `push` spends, before ANS's word rounding)."""
        return float(self.symbol_bits(values, indexes).sum())

    def symbol_bits(self, values: np.ndarray, indexes: np.ndarray) -> np.ndarray:
        """Each value's information content (float64, the shape of `values`) under its table: `bits` per element."""
        values, indexes = np.asarray(values, np.int64), np.asarray(indexes, np.int64)
        table = self.bit_table
        if self.centred:
            reach = (table.shape[1] - 1) // 2  # beyond it every table escapes, at its own escape cost
            return table[indexes, np.clip(values, -reach, reach) + reach]
        return table[indexes, np.clip(values, 0, table.shape[1] - 1)]

    @cached_property
    def bit_table(self) -> np.ndarray:
        """(tables, width) float64: the bits of each value under each table, one gather instead of a pass per table.

        Centred: column R + v for v in -R..R, R one more than the largest radius; a value outside a table's own radius
        costs that table's escape symbol plus the two bytes sent for it (values beyond R read the outermost columns).
        Otherwise: column v for v in 0..n-1, the last column standing for every larger value (clipped, as `push` clips it).
        """
        freqs = [np.asarray(f, np.float64) for f in self.tables]
        if not self.centred:
            width = max(len(f) for f in freqs)
            return np.stack([-np.log2(f[np.minimum(np.arange(width), len(f) - 1)] / TOTAL) for f in freqs])
        reach = max(self.radius(j) for j in range(len(freqs))) + 1  # the outermost columns escape under every table
        v = np.arange(-reach, reach + 1)
        rows = []
        for j, f in enumerate(freqs):
            r = self.radius(j)
            escaped = np.abs(v) > r
            rows.append(-np.log2(f[np.where(escaped, 2 * r + 1, v + r)] / TOTAL) + 16.0 * escaped)  # each escape: two bytes more
        return np.stack(rows)

    def pop(self, coder, indexes: np.ndarray) -> np.ndarray:
        """The values pushed by `push` with these `indexes` (int64, same shape)."""
        shape = np.shape(indexes)
        indexes = np.asarray(indexes, np.int64).ravel()
        values = np.zeros(len(indexes), np.int64)
        escaped = []
        for j, where in _groups(indexes):
            sym = np.asarray(coder.decode(self.models[j], len(where)), np.int64)
            if self.centred:
                r = self.radius(j)
                values[where] = sym - r
                escaped.append(where[sym == 2 * r + 1])
            else:
                values[where] = sym
        esc_pos = np.concatenate(escaped) if escaped else np.zeros(0, np.int64)
        if len(esc_pos):
            pairs = np.asarray(coder.decode(self.byte_model, 2 * len(esc_pos)), np.int64).reshape(-1, 2)
            values[esc_pos] = (pairs[:, 0] << 8 | pairs[:, 1]) - ESCAPE_LIMIT - 1
        return values.reshape(shape)
