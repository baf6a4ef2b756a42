"""Probe: what does choosing each image's quality by a PSNR-per-bit slope buy in mean PSNR at equal mean rate?

    python tools/slope_choice_probe.py --data ../shared/data/cifar-100-python.tar.gz --out results/slope-choice-probe

A fixed quality gives every image the same lambda, the allocation that minimises the *sum of MSE* at a given total
rate. The targets average *PSNR* over images, a mean of -10 log10(MSE_i): for that, an image whose MSE is small gains
more dB per bit than one whose MSE is large, and the best allocation gives every image the same dB per bit instead.
Each image can find its own such point alone: the quality q maximising PSNR_i(q) - mu x bits_i(q), for one slope mu
(dB per bit) common to all images, chosen by the user as a quality is. This script codes the images at every quality
on a grid (real bytes and decoded pixels through `compress` / `decompress`), then traces both curves: the fixed
qualities' (mean bytes, mean PSNR) and the per-image choices' as mu varies, and reads both at the same mean rates.
The same is done for WebP (method 6, its quality 0-100), so the two are compared like with like; both curves are read
as mean PSNR (the targets' measure) and as pooled PSNR (of the mean MSE, which a fixed lambda is the optimum for).
Writes the per-image tables (npz), the curves and the readings (JSON, with the command and versions), refusing to
overwrite; no byte format changes (the quality byte carries each image's choice).
"""

import sys
from pathlib import Path

import numpy as np

from cae_helpers.bench.classic import pillow_round_trip
from cae_helpers.codec import HyperpriorCodec
from cae_helpers.io import command_line, versions, write_json
from cae_helpers.metrics import mse_per_image
from probe_cli import probe_images, probe_parser

SLOPES = np.geomspace(1e-3, 1.0, 400)  # dB per bit: the common slope each image's choice is made at


def coded_table(round_trip, images: np.ndarray, qualities, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(bytes, MSE) of each image (Q, N) at each quality; round_trip(images, q) -> (byte strings, decoded uint8)."""
    size, mse = [], []
    for q in qualities:
        blobs, out = round_trip(images, q)
        size.append([len(b) for b in blobs])
        mse.append(mse_per_image(images, out))
        print(f"{name} quality {q:g}: {np.mean(size[-1]):.1f} bytes, {np.mean(psnr_of(mse[-1])):.3f} dB", flush=True)
    return np.asarray(size, np.float64), np.asarray(mse)


def psnr_of(mse: np.ndarray) -> np.ndarray:
    return 10 * np.log10(255.0**2 / np.maximum(mse, 1e-10))


def curve(size: np.ndarray, mse: np.ndarray, picks: list[np.ndarray]) -> np.ndarray:
    """(P, 3) mean bytes, mean PSNR and pooled PSNR (of the mean MSE) for each pick of quality indexes (N,)."""
    cols = np.arange(size.shape[1])
    return np.array([[size[p, cols].mean(), psnr_of(mse[p, cols]).mean(), psnr_of(mse[p, cols].mean())] for p in picks])


def fixed_and_chosen(size: np.ndarray, mse: np.ndarray) -> dict[str, np.ndarray]:
    """The fixed qualities' curve and the curve of each image taking the quality maximising PSNR - slope x bits."""
    psnr = psnr_of(mse)
    fixed = [np.full(size.shape[1], i) for i in range(len(size))]
    chosen = [np.argmax(psnr - mu * 8 * size, axis=0) for mu in SLOPES]
    return {"fixed quality": curve(size, mse, fixed), "quality chosen per image": curve(size, mse, chosen)}


def at_rate(points: np.ndarray, target_bytes: float, column: int) -> float:
    """A curve's column (1: mean PSNR, 2: pooled PSNR) at a mean byte count, linear between points (NaN outside them)."""
    order = np.argsort(points[:, 0], kind="stable")
    return float(np.interp(target_bytes, points[order, 0], points[order, column], left=np.nan, right=np.nan))


def hyperprior_trip(codec: HyperpriorCodec):
    return lambda images, q: (blobs := codec.compress(images, q), codec.decompress(blobs))


def webp_trip(images: np.ndarray, q: float):
    files, decoded, _, _ = pillow_round_trip(images, "WEBP", quality=int(q), method=6)
    return files, decoded


def main() -> None:
    p = probe_parser(__doc__, "a folder for table.npz and probe.json (refused if it exists)")
    p.add_argument("--qualities", type=float, nargs="+", default=list(np.arange(1, 5.01, 0.125)))
    p.add_argument("--webp-qualities", type=float, nargs="+", default=list(range(0, 101, 2)))
    p.add_argument("--rates", type=float, nargs="+", default=[0.5, 1.0, 1.5, 2.0], help="bits per pixel to read the curves at")
    args = p.parse_args()
    out = Path(args.out)
    if out.exists():
        raise SystemExit(f"error: {out} exists; remove it first")
    images, which = probe_images(args)
    tables = {Path(args.codec).name: coded_table(hyperprior_trip(HyperpriorCodec.load(args.codec)), images, args.qualities, "ours"),
              "WebP method 6": coded_table(webp_trip, images, args.webp_qualities, "WebP")}
    pixels = images.shape[1] * images.shape[2]
    record, arrays = {}, {}
    for name, (size, mse) in tables.items():
        curves = fixed_and_chosen(size, mse)
        record[name] = {"curves_bytes_meanpsnr_pooledpsnr": {k: v.tolist() for k, v in curves.items()},
                        "at_rates": {f"{r} bpp": {k: {"mean PSNR": at_rate(v, r * pixels / 8, 1), "pooled PSNR": at_rate(v, r * pixels / 8, 2)}
                                                  for k, v in curves.items()} for r in args.rates}}
        arrays |= {f"{name}/bytes": size, f"{name}/mse": mse}
        for r, v in record[name]["at_rates"].items():
            print(f"{name} at {r}: " + "; ".join(f"{k} {d['mean PSNR']:.3f} dB (pooled {d['pooled PSNR']:.3f})" for k, d in v.items()))
    out.mkdir(parents=True)
    np.savez_compressed(out / "table.npz", qualities=np.asarray(args.qualities), webp_qualities=np.asarray(args.webp_qualities), **arrays)
    write_json(out / "probe.json", {"command": command_line("python tools/slope_choice_probe.py", sys.argv[1:]), "codec": args.codec,
                                    "images": len(images), "image_set": which, "slopes_db_per_bit": SLOPES.tolist(), **record, "versions": versions()})


if __name__ == "__main__":
    main()
