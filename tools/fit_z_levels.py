"""Fit z tables per quality level (byte format versions 16-18) on held-out training images.

    python tools/fit_z_levels.py --data ../shared/data/cifar-100-python.tar.gz --codec cae_helpers/zoo/hyperprior-coded \
        --out results/z-levels/hyperprior-coded.json [--write]

Versions 13-15 code the hyper-latent z under one table per channel (the learned factorised prior) at every quality
level, though z's statistics move with the level's gains (`tools/z_level_probe.py`: 18.6 -> 17.0 bytes per CIFAR image
at quality 1). Here each level gets its own table per channel: counts of z's symbols at that level on train-codec's
5,000 held-out *training* images (protocol "heldout", seed 0; no test image, no scikit-image photo), augmented as the
model's training was (its config's `augment` share of them zoomed 1 to `max_zoom` times, and flips; seed 0), mixed with
the shipped table as w x counts + (1 - w) x shipped (w = 0: the shipped table itself). w is chosen per level from GRID
by z's bytes under the real context coder (`entropy.context`) on the last `--choose` of those images, counted on the
rest; then the chosen mix is counted on all of them. Fitted on the plain images instead, the tables saved more on
CIFAR's test images but cost up to 1 % more on smoother content (32x32 photo crops at qualities 4 and 6): the
model's training distribution, zooms included, is the one it must serve. `--write` stores the tables in the codec's tables.npz (`z_levels`), after which its `compress` writes
versions 16-18 (byte strings of 13-15 still decode as before).
"""

import numpy as np

from cae_helpers.codec import HyperpriorCodec, _pad
from cae_helpers.entropy.context import ContextZCoder
from cae_helpers.entropy.tables import quantise_pmf
from cae_helpers.pixels import to_float
from cae_helpers.training.loop import zoom_and_flip_numpy
from heldout_fit import augmentation, finish, fit_parser, heldout_start

GRID = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95)  # weight of the level's own counts against the shipped table (0: the shipped table)


def z_symbols(codec: HyperpriorCodec, images: np.ndarray, level: float) -> np.ndarray:
    """z symbols (N, h, w, Nz) of uint8 images (N, 32, 32, 3) at a level, as `compress` codes them."""
    _, z = codec.gained_latents(_pad(to_float(images)), level)
    return codec._z_symbols(z)


def mixed_tables(base: np.ndarray, symbols: np.ndarray, w: float) -> np.ndarray:
    """(Nz, K) integer tables: w x the symbols' frequencies per channel (+ 0.5 each) + (1 - w) x the table `base` (Nz, K)."""
    base = np.asarray(base, np.int64)
    if w == 0:
        return base.copy()
    nz, k = base.shape
    flat = symbols.reshape(-1, nz)
    counts = np.zeros((nz, k))
    np.add.at(counts, (np.broadcast_to(np.arange(nz), flat.shape), flat), 1.0)
    empirical = (counts + 0.5) / (counts + 0.5).sum(axis=1, keepdims=True)
    prior = base / base.sum(axis=1, keepdims=True)  # the base table as probabilities
    return np.stack([quantise_pmf(p) for p in w * empirical + (1 - w) * prior])


def training_view(codec: HyperpriorCodec, images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 32, 32, 3) as the model's training saw them: its `augment` share zoomed up to `max_zoom`, flips (seed 0)."""
    cfg = codec.model.config
    x = zoom_and_flip_numpy(images / 255.0, np.random.default_rng(0), cfg.augment, cfg.max_zoom)
    return np.round(x * 255.0).astype(np.uint8)


def z_bytes(tables: np.ndarray, symbols: np.ndarray) -> float:
    """Mean bytes of z per image under the context coder with these tables, each image coded on its own."""
    coder = ContextZCoder(tables)
    return float(np.mean([coder.bits(symbols[i:i + 1]) for i in range(len(symbols))]) / 8)


def main() -> None:
    p = fit_parser(__doc__, "tables")
    p.add_argument("--choose", type=int, default=1000, help="held-out images that choose w (the rest count; default 1000)")
    args = p.parse_args()
    codec, heldout = heldout_start(args)
    images = training_view(codec, heldout)
    shared = ContextZCoder(codec.z_tables)
    record, tables = {}, []
    for level in range(codec.levels):
        symbols = z_symbols(codec, images, float(level))
        count, choose = symbols[:-args.choose], symbols[-args.choose:]
        by_w = {w: z_bytes(mixed_tables(codec.z_tables, count, w), choose) for w in GRID}
        best = min(by_w, key=by_w.get)
        tables.append(mixed_tables(codec.z_tables, symbols, best))
        shipped = float(np.mean([shared.bits(choose[i:i + 1]) for i in range(len(choose))]) / 8)
        record[level + 1] = {"shipped_bytes": shipped, "bytes_by_w": by_w, "w": best}
        print(f"quality {level + 1}: z {shipped:.2f} bytes under the shared tables, {by_w[best]:.2f} under the level's (w {best}) "
              f"on {args.choose} held-out training images, augmented", flush=True)
    finish(args, codec, "fit_z_levels.py",
           {"grid": GRID, "counted_on": f"{len(images) - args.choose} held-out training images (heldout protocol, seed 0)",
            "chosen_on": f"the last {args.choose} of the 5,000 held-out training images", "augmentation": augmentation(codec),
            "levels": record}, "z_level_tables", np.stack(tables), "per-level z tables")


if __name__ == "__main__":
    main()
