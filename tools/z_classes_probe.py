"""Probe: would K sets of z tables, one chosen per image and named by a class index, cost fewer bytes than one set?

    python tools/z_classes_probe.py --data ../shared/data/cifar-100-python.tar.gz --out results/z-classes-probe/probe.json

At 0.5 bpp a CIFAR image's hyper-latent z (2x2x64 symbols) takes about 17 of its 64 bytes, under one table per
channel and quality level (the shipped `z_levels`, adapted per context of the positions before it). One table per
channel cannot follow an image's activity: flat images put nearly every symbol at zero, busy ones spread them. Here K
sets of tables are fitted (hard EM: images grouped by which set codes their z in fewest bits, each set refitted on its
group, started from activity quantiles) on train-codec's *fit* training images, augmented as the model's training was
(`fit_z_levels.training_view`); each image then takes the set that codes it in fewest bits under the real context
coder, plus its class index's bits (-log2 of the class's share in the fit images). K is read off the 5,000 held-out
training images; CIFAR test images (the first 20 of each class) and the 520 photo crops are reported beside them,
not used for any choice. Information content only (what ANS spends before its final word); no byte format is written.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from cae_helpers.codec import HyperpriorCodec
from cae_helpers.data import load_cifar100, photo_crops, protocol_splits
from cae_helpers.entropy.context import ContextZCoder
from cae_helpers.io import command_line, versions, write_json
from fit_z_levels import mixed_tables, training_view, z_symbols

EM_ROUNDS = 8
OWN_WEIGHT = 0.9  # each class's table: 0.9 x its images' frequencies + 0.1 x the level's shipped table (no zero counts)


def plain_bits(tables: np.ndarray, symbols: np.ndarray) -> np.ndarray:
    """(N,) bits of each image's z symbols (N, h, w, Nz) under per-channel tables without context (fast, for the EM)."""
    logp = np.log2(tables / tables.sum(axis=1, keepdims=True))  # (Nz, K)
    return -logp[np.arange(symbols.shape[-1]), symbols].reshape(len(symbols), -1).sum(axis=1)


def fit_classes(base: np.ndarray, symbols: np.ndarray, k: int) -> tuple[list[np.ndarray], np.ndarray]:
    """(K tables, class shares (K,)) by hard EM on fit images' z symbols, started from quantiles of their bits under `base`."""
    activity = plain_bits(base, symbols)
    labels = np.searchsorted(np.quantile(activity, np.arange(1, k) / k), activity, side="right")
    for _ in range(EM_ROUNDS):
        tables = [mixed_tables(base, symbols[labels == c], OWN_WEIGHT) if np.any(labels == c) else base for c in range(k)]
        shares = np.bincount(labels, minlength=k) / len(labels) + 1e-6
        costs = np.stack([plain_bits(t, symbols) - np.log2(s) for t, s in zip(tables, shares)], axis=1)  # (N, K)
        labels = costs.argmin(axis=1)
    shares = np.bincount(labels, minlength=k) / len(labels) + 1e-6
    return tables, shares / shares.sum()


def context_bytes(tables: list[np.ndarray], shares: np.ndarray, symbols: np.ndarray) -> float:
    """Mean bytes of z per image under the real context coder, each image under its cheapest class (+ the index's bits)."""
    coders = [ContextZCoder(t) for t in tables]
    index_bits = -np.log2(shares) if len(tables) > 1 else np.zeros(1)
    per_class = np.array([[c.bits(symbols[i:i + 1]) for c in coders] for i in range(len(symbols))]) + index_bits  # (N, K)
    return float(per_class.min(axis=1).mean() / 8)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    p.add_argument("--codec", default="cae_helpers/zoo/hyperprior-exact")
    p.add_argument("--out", required=True, help="JSON record (refused if it exists)")
    p.add_argument("--qualities", type=float, nargs="+", default=[1, 1.5, 2, 4])
    p.add_argument("--classes", type=int, nargs="+", default=[2, 4, 8])
    p.add_argument("--fit-images", type=int, default=20000, help="fit training images the classes are fitted on")
    args = p.parse_args()
    if Path(args.out).exists():
        raise SystemExit(f"error: {args.out} exists; remove it first")
    data = load_cifar100(args.data)
    fit, val = protocol_splits(data.train, data.test, "heldout", 5000, 0)
    codec = HyperpriorCodec.load(args.codec)
    test = np.concatenate([data.test.images[data.test.fine == c][:20] for c in range(100)])
    sets = {"heldout": training_view(codec, val.images), "cifar_test": test, "photo_crops": photo_crops()[0]}
    fit_images = training_view(codec, fit.images[:args.fit_images])
    rows = []
    for q in args.qualities:
        code = codec.level16(q)
        base = codec.z_level_table(code)
        fit_sym = z_symbols(codec, fit_images, code / 16)
        syms = {name: z_symbols(codec, images, code / 16) for name, images in sets.items()}
        row = {"quality": q, "shipped": {name: context_bytes([base], np.ones(1), s) for name, s in syms.items()}}
        for k in args.classes:
            tables, shares = fit_classes(base, fit_sym, k)
            row[f"K={k}"] = {name: context_bytes(tables, shares, s) for name, s in syms.items()}
            row[f"K={k}"]["shares"] = [round(float(s), 4) for s in shares]
        rows.append(row)
        print(f"quality {q}: " + "; ".join(f"{key} " + ", ".join(f"{n} {v:.2f}" for n, v in val.items() if n != "shares")
                                           for key, val in row.items() if key != "quality"), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, {"command": command_line("python tools/z_classes_probe.py", sys.argv[1:]), "codec": args.codec,
                          "unit": "bytes of z per image (information content under the context coder, class index included)",
                          "fit_images": args.fit_images, "rows": rows, "versions": versions()})


if __name__ == "__main__":
    main()
