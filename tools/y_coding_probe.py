"""Whether the latent y's shipped Gaussian tables leave bits on whole photographs: a probe, nothing built from it.

    python tools/y_coding_probe.py > results/y-coding-probe/probe.log

On scikit-learn's two photographs coded whole by the default codec, y's ideal code length (bytes, both photos)
under the shipped tables; with every table index shifted by k (one scale correction per image, the best k,
and the best k per channel: an oracle); each table index's empirical entropy within each photograph (plug-in:
a bound no causal coder reaches); and tables adapted row by row from counts kept per table index, with the
shipped table as a prior worth W values (what a format like 5's would do for y).
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_sample_images

from cae_helpers.codec import shipped_codec
from cae_helpers.entropy.tables import TOTAL

CODEC = shipped_codec()
TABLES = CODEC.y_tables
SHIFTS = range(-4, 5)


def symbols_of(values: np.ndarray, j: int) -> np.ndarray:
    """Table j's symbols of latent values: -R..R at 0..2R, the escape at 2R + 1."""
    r = (len(TABLES[j]) - 2) // 2
    return np.where(np.abs(values) > r, 2 * r + 1, values + r)


def shifted_bits(ys: np.ndarray, yi: np.ndarray) -> tuple[float, float]:
    """(best single shift, best shift per channel) code length of y (h, w, C) with table indexes yi."""
    bits = lambda k, c=slice(None): CODEC.y_coder.bits(ys[..., c], np.clip(yi[..., c] + k, 0, len(TABLES) - 1))  # noqa: E731
    single = min(bits(k) for k in SHIFTS)
    per_channel = sum(min(bits(k, c) for k in SHIFTS) for c in range(ys.shape[-1]))
    return single, per_channel


def plugin_bits(ys: np.ndarray, yi: np.ndarray) -> float:
    """Sum over table indexes of the empirical entropy of their symbols, times their count."""
    total = 0.0
    for j in np.unique(yi):
        _, counts = np.unique(symbols_of(ys[yi == j], j), return_counts=True)
        total -= float((counts * np.log2(counts / counts.sum())).sum())
    return total


def adapted_bits(ys: np.ndarray, yi: np.ndarray, weight: int) -> float:
    """Code length with each table adapted row by row: f = W table + 2^16 counts of that index's symbols so far."""
    counts, total = {}, 0.0
    for row_s, row_i in zip(ys, yi):
        for j in np.unique(row_i):
            v = symbols_of(row_s[row_i == j], j)
            c = counts.setdefault(int(j), np.zeros(len(TABLES[j]), np.int64))
            f = weight * TABLES[j] + TOTAL * c
            total -= float(np.log2(f[v] / f.sum()).sum())
            np.add.at(c, v, 1)
    return total


def main() -> None:
    photos = load_sample_images().images
    print(f"codec: the default ({CODEC.model_id.hex()}); scikit-learn's photographs coded whole; y bytes, both photos")
    for quality in (1, 2, 4, 6):
        rows = {"shipped": 0.0, "best shift": 0.0, "best shift per channel (oracle)": 0.0, "plug-in": 0.0,
                "adapted W64": 0.0, "adapted W256": 0.0, "adapted W1024": 0.0}
        for photo in photos:
            y_sym, y_idx, _ = CODEC._symbols(photo[None], CODEC.level16(quality) / 16)
            ys, yi = y_sym[0], y_idx[0]
            rows["shipped"] += CODEC.y_coder.bits(ys, yi)
            single, per_channel = shifted_bits(ys, yi)
            rows["best shift"] += single
            rows["best shift per channel (oracle)"] += per_channel
            rows["plug-in"] += plugin_bits(ys, yi)
            for w in (64, 256, 1024):
                rows[f"adapted W{w}"] += adapted_bits(ys, yi, w)
        base = rows["shipped"]
        print(f"quality {quality}: " + ", ".join(f"{k} {v / 8:.0f} ({100 * (v / base - 1):+.1f} %)" for k, v in rows.items()),
              flush=True)


if __name__ == "__main__":
    main()
