"""What the probes on coded test images share (rounding_probe.py, slope_choice_probe.py): their common options and images."""

import argparse

import numpy as np

from cae_helpers.data import load_cifar100, protocol_splits


def probe_parser(doc: str, out_help: str) -> argparse.ArgumentParser:
    """--data, --codec, --out, --per-class and --heldout; the caller adds its own options."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--data", help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    p.add_argument("--codec", default="cae_helpers/zoo/hyperprior-exact")
    p.add_argument("--out", required=True, help=out_help)
    p.add_argument("--per-class", type=int, default=10, help="test images of each class (the first ones)")
    p.add_argument("--heldout", type=int, default=0,
                   help="instead of test images, the first N of train-codec's 5,000 held-out training images (to choose a setting)")
    return p


def probe_images(args: argparse.Namespace) -> tuple[np.ndarray, str]:
    """(uint8 images (N, 32, 32, 3), what they are in words): --heldout training images, else --per-class test images."""
    data = load_cifar100(args.data)
    if args.heldout:
        images = protocol_splits(data.train, data.test, "heldout", 5000, 0)[1].images[:args.heldout]
        return images, f"the first {len(images):,} of train-codec's 5,000 held-out CIFAR-100 training images"
    images = np.concatenate([data.test.images[data.test.fine == c][:args.per_class] for c in range(100)])
    return images, f"{len(images):,} CIFAR-100 test images, the first {args.per_class} of each class"
