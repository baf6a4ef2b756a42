"""What the codec's fitting tools share (fit_bin_means.py, fit_z_levels.py, fit_colour_levels.py): arguments, images, the record.

Each fits something per quality level on train-codec's 5,000 held-out *training* images (protocol "heldout", seed 0:
no test image, no scikit-image photo), writes a JSON record it refuses to overwrite, and with --write stores what it
fitted in the codec's tables.npz.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from cae_helpers.codec import HyperpriorCodec
from cae_helpers.data import load_cifar100, protocol_splits
from cae_helpers.io import command_line, versions, write_json


def fit_parser(doc: str, what: str) -> argparse.ArgumentParser:
    """--data, --codec, --out and --write; the caller adds its own options."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--data", help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    p.add_argument("--codec", required=True, help="a codec folder saved by HyperpriorCodec.save")
    p.add_argument("--out", required=True, help="JSON file for the record (refused if it exists)")
    p.add_argument("--write", action="store_true", help=f"store the fitted {what} in the codec's tables.npz")
    return p


def heldout_start(args: argparse.Namespace) -> tuple[HyperpriorCodec, np.ndarray]:
    """(the codec, the 5,000 held-out training images uint8 (N, 32, 32, 3)); exits first if --out exists."""
    if Path(args.out).exists():
        raise SystemExit(f"error: {args.out} exists; remove it first")
    data = load_cifar100(args.data)
    _, val = protocol_splits(data.train, data.test, "heldout", 5000, 0)
    return HyperpriorCodec.load(args.codec), val.images


def augmentation(codec: HyperpriorCodec) -> dict:
    """The record's note of how the images were augmented as the model's training augments them (`fit_z_levels.training_view`)."""
    return {"share": codec.model.config.augment, "max_zoom": codec.model.config.max_zoom, "seed": 0}


def finish(args: argparse.Namespace, codec: HyperpriorCodec, tool: str, record: dict, attribute: str, fitted, what: str) -> None:
    """Write the JSON record (its command, the codec, `record`, versions); with --write set `attribute` to `fitted` and save the tables."""
    write_json(args.out, {"command": command_line(f"python tools/{tool}", sys.argv[1:]), "codec": args.codec, **record,
                          "written": args.write, "versions": versions()})
    if args.write:
        setattr(codec, attribute, fitted)
        codec.save_tables(args.codec)
        print(f"wrote the {what} into {Path(args.codec) / 'tables.npz'}")
