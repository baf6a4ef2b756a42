"""Whether coding a photograph at a smaller scale and upsampling it pays: a probe, nothing built from it.

    python tools/rescale_probe.py --out results/rescale-probe            # about 8 CPU-minutes
    python tools/rescale_probe.py --table results/rescale-probe/table.json > results/rescale-probe/probe.log

On scikit-learn's two photographs (never scikit-image's), the default codec codes each photograph whole at scales
1, 3/4, 2/3 and 1/2 (Pillow's Lanczos down, Lanczos back up to the full size) at qualities 1 to 8 in steps of 1/2.
At each quality q an encoder choosing per photograph would take the candidate with the least
bpp + lambda(q) x 255^2 x MSE (the training loss; full size only at q itself, a smaller scale at any quality).
Printed: the BD-rate against WebP (`results/photos-coded/photos.json`) and the PSNR at 0.5 / 1 / 2 bpp of the
mean curves, full size only against each set of allowed scales; each photograph's own BD-rate.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

import numpy as np

from cae_helpers.bench.curves import bd_rate, psnr_at_rates
from cae_helpers.bench.photos import sample_photos
from cae_helpers.codec import shipped_codec
from cae_helpers.rescale import resize

SCALES = (1.0, 0.75, 2 / 3, 0.5)
QUALITIES = np.arange(1, 8.01, 0.5)
WEBP = "results/photos-coded/photos.json"


def measure(codec, photos: dict[str, np.ndarray]) -> dict[tuple, tuple[float, float]]:
    """(photo, scale, quality) -> (bits per full-size pixel, MSE on uint8 at full size)."""
    table = {}
    for name, image in photos.items():
        h, w = image.shape[:2]
        for s in SCALES:
            small = resize(image, round(h * s), round(w * s))
            for q in QUALITIES:
                blob = codec.compress_image(small, float(q), tiles=False)
                decoded = resize(codec.decompress_image(blob), h, w)
                table[name, s, float(q)] = (8 * len(blob) / (h * w), float(np.mean((decoded.astype(float) - image) ** 2)))
            print(name, f"scale {s:.3f} measured", file=sys.stderr, flush=True)
    return table


def mean_curve(table: dict, codec, scales: tuple) -> list[dict]:
    """The mean curve over photographs when each picks its least-loss candidate among `scales` at each quality."""
    names = sorted({k[0] for k in table})
    points = []
    for q in QUALITIES:
        lam = codec.lmbda(q - 1)
        picks = [min((k for k in table if k[0] == n and k[1] in scales and (k[1] < 1 or k[2] == q)),
                     key=lambda k: table[k][0] + lam * table[k][1]) for n in names]  # MSE on uint8 = 255^2 x MSE on [0, 1]
        points.append({"quality": float(q), "picks": [k[1:] for k in picks],
                       "bpp": float(np.mean([table[k][0] for k in picks])),
                       "psnr_mean_uint8": float(np.mean([10 * np.log10(255.0**2 / table[k][1]) for k in picks]))})
    return points


def photo_curve(table: dict, codec, scales: tuple, name: str) -> list[dict]:
    """One photograph's curve under the same choice (`mean_curve` on its entries alone)."""
    return mean_curve({k: v for k, v in table.items() if k[0] == name}, codec, scales)


def main() -> None:
    """Measure (or load) the table and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="folder for table.json (measures; refuses to overwrite)")
    parser.add_argument("--table", type=Path, help="a table.json measured before")
    args = parser.parse_args()
    codec = shipped_codec()
    if args.table:
        table = {ast.literal_eval(k): tuple(v) for k, v in json.loads(args.table.read_text()).items()}
    else:
        if args.out is None or (args.out / "table.json").exists():
            parser.error("--out FOLDER (without a table.json in it) or --table FILE")
        table = measure(codec, sample_photos("sklearn"))
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "table.json").write_text(json.dumps({repr(k): v for k, v in table.items()}, indent=0))
    webp = json.loads(Path(WEBP).read_text())["curves"]["WebP"]
    print("python", " ".join(sys.argv), f"\nBD-rate against WebP ({WEBP}), mean over scikit-learn's two photographs")
    for scales in ((1.0,), (1.0, 0.5), (1.0, 0.75, 0.5), SCALES):
        curve = mean_curve(table, codec, scales)
        gaps = {k: round(v, 2) for k, v in psnr_at_rates(curve).items() if v is not None}
        print(f"scales {'/'.join(f'{s:.3g}' for s in scales):<22} BD {bd_rate(curve, webp):+6.2f} %  {gaps}")
        print("   picks (scale, quality) q1..q4:", [p["picks"] for p in curve[:7:2]])
        for name in sorted({k[0] for k in table}):
            own = photo_curve(table, codec, scales, name)
            anchor = [{"bpp": p["photos"][name]["bpp"], "psnr_mean_uint8": p["photos"][name]["psnr"]} for p in webp]
            print(f"   {name}: BD {bd_rate(own, anchor):+6.2f} % against WebP on it alone; at 0.1 / 0.25 bpp",
                  [None if v is None else round(v, 2) for v in psnr_at_rates(own, (0.1, 0.25)).values()])


if __name__ == "__main__":
    main()
