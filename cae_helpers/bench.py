"""Rate-distortion benchmark: our codecs against Pillow's WebP, JPEG and AVIF on the same images.

    python -m cae_helpers.bench rd --data cifar-100-python.tar.gz --model results/reference/autoencoder.keras --out results/rd

Every rate is measured from whole byte strings (files for the classic codecs, header
included for ours); quality is mean per-image PSNR on uint8 (MAX 255), pooled PSNR and
mean SSIM, on the same images. Writes rd.json (with the command and versions), rd.png
(PSNR, with published CIFAR-10 curves dashed for scale) and rd_ssim.png.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np

from .metrics import bits_per_pixel, mean_psnr, pooled_psnr, ssim_per_image
from .validation import check_uint8_images

CLASSIC = {
    "WebP": ("WEBP", "quality", (0, 5, 10, 20, 30, 45, 60, 75, 88, 95), {"method": 6}),
    "JPEG 4:4:4": ("JPEG", "quality", (5, 10, 20, 30, 50, 70, 90), {"subsampling": 0}),
    "JPEG 4:2:0": ("JPEG", "quality", (5, 10, 20, 30, 50, 70, 90), {"subsampling": 2}),
    "AVIF": ("AVIF", "quality", (10, 25, 40, 50, 60, 75, 90), {}),
}


def rd_point(orig: np.ndarray, rec: np.ndarray, nbytes: np.ndarray, encode_s: float | None, decode_s: float | None, **params) -> dict:
    """One point of a curve: bpp of the whole byte strings, PSNR (mean per image and pooled, uint8), SSIM, speed."""
    orig, rec = check_uint8_images(orig, "orig"), check_uint8_images(rec, "rec")
    bpp = bits_per_pixel(np.asarray(nbytes, np.float64), orig.shape[1], orig.shape[2])
    n = len(orig)
    return {
        **params,
        "bpp": float(bpp.mean()),
        "bytes_mean": float(np.mean(nbytes)),
        "psnr_mean_uint8": mean_psnr(orig, rec),
        "psnr_pooled_uint8": pooled_psnr(orig, rec),
        "ssim_mean_uint8": float(np.mean(ssim_per_image(orig, rec))),
        "encode_images_per_s": n / encode_s if encode_s else None,
        "decode_images_per_s": n / decode_s if decode_s else None,
    }


def pillow_round_trip(images: np.ndarray, fmt: str, **kwargs) -> tuple[list[bytes], np.ndarray, float, float]:
    """Encode each image to a whole file with Pillow and decode it back: (files, decoded, encode s, decode s)."""
    from PIL import Image

    files = []
    start = time.perf_counter()
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, fmt, **kwargs)
        files.append(buf.getvalue())
    encode_s = time.perf_counter() - start
    start = time.perf_counter()
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(f)).convert("RGB")) for f in files])
    return files, decoded, encode_s, time.perf_counter() - start


def classic_curves(images: np.ndarray, codecs: dict = CLASSIC, progress: bool = True) -> dict[str, list[dict]]:
    """Each classic codec's quality sweep on `images`."""
    from tqdm.auto import tqdm

    curves = {}
    for name, (fmt, knob, values, fixed) in codecs.items():
        points = []
        for v in tqdm(values, desc=name, disable=not progress):
            files, decoded, enc_s, dec_s = pillow_round_trip(images, fmt, **{knob: v}, **fixed)
            points.append(rd_point(images, decoded, np.array([len(f) for f in files]), enc_s, dec_s, **{knob: v}, **fixed))
        curves[name] = points
    return curves


def coded_point(images: np.ndarray, codec, **params) -> dict:
    """Compress and decompress `images` with `codec`, timed: one RD point from the real byte strings."""
    from .codec import compress, decompress

    start = time.perf_counter()
    blobs = compress(images, codec)
    c_s = time.perf_counter() - start
    start = time.perf_counter()
    out = decompress(blobs, codec)
    d_s = time.perf_counter() - start
    return rd_point(images, out, np.array([len(b) for b in blobs]), c_s, d_s, **params)


def model_curves(model_path: str, train_images: np.ndarray, images: np.ndarray, steps: tuple[float, ...]) -> dict[str, list[dict]]:
    """The autoencoder's float32 code, its 8-bit code, and the entropy-coded codec at each relative step."""
    from .codec import codec_from_latents, decode_latents, encode_latents
    from .training import load_autoencoder

    _, enc, dec = load_autoencoder(model_path)
    start = time.perf_counter()
    z = encode_latents(enc, images)
    enc_s = time.perf_counter() - start
    z_train = encode_latents(enc, train_images)
    start = time.perf_counter()
    rec = decode_latents(dec, z)
    dec_s = time.perf_counter() - start
    dim = z.shape[1]
    curves = {"reference model, float32 code": [rd_point(images, rec, np.full(len(z), 4 * dim), enc_s, dec_s, code="float32")]}
    # 8 bits per value, per-dimension min/max from the training latents (clipped): exactly `dim` bytes, no header
    lo, hi = z_train.min(axis=0), z_train.max(axis=0)
    q = np.rint((np.clip(z, lo, hi) - lo) / (hi - lo) * 255)
    rec8 = decode_latents(dec, (q / 255 * (hi - lo) + lo).astype(np.float32))
    curves["reference model, 8-bit code"] = [rd_point(images, rec8, np.full(len(z), dim), None, None, code="uint8 per-dimension min/max")]
    scale = float(z_train.std())
    curves["reference model + entropy-coded latent"] = [
        coded_point(images, codec_from_latents(enc, dec, z_train, step=rel * scale), step=rel * scale, relative_step=rel)
        for rel in steps]
    return curves


# Published curves on the CIFAR-10 test set (10,000 images), for comparison only: not measured here.
PUBLISHED = {
    "Ballé 2018 hyperprior (CIFAR-10, published)": [(0.29, 22.9), (1.05, 29.7), (2.78, 37.4), (4.05, 41.5)],
    "Minnen 2020 (CIFAR-10, published)": [(0.34, 24.2), (1.12, 30.8), (2.80, 38.1), (4.10, 42.0)],
    "BPG (CIFAR-10, published)": [(0.74, 25.0), (1.74, 31.0), (3.53, 36.8)],
}
PUBLISHED_SOURCE = ("Ballé 2018 and Minnen 2020: Yang et al., ICLR 2025 (UQDM), mandt-lab/uqdm eval/cifar.yml; "
                    "BPG: as published on the CIFAR-10 test set (figures quoted in issue 5)")


def published_curves() -> dict[str, list[dict]]:
    """The published CIFAR-10 curves as RD points (bpp, psnr_mean_uint8)."""
    return {name: [{"bpp": r, "psnr_mean_uint8": q} for r, q in pts] for name, pts in PUBLISHED.items()}


def learned_curve(dirs: list[str], images: np.ndarray) -> dict[str, list[dict]]:
    """One RD point per saved learned codec (a lambda each), coded for real through bytes."""
    from .codec import codec_from_prior
    from .learned import load_learned

    points = []
    for d in dirs:
        model, config = load_learned(d)
        codec = codec_from_prior(model.analysis, model.synthesis, model.prior)
        points.append(coded_point(images, codec, lmbda=config.lmbda, weights=str(d),
                                  symbol_range=[codec.offset, codec.offset + codec.probabilities.shape[1] - 1]))
    return {"learned codec (factorised prior)": points}


def learned_dirs(paths: list[str]) -> list[str]:
    """Codec folders from paths that are codec folders or hold them (weights/learned -> its lmbda-* folders)."""
    found = []
    for p in map(Path, paths):
        if (p / "weights.npz").is_file():
            found.append(str(p))
        else:
            subs = sorted(str(q.parent) for q in p.glob("*/weights.npz"))
            if not subs:
                raise SystemExit(f"error: no learned codec (weights.npz) in {p} or its subfolders")
            found += subs
    return found


def bd_rate(curve: list[dict], anchor: list[dict], key: str = "psnr_mean_uint8") -> float | None:
    """Bjontegaard delta rate (%) of `curve` against `anchor`: cubic fits of log-rate over their common quality range.

    Negative means fewer bits for the same quality. None when a curve has under 4 points
    or the two do not overlap in quality.
    """
    if len(curve) < 4 or len(anchor) < 4:
        return None
    (q1, r1), (q2, r2) = ([np.array([p[key] for p in c]), np.log10([p["bpp"] for p in c])] for c in (curve, anchor))
    lo, hi = max(q1.min(), q2.min()), min(q1.max(), q2.max())
    if lo >= hi:
        return None
    integrals = []
    for q, r in ((q1, r1), (q2, r2)):
        poly = np.polyint(np.polyfit(q, r, 3))
        integrals.append((np.polyval(poly, hi) - np.polyval(poly, lo)) / (hi - lo))
    return float((10 ** (integrals[0] - integrals[1]) - 1) * 100)


def at_rate(curve: list[dict], bpp: float, key: str = "psnr_mean_uint8") -> float | None:
    """Quality interpolated (linearly in log-rate) at `bpp`; None outside the curve's range."""
    pts = sorted(curve, key=lambda p: p["bpp"])
    rates = np.log([p["bpp"] for p in pts])
    if not (rates[0] <= np.log(bpp) <= rates[-1]):
        return None
    return float(np.interp(np.log(bpp), rates, [p[key] for p in pts]))


GAP_RATES = (0.5, 1, 2, 4)


def psnr_at_rates(curve: list[dict], rates: tuple = GAP_RATES) -> dict[str, float | None]:
    """{"psnr_at_<r>bpp": quality at r} for each rate (the summary in rd.json)."""
    return {f"psnr_at_{r}bpp": at_rate(curve, r) for r in rates}


def gap_rows(rd: dict, name: str = "learned codec (factorised prior)", rates: tuple = GAP_RATES) -> list[dict]:
    """`name`'s PSNR at each rate and its gap (dB, positive: ours better) to WebP and the published curves.

    Every value is interpolated linearly in log-rate between measured (or published) points;
    None where a curve does not reach the rate.
    """
    curves = rd["curves"]
    others = {"WebP": curves.get("WebP")} | {k: v for k, v in rd.get("published", {}).get("curves", {}).items()}
    rows = []
    for r in rates:
        ours = at_rate(curves[name], r) if name in curves else None
        row = {"bpp": r, "ours": ours}
        for other, pts in others.items():
            theirs = at_rate(pts, r) if pts else None
            row[other] = theirs
            row[f"gap to {other}"] = None if ours is None or theirs is None else ours - theirs
        rows.append(row)
    return rows


def format_gaps(rows: list[dict]) -> str:
    """A markdown table of `gap_rows`."""
    others = [k for k in rows[0] if k not in ("bpp", "ours") and not k.startswith("gap to")]
    fmt = lambda v, sign=False: "–" if v is None else (f"{v:+.2f}" if sign else f"{v:.2f}")  # noqa: E731
    lines = ["| bpp | ours (dB) | " + " | ".join(f"{o} (dB) / gap" for o in others) + " |",
             "| --- | --- | " + " | ".join("---" for _ in others) + " |"]
    for row in rows:
        lines.append(f"| {row['bpp']} | {fmt(row['ours'])} | " +
                     " | ".join(f"{fmt(row[o])} / {fmt(row['gap to ' + o], True)}" for o in others) + " |")
    return "\n".join(lines)


def plot_rd(curves: dict[str, list[dict]], key: str = "psnr_mean_uint8", title: str = "", published: dict | None = None):
    """Quality vs bits per pixel, one line per codec (`published` curves dashed); returns the figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    for name, pts in curves.items():
        pts = sorted(pts, key=lambda p: p["bpp"])
        ax.plot([p["bpp"] for p in pts], [p[key] for p in pts], marker="o" if len(pts) > 1 else "*",
                markersize=5 if len(pts) > 1 else 14, label=name, linewidth=2.5 if name.startswith("learned") else 1.5)
    if key == "psnr_mean_uint8":
        for name, pts in (published or {}).items():
            ax.plot([p["bpp"] for p in pts], [p[key] for p in pts], linestyle="--", marker="x", alpha=0.6, label=name)
    ax.set(xlabel="bits per pixel (whole byte strings)",
           ylabel={"psnr_mean_uint8": "mean per-image PSNR, uint8 (dB)", "ssim_mean_uint8": "mean per-image SSIM, uint8"}.get(key, key),
           title=title, xlim=(0, None))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> int:
    """`python -m cae_helpers.bench rd ...`."""
    import matplotlib

    matplotlib.use("Agg")
    from .data import balanced_subset, load_cifar100
    from .io import command_line, versions, write_json

    p = argparse.ArgumentParser(prog="python -m cae_helpers.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    rd = sub.add_parser("rd", help="rate-distortion curves")
    rd.add_argument("--data", default=None, help="cifar-100-python.tar.gz or folder (default: $CIFAR100_PATH)")
    rd.add_argument("--model", action="append", default=[], help="autoencoder.keras to add (repeatable)")
    rd.add_argument("--learned", action="append", default=[],
                    help="a learned codec folder, or a folder of them (weights/learned): one RD point each (repeatable)")
    rd.add_argument("--steps", type=float, nargs="+", default=[0.02, 0.05, 0.1, 0.2, 0.4, 0.8],
                    help="quantisation steps for the entropy-coded latent, in units of the latent's std on training images")
    rd.add_argument("--per-class", type=int, default=0, help="only N test images per class (quick check); 0: all 10,000")
    rd.add_argument("--no-classic", action="store_true", help="skip WebP/JPEG/AVIF")
    rd.add_argument("--merge", action="append", default=[], help="rd.json of an earlier run on the same images whose curves to include")
    rd.add_argument("--out", required=True)
    sp = sub.add_parser("speed", help="training and coding throughput, peak memory")
    sp.add_argument("--data", default=None, help="cifar-100-python.tar.gz or folder (default: $CIFAR100_PATH)")
    sp.add_argument("--model", default=None, help="autoencoder.keras for the coding figures (default: untrained reference model)")
    sp.add_argument("--train-images", type=int, default=10000, help="training images per timed epoch")
    sp.add_argument("--step", type=float, default=0.5, help="codec quantisation step, in latent units")
    sp.add_argument("--repeats", type=int, default=2)
    sp.add_argument("--quality-epochs", type=int, default=0,
                    help="also train plain fp32 and the fast path this many epochs on all training images and compare test PSNR")
    sp.add_argument("--only-quality", action="store_true", help="run only the equal-epochs comparison")
    sp.add_argument("--full-run", default=None, metavar="DIR",
                    help="a finished `python -m cae_helpers train --out DIR` run, timed on this machine: its wall time and memory are summarised")
    sp.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if args.command == "speed":
        return _speed(args, argv)

    start = time.perf_counter()
    data = load_cifar100(args.data)
    test = balanced_subset(data.test, args.per_class) if args.per_class else data.test
    curves = {} if args.no_classic else classic_curves(test.images)
    images = f"{len(test)} CIFAR-100 test images from {data.source}"
    merged = []
    for path in args.merge:
        prev = json.loads(Path(path).read_text())
        if prev["images"] != images:
            raise SystemExit(f"error: {path} was measured on {prev['images']!r}, not {images!r}")
        curves |= prev["curves"]
        merged.append({"path": path, "command": prev["command"], "versions": prev["versions"]})
    for path in args.model:
        curves |= model_curves(path, data.train.images, test.images, tuple(args.steps))
    if args.learned:
        curves |= learned_curve(learned_dirs(args.learned), test.images)
    anchor = curves.get("WebP")
    summary = {name: {"bd_rate_vs_webp_percent": bd_rate(pts, anchor) if anchor else None,
                      **psnr_at_rates(pts)} for name, pts in curves.items()}
    published = published_curves()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "rd.json", {
        "command": command_line("python -m cae_helpers.bench", argv),
        "images": images, "merged_from": merged,
        "rate": "bits per pixel of whole byte strings (files for Pillow codecs; header included for ours), mean over images",
        "quality": "psnr_mean_uint8: mean of per-image PSNR on uint8 (MAX 255); pooled: PSNR of pooled MSE; SSIM: Gaussian 11x11, sigma 1.5",
        "summary": summary, "curves": curves,
        "published": {"source": PUBLISHED_SOURCE, "note": "CIFAR-10 test set, not measured here",
                      "curves": published, "psnr_at": {n: psnr_at_rates(p) for n, p in published.items()}},
        "wall_time_s": time.perf_counter() - start, "versions": versions(),
    })
    plot_rd(curves, title=f"CIFAR-100 test ({len(test)} images)", published=published).savefig(out / "rd.png", dpi=100)
    plot_rd(curves, key="ssim_mean_uint8", title=f"CIFAR-100 test ({len(test)} images)").savefig(out / "rd_ssim.png", dpi=100)
    for name, s in summary.items():
        print(f"{name:<45} BD-rate vs WebP {s['bd_rate_vs_webp_percent']}  " +
              "  ".join(f"{k}={v:.2f}" for k, v in s.items() if k.startswith("psnr_at") and v is not None))
    print(f"wrote {out / 'rd.json'}, {out / 'rd.png'} and {out / 'rd_ssim.png'}")
    return 0


def _speed(args, argv) -> int:
    """The speed subcommand: every figure in one process, one after another."""
    from .data import load_cifar100
    from .io import command_line, versions, write_json
    from .speed import (coding_throughput, equal_epochs_quality, full_run_summary, peak_rss_mb, pillow_throughput,
                        target_verdicts, train_throughput)
    from .training import resolve_precision

    data = load_cifar100(args.data)
    train_imgs = data.train.images[: args.train_images]
    result = {"command": command_line("python -m cae_helpers.bench", argv),
              "timing": "best of --repeats timed passes after an untimed warm-up; images/s",
              "train_images_per_epoch": len(train_imgs), "fast_precision": resolve_precision("auto")}
    if not args.only_quality:
        result["train_baseline_fp32_images_per_s"] = train_throughput(train_imgs, fast=False, repeats=args.repeats)
        result["train_fast_images_per_s"] = train_throughput(train_imgs, fast=True, repeats=args.repeats)
        result["train_speedup"] = result["train_fast_images_per_s"] / result["train_baseline_fp32_images_per_s"]
        result |= coding_throughput(args.model, data.train.images[:10000], data.test.images, args.step, args.repeats)
        result |= pillow_throughput(data.test.images, args.repeats)
    if args.quality_epochs:
        result |= equal_epochs_quality(data.train.images, data.test.images, args.quality_epochs)
    if args.full_run:
        result |= full_run_summary(args.full_run)
    result["peak_rss_mib"] = peak_rss_mb()
    result["targets"] = target_verdicts(result)
    result["versions"] = versions()
    out = Path(args.out)
    write_json(out / ("quality.json" if args.only_quality else "speed.json"), result)
    for k, v in result.items():
        if isinstance(v, float):
            print(f"{k:>40}: {v:,.2f}")
    for k, v in result["targets"].items():
        bound = f">= {v['min']:,.2f}" if "min" in v else f"<= {v['max']:,.2f}"
        print(f"target {k}: {v['value']:,.2f} {bound}: {'met' if v['met'] else 'NOT met'}")
    print(f"wrote {out / ('quality.json' if args.only_quality else 'speed.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
