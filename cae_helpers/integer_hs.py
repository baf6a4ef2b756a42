"""h_s in exact integer arithmetic: every machine picks the same table for each latent value, by construction.

The coder's one float decision that could differ between machines is the table a latent value is coded under, picked
by rounding a function of h_s's output (`results/hs-determinism/`: about 6e-15 per value in float64). Integer networks
(Ballé et al. 2019, "Integer networks for data compression with latent-variable models") remove it. In NumPy they need
no integer kernels: products and sums of integers are exact in float64 while every partial sum stays below 2^53,
whatever order a BLAS adds them in, with or without fused multiply-adds. Here, from integer z_hat (N, h, w, Nz):

    a_0 = round(z_hat x S_q / 2^GAIN_BITS)        S_q: 2^(ACT_BITS + GAIN_BITS) / z gain at quality byte q, shipped
    acc_l = conv_l(clip(a_l, +-A_l), K_l) + B_l   K_l: kernel x 2^WEIGHT_BITS, B_l: bias x 2^OUT_BITS, integers
    a_(l+1) = round(max(acc_l, 0) / 2^WEIGHT_BITS) back to ACT_BITS fractional bits (a power-of-two division: exact)
    raw = acc_2 / 2^OUT_BITS                       (N, 4h, 4w, 2C): mean and log-scale of y, exact dyadic rationals
    table = #{i: T_i <= clip(log sigma_raw x 2^OUT_BITS, +-10 x 2^OUT_BITS) + O_q,c}   O, T integers, shipped

A_l (derived from the integer kernels and biases, in Python integers) bounds each layer's input so that the sum of
|a| |K| over an output's terms, and hence every partial sum, stays below 2^53; real activations stay far inside it.
O_q,c = 2^OUT_BITS (log y gain_c(q) - log s_0) and T_i = 2^OUT_BITS step (i + 1/2) put the float rule
rint((log sigma + log gain - log s_0) / step) on integers, so neither exp nor log (whose last bits differ between
machines) is used at run time. The means still use the float gains: they move decoded pixels by a rounding at most,
never a symbol or a table. Made once from a codec's float weights (`from_codec`), shipped in its tables.npz
(`arrays`, `from_npz`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .entropy.tables import SCALES, log_scale_grid
from .numpy_convs import conv_same, conv_transpose_2x

ACT_BITS, WEIGHT_BITS, GAIN_BITS = 12, 20, 16  # fractional bits of activations, weights and h_s's input scales
OUT_BITS = ACT_BITS + WEIGHT_BITS  # fractional bits of each layer's sum
EXACT_BELOW = 2**53  # integers float64 holds exactly, and so sums of them while below it
LOG_SIGMA_CLIP = 10  # as `codec._mean_scale`: log sigma clipped to +-10 before the gain
LAYERS = ((conv_transpose_2x, True), (conv_transpose_2x, True), (conv_same, False))  # h_s: (convolution, ReLU after)
RAW_POSITIONS = 256  # z positions per run through h_s (64 CIFAR images: at most 4.7 MB of activations a layer)
KEYS = ("hs_z_scales", "hs_offsets", "hs_thresholds")  # tables.npz arrays besides hs_kernel{l}, hs_bias{l}


@dataclass(frozen=True)
class IntegerHyperSynthesis:
    """h_s as integers (see the module's docstring), with what maps its output to table indexes at each quality byte."""

    kernels: tuple[np.ndarray, ...]  # int64, the float layers' shapes: (k, k, F, C) transposed, (k, k, C, F) the last
    biases: tuple[np.ndarray, ...]  # int64 (F,)
    z_scales: np.ndarray  # (Q, Nz) int64: 2^(ACT_BITS + GAIN_BITS) / z gain at quality byte q = 0 .. 16 (L - 1)
    offsets: np.ndarray  # (Q, C) int64: 2^OUT_BITS (log y gain - log s_0) of the coded channels at each quality byte
    thresholds: np.ndarray  # (S - 1,) int64: where table i + 1 starts, 2^OUT_BITS step (i + 1/2)

    @classmethod
    def from_codec(cls, codec) -> "IntegerHyperSynthesis":
        """The integer h_s of a codec's float h_s, gains and table of scales (rounded once, at export)."""
        if codec.model.config.slices > 1:
            raise ValueError("an integer h_s needs a model without channel context: the context network's output "
                             "feeds later slices' tables and would need to be exact too")
        kernels, biases = zip(*[(np.rint(k * 2.0**WEIGHT_BITS), np.rint(b * 2.0**OUT_BITS)) for k, b in codec.hs_weights])
        levels = np.arange(16 * (codec.levels - 1) + 1) / 16
        log_gy, log_gz = (np.stack(g) for g in zip(*[codec.log_gains_at(level) for level in levels]))
        first, step = log_scale_grid()
        out = cls(tuple(k.astype(np.int64) for k in kernels), tuple(b.astype(np.int64) for b in biases),
                  np.rint(2.0 ** (ACT_BITS + GAIN_BITS) * np.exp(-log_gz)).astype(np.int64),
                  np.rint(2.0**OUT_BITS * (log_gy[:, :codec.model.config.coded] - first)).astype(np.int64),
                  np.rint(2.0**OUT_BITS * step * (np.arange(len(SCALES) - 1) + 0.5)).astype(np.int64))
        out.clips  # noqa: B018 (checks the bounds now, not at first use)
        return out

    # --- shipping ------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays tables.npz stores (all int64)."""
        out = {f"hs_kernel{i}": k for i, k in enumerate(self.kernels)} | {f"hs_bias{i}": b for i, b in enumerate(self.biases)}
        return out | dict(zip(KEYS, (self.z_scales, self.offsets, self.thresholds)))

    @classmethod
    def from_npz(cls, f) -> "IntegerHyperSynthesis | None":
        """The integer h_s in an open tables.npz, or None where the codec ships none (h_s in float64)."""
        if KEYS[0] not in f.files:
            return None
        get = lambda key: np.asarray(f[key], np.int64)  # noqa: E731
        return cls(tuple(get(f"hs_kernel{i}") for i in range(len(LAYERS))), tuple(get(f"hs_bias{i}") for i in range(len(LAYERS))),
                   *(get(key) for key in KEYS))

    def identity_arrays(self) -> list[np.ndarray]:
        """What a codec's identity hashes of it, in a fixed order."""
        return list(self.arrays().values())

    # --- the bound that keeps every sum exact ----------------------------------------------
    @cached_property
    def clips(self) -> tuple[int, ...]:
        """A_l per layer: the largest |input| for which sum |a| |K| + |B| over any output's terms stays below 2^53."""
        out = []
        for (conv, _), k, b in zip(LAYERS, self.kernels, self.biases):
            per_output = np.abs(k).sum(axis=(0, 1, 3) if conv is conv_transpose_2x else (0, 1, 2))  # (F,): every tap, an overestimate
            worst = max(int(s) for s in per_output)
            clip = (EXACT_BELOW - 1 - int(np.abs(b).max())) // max(worst, 1)
            if clip < 2**ACT_BITS:
                raise ValueError(f"h_s's layer {len(out)} cannot stay exact: its weights allow activations below 1 only")
            out.append(clip)
        return tuple(out)

    # --- running it ------------------------------------------------------------------------
    @cached_property
    def _float_layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The integer kernels and biases as float64 (exactly: all below 2^53), converted once, not per call."""
        return [(k.astype(np.float64), b.astype(np.float64)) for k, b in zip(self.kernels, self.biases)]

    def raw(self, z_hat: np.ndarray, level16: int, peaks: list | None = None) -> np.ndarray:
        """h_s's output (N, 4h, 4w, 2C) from integer z_hat (N, h, w, Nz) at a quality byte: multiples of 2^-OUT_BITS, exact.

        Run a few images at a time (about RAW_POSITIONS z positions), so that each layer's activations stay in cache:
        exact sums make the result the same whatever the grouping. `peaks`, if given, receives each layer's largest
        |input| / its clip over all images (above 1: the clip bound it).
        """
        z_hat = np.asarray(z_hat, np.float64)
        per = max(1, RAW_POSITIONS // max(1, z_hat.shape[1] * z_hat.shape[2]))
        runs = [self._raw(z_hat[i:i + per], level16) for i in range(0, len(z_hat), per)] or [self._raw(z_hat, level16)]
        if peaks is not None:
            peaks.extend(max(layer) for layer in zip(*(p for _, p in runs)))
        return np.concatenate([out for out, _ in runs])

    def _raw(self, z_hat: np.ndarray, level16: int) -> tuple[np.ndarray, list[float]]:
        """`raw` of a few images, and each layer's largest |input| / its clip; in place where the maths allows."""
        a = z_hat * self.z_scales[level16]  # integers below 2^53: |z_hat| < 2^8, S < 2^33
        a *= 2.0**-GAIN_BITS  # a power-of-two scaling, exact (as dividing by 2^GAIN_BITS)
        a = np.floor(a + 0.5, out=a)  # (n, h, w, Nz) at ACT_BITS fractional bits, rounded
        peaks = []
        for ((conv, relu), (k, b), clip) in zip(LAYERS, self._float_layers, self.clips):
            peaks.append(float(np.abs(a).max(initial=0.0)) / clip)
            acc = conv(np.clip(a, -clip, clip, out=a), k, b)  # integers; partial sums < 2^53
            if relu:
                np.maximum(acc, 0, out=acc)
                acc *= 2.0**-WEIGHT_BITS
                a = np.floor(acc + 0.5, out=acc)
        acc *= 2.0**-OUT_BITS
        return acc, peaks

    def indexes(self, log_sigma_raw: np.ndarray, level16: int) -> np.ndarray:
        """The table index (..., C) int64 of `raw`'s log-scale half at a quality byte, by integer comparisons only."""
        fixed = np.rint(np.asarray(log_sigma_raw, np.float64) * 2.0**OUT_BITS).astype(np.int64)  # exact: raw is dyadic
        bound = LOG_SIGMA_CLIP * 2**OUT_BITS
        return np.searchsorted(self.thresholds, np.clip(fixed, -bound, bound) + self.offsets[level16], side="right").astype(np.int64)
