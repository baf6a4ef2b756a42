"""Two codecs' compress / decompress speed, interleaved, on CIFAR test images and on a full-size photograph.

    python tools/codec_speed_ab.py --data ../shared/data/cifar-100-python.tar.gz \
        cae_helpers/zoo/hyperprior-continuous cae_helpers/zoo/hyperprior-exact --out results/integer-hs-speed
    python tools/codec_speed_ab.py --data ../shared/data/cifar-100-python.tar.gz cae_helpers/zoo/hyperprior-exact \
        --roundings 0 20 --out results/rounding-speed   # one codec, its encoder's rounding weights side by side

Each round times every codec once on the same inputs, alternating which goes first, so load from other work on the
machine falls on both alike; reports the median over rounds (images/s on CIFAR, seconds on the photograph) and the
ratio to the first codec. Writes speed.json (command, versions, every timing) and refuses to replace it.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from cae_helpers.io import versions
from cae_helpers.codec import HyperpriorCodec
from cae_helpers.data import load_cifar100


def _timed(fn, *args):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def _photo() -> np.ndarray:
    """scikit-learn's china.jpg (427x640), uint8 (1, H, W, 3)."""
    from sklearn.datasets import load_sample_image
    return load_sample_image("china.jpg")[None]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("codecs", nargs="+", help="codec folders; ratios are against the first")
    p.add_argument("--data", required=True, help="cifar-100-python.tar.gz")
    p.add_argument("--images", type=int, default=2000, help="the first N CIFAR-100 test images")
    p.add_argument("--quality", type=float, default=4)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--no-photo", action="store_true", help="CIFAR images only")
    p.add_argument("--roundings", type=float, nargs="+", default=None,
                   help="time each codec at each of these rate-distortion rounding weights (0: nearest; default: the codec's own)")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    if (args.out / "speed.json").exists():
        sys.exit(f"{args.out / 'speed.json'} exists: choose another --out")
    weights = [None] if args.roundings is None else args.roundings
    # label -> (codec, rounding weight); a label is the folder, with the weight where --roundings asks for several
    codecs = {(c if w is None else f"{c} rounding={w:g}"): (HyperpriorCodec.load(c), w) for c in args.codecs for w in weights}
    sets = {"cifar": load_cifar100(args.data).test.images[:args.images]} | ({} if args.no_photo else {"china.jpg": _photo()})
    times = {c: {s: {"compress": [], "decompress": []} for s in sets} for c in codecs}
    for r in range(args.rounds):
        for c in (list(codecs) if r % 2 == 0 else list(codecs)[::-1]):
            for s, x in sets.items():
                codec, weight = codecs[c]
                t_enc, blobs = _timed(lambda x: codec.compress(x, args.quality, rounding=weight), x)  # noqa: B023 (called now)
                t_dec, _ = _timed(codec.decompress, blobs)
                times[c][s]["compress"].append(t_enc)
                times[c][s]["decompress"].append(t_dec)
        print(f"round {r + 1}/{args.rounds} done", flush=True)
    first = next(iter(codecs))
    summary = {c: {s: {k: {"median_s": float(np.median(v)),
                           "ratio_to_first": float(np.median(v) / np.median(times[first][s][k]))}
                       for k, v in per.items()} for s, per in sets_t.items()} for c, sets_t in times.items()}
    for c, per in summary.items():
        for s, ks in per.items():
            n = len(sets[s])
            print(f"{c} {s}: " + ", ".join(f"{k} {n / v['median_s']:.1f} images/s ({v['median_s']:.3f} s, "
                                            f"{v['ratio_to_first']:.3f}x the first's time)" for k, v in ks.items()))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "speed.json").write_text(json.dumps(
        {"command": "python tools/codec_speed_ab.py " + " ".join(sys.argv[1:] if argv is None else argv),
         "images": {s: list(x.shape) for s, x in sets.items()}, "quality": args.quality,
         "summary": summary, "times_s": times, "versions": versions()}, indent=1))


if __name__ == "__main__":
    main()
