"""Probe: refinement that sees the decoder's bin-mean offsets against refinement at the bins' centres, same decoder.

    python tools/refine_means_probe.py --data ../shared/data/cifar-100-python.tar.gz > results/bin-means/refine-ab.log

The default codec, 2 CIFAR-100 test images per class (200), qualities 1 and 2, `refine=100`; both arms decode in
byte format 10 (toward the bins' means). "centres" runs refinement with toward_means=0 (what it did before this
probe's commit), "means" with the codec's weight for the level (what `compress` does since). Prints bytes, bpp and
mean PSNR (uint8) per arm, then each arm's PSNR at 0.5 bpp, interpolated linearly in log-rate between the two qualities.
"""

import argparse
import json
import math

import numpy as np

import cae_helpers.refine as refine
from cae_helpers.codec import shipped_codec
from cae_helpers.data import load_cifar100
from cae_helpers.io import versions
from cae_helpers.metrics import mean_psnr


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    args = p.parse_args()
    test = load_cifar100(args.data).test
    images = test.images[np.concatenate([np.flatnonzero(test.fine == c)[:2] for c in range(100)])]
    codec, original = shipped_codec(), refine.refine_latents
    points = {"centres": [], "means": []}
    try:
        for q in (1, 2):
            for arm in points:
                refine.refine_latents = lambda *a, toward_means=0.0, arm=arm, **k: original(
                    *a, toward_means=toward_means if arm == "means" else 0.0, **k)
                blobs = codec.compress(images, q, refine=100)
                nbytes = float(np.mean([len(b) for b in blobs]))
                points[arm].append((8 * nbytes / 1024, mean_psnr(images, codec.decompress(blobs))))
                print(f"quality {q}, refinement at the {arm}: {nbytes:.2f} bytes, {points[arm][-1][0]:.4f} bpp, "
                      f"{points[arm][-1][1]:.3f} dB", flush=True)
    finally:
        refine.refine_latents = original
    for arm, ((r1, d1), (r2, d2)) in points.items():
        t = math.log(0.5 / r1) / math.log(r2 / r1)
        print(f"refinement at the {arm}: {d1 + t * (d2 - d1):.3f} dB at 0.5 bpp")
    print("# versions:", json.dumps(versions()))


if __name__ == "__main__":
    main()
