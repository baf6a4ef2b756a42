"""Copy a codec folder with an exact integer h_s added (`cae_helpers.integer_hs`): a codec of its own identity.

    python tools/add_integer_hs.py cae_helpers/zoo/hyperprior-continuous /tmp/cx/hyperprior-continuous-integer

The same weights and fitted tables (bins' means, z levels, mean-colour tables); tables.npz gains the integer h_s, so
both sides pick every latent's table by integer arithmetic. For a train-codec run, `export-codec --integer-hs` does
the same at export. OUT must not exist.
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import replace
from pathlib import Path

from cae_helpers.codec import HyperpriorCodec
from cae_helpers.integer_hs import IntegerHyperSynthesis


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("codec", type=Path, help="a codec folder with h_s in float64")
    p.add_argument("out", type=Path, help="the new codec folder (must not exist)")
    args = p.parse_args()
    if args.out.exists():
        raise SystemExit(f"{args.out} exists: not overwriting it")
    codec = HyperpriorCodec.load(args.codec)
    if codec.integer_hs is not None:
        raise SystemExit(f"{args.codec} has an integer h_s already")
    shutil.copytree(args.codec, args.out)
    replace(codec, integer_hs=IntegerHyperSynthesis.from_codec(codec)).save_tables(args.out)
    print(f"wrote {args.out}: {args.codec} with an integer h_s")


if __name__ == "__main__":
    main()
