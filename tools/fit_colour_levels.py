"""Fit the mean-colour corrections' table per quality level (byte format versions 22-24) on held-out training images.

    python tools/fit_colour_levels.py --data ../shared/data/cifar-100-python.tar.gz \
        --codec cae_helpers/zoo/hyperprior-continuous --out results/colour-levels/hyperprior-continuous.json [--write]

Per integer quality level: the first `--images` of train-codec's 5,000 held-out *training* images (protocol "heldout",
seed 0; no test image, no photograph), as the model's training saw them (its config's `augment` share zoomed 1 to
`max_zoom` times, and flips; seed 0), coded and decoded plain (versions 19-21); each image's corrections
(`colour.corrections`, one per channel of a 32x32 image) counted; the table is a discretised Laplacian
(`tables.laplace_table`) whose scale, from a log-spaced grid, gives those corrections the fewest bits. `--write`
stores the tables in the codec's tables.npz (`colour_levels`), after which its `compress` adds corrections where
they pay (versions 22-24; byte strings of 19-21 still decode as before).
"""

import numpy as np

from cae_helpers import colour
from cae_helpers.entropy.tables import TableCoder, laplace_table
from fit_z_levels import training_view
from heldout_fit import augmentation, finish, fit_parser, heldout_start

SCALE_GRID = np.exp(np.linspace(np.log(0.1), np.log(20.0), 60))  # Laplacian scales tried, in 8-bit units


def level_corrections(codec, images: np.ndarray, quality: float) -> np.ndarray:
    """Every correction (N x blocks x 3,) of uint8 images coded plain at a quality and decoded."""
    decoded = codec.decompress(codec.compress(images, quality, colour=False))
    return np.concatenate([colour.corrections(o, d).ravel() for o, d in zip(images, decoded)])


def best_scale(symbols: np.ndarray) -> tuple[float, float]:
    """(scale of the grid whose table codes `symbols` in the fewest bits, those bits per symbol)."""
    zeros = np.zeros(len(symbols), np.int64)
    bits = [TableCoder([laplace_table(s, colour.RADIUS)]).bits(symbols, zeros) for s in SCALE_GRID]
    i = int(np.argmin(bits))
    return float(SCALE_GRID[i]), bits[i] / len(symbols)


def main() -> None:
    p = fit_parser(__doc__, "tables")
    p.add_argument("--images", type=int, default=2000, help="held-out training images to count on (default 2000)")
    args = p.parse_args()
    codec, heldout = heldout_start(args)
    images = training_view(codec, heldout[:args.images])
    record, tables = {}, []
    for level in range(codec.levels):
        symbols = level_corrections(codec, images, level + 1)
        scale, bits = best_scale(symbols)
        tables.append(laplace_table(scale, colour.RADIUS))
        record[level + 1] = {"scale": scale, "bits_per_value": bits, "mean_abs": float(np.mean(np.abs(symbols))),
                             "zero_share": float(np.mean(symbols == 0))}
        print(f"quality {level + 1}: scale {scale:.3f}, {bits:.2f} bits a value, mean |value| {record[level + 1]['mean_abs']:.2f}, "
              f"{100 * record[level + 1]['zero_share']:.0f} % zeros", flush=True)
    finish(args, codec, "fit_colour_levels.py",
           {"counted_on": f"the first {args.images} of the 5,000 held-out training images (heldout protocol, seed 0)",
            "augmentation": augmentation(codec), "radius": colour.RADIUS, "levels": record},
           "colour_level_tables", np.stack(tables), "per-level mean-colour tables")


if __name__ == "__main__":
    main()
