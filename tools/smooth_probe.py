"""Probe: where a hyperprior codec loses on the photo crops, by smoothness, in float32 (no bytes).

    python tools/smooth_probe.py --levels 0,3 cae_helpers/zoo/hyperprior-continuous runs/cc-scratch/backup/epoch0150.weights.h5

The 520 photo crops (`photo_crops`, the bench's photo set) sorted by mean absolute horizontal gradient and cut into
four quartiles of 130 (smooth to busy). For each codec or checkpoint (as `tools/val_loss.py` loads them) and level,
each quartile's mean per-image PSNR (the decode clipped to [0, 1], not rounded to uint8), its mean bits per crop as the
model's likelihoods give them, and its squared error in 8-bit units split into the per-crop mean colour (one value a
channel: the DC error) and the rest. The bench's coded figures are per-image PSNR as well, on uint8 after real bytes;
these are the float model's, to see whether a gap is the mean colour, the detail or the bits.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from val_loss import load_model, parse_levels  # noqa: E402  (the tools folder is not a package)

from cae_helpers.data import photo_crops  # noqa: E402


def smoothness_quartiles(x: np.ndarray) -> list[np.ndarray]:
    """Indices of x (N, H, W, 3) in four groups by mean absolute horizontal gradient, smoothest first."""
    gradient = np.abs(np.diff(x, axis=2)).mean(axis=(1, 2, 3))
    return np.array_split(np.argsort(gradient, kind="stable"), 4)


def quartile_figures(model, x: np.ndarray, level: float) -> dict[str, float]:
    """Mean per-image PSNR, bits per image, DC and remaining MSE (8-bit units squared) of x at `level`."""
    x_hat, bits, _ = model(x, levels=np.full(len(x), level, np.float32))
    err = np.clip(np.asarray(x_hat), 0, 1) - x  # (N, H, W, 3)
    dc = err.mean(axis=(1, 2), keepdims=True)  # (N, 1, 1, 3): each crop's mean-colour error
    psnr = -10 * np.log10(np.maximum(np.mean(err**2, axis=(1, 2, 3)), 1e-10))
    return {"psnr": float(psnr.mean()), "bits": float(np.asarray(bits).mean()),
            "dc": float(np.mean(dc**2) * 255**2), "rest": float(np.mean((err - dc) ** 2) * 255**2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--levels", type=parse_levels, default=[0, 3], help="comma-separated quality levels, 0-based as training's (default 0,3)")
    p.add_argument("codecs", nargs="+", help="saved codec folders or RUN/backup/epochNNNN.weights.h5 checkpoints")
    args = p.parse_args()
    crops, _ = photo_crops()
    x = crops.astype(np.float32) / 255
    groups = smoothness_quartiles(x)
    print("quartiles of 130 crops, smooth (Q1) to busy (Q4); PSNR per image, dB; bits per crop; MSE in 8-bit units^2")
    for source in args.codecs:
        model = load_model(source)
        for level in args.levels:
            cells = [quartile_figures(model, x[g], level) for g in groups]
            text = " | ".join(f"Q{i + 1} {c['psnr']:5.2f} dB {c['bits']:6.1f} b DC {c['dc']:5.1f} rest {c['rest']:5.1f}"
                              for i, c in enumerate(cells))
            print(f"{source}  level {level:g}: {text}", flush=True)


if __name__ == "__main__":
    main()
