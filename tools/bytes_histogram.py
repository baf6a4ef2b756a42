"""Bytes per image of the hyperprior codec on CIFAR and on photo crops, at one quality: does the rate follow the content?

    python tools/bytes_histogram.py results/rd-hyperprior/rd.json results/rd-photos/rd.json --quality 4 --out results/rd-hyperprior/bytes_hist.png
"""

import argparse
import json
from pathlib import Path

from cae_helpers.bench.rd import HYPERPRIOR
from cae_helpers.plots import plot_bytes_histograms


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rd_files", nargs="+", help="rd.json files with a hyperprior curve (each one image set)")
    p.add_argument("--quality", type=float, default=4)
    p.add_argument("--out", required=True, type=Path)
    args = p.parse_args()
    sets = {}
    for f in args.rd_files:
        rd = json.loads(Path(f).read_text())
        point = next(q for q in rd["curves"][HYPERPRIOR] if q["quality"] == args.quality)
        sets[rd["images"].split(" from ")[0].split(" (")[0]] = point
        print(f"{f}: quality {args.quality}: median {point['bytes_p50']:.0f} bytes (p10 {point['bytes_p10']:.0f}, "
              f"p90 {point['bytes_p90']:.0f}), {point['bpp']:.3f} bpp, {point['psnr_mean_uint8']:.2f} dB")
    plot_bytes_histograms(sets, f"hyperprior codec, quality {args.quality:g}: bytes per 32x32 image").savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
