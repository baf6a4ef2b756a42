"""Rate-distortion benchmark: our codecs against Pillow's WebP, JPEG and AVIF on the same images.

    python -m cae_helpers bench rd --data cifar-100-python.tar.gz --learned weights/learned --out runs/rd

Every rate is measured from whole byte strings (files for the classic codecs, header
included for ours); quality is mean per-image PSNR on uint8 (MAX 255), pooled PSNR and
mean SSIM, on the same images. Writes rd.json (with the command and versions), rd.png
(PSNR, with published CIFAR-10 curves dashed for scale) and rd_ssim.png.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .classic import classic_curves
from .curves import (PUBLISHED_SOURCE, bd_rate, codec_name, coloured_name, point_label, psnr_at_rates, published_curves, rd_point,
                     rd_rounded_name, refined_name, rescaled_name, rounding_weight, writes_colour)


def coded_point(images: np.ndarray, codec, **params) -> dict:
    """Compress and decompress `images` with a latent `codec` (entropy.coder), timed: one RD point from real bytes."""
    from ..entropy.coder import compress, decompress

    return timed_point(images, lambda x: compress(x, codec), lambda b: decompress(b, codec), **params)


def timed_point(images: np.ndarray, compress, decompress, **params) -> dict:
    """One RD point from real byte strings: compress(images) -> list[bytes], decompress(list) -> uint8 images, timed.

    Besides the means, the point holds the bytes-per-image percentiles (p10, p50, p90): how far the rate follows the content.
    """
    start = time.perf_counter()
    blobs = compress(images)
    c_s = time.perf_counter() - start
    start = time.perf_counter()
    out = decompress(blobs)
    d_s = time.perf_counter() - start
    nbytes = np.array([len(b) for b in blobs])
    p10, p50, p90 = np.percentile(nbytes, [10, 50, 90])
    counts, edges = np.histogram(nbytes, bins=np.geomspace(max(1, nbytes.min()), nbytes.max() + 1, 31))
    return rd_point(images, out, nbytes, c_s, d_s, **params) | {
        "bytes_p10": float(p10), "bytes_p50": float(p50), "bytes_p90": float(p90),
        "bytes_histogram": {"edges": edges.tolist(), "counts": counts.tolist()}}


HYPERPRIOR = "learned codec (hyperprior, one model)"


def hyperprior_qualities(folder: str, qualities: tuple[float, ...] | None) -> tuple[float, ...]:
    """The qualities asked for, or every level of the codec saved in `folder`."""
    from ..hyperprior import load_config

    return tuple(qualities) if qualities else tuple(range(1, load_config(folder).levels + 1))


def hyperprior_curve_name(folder: str, refine: int = 0, rescale: "str | None" = None, max_bytes: int | None = None,
                          colour: bool = True, rounding: float | None = None) -> str:
    """The curve's name in rd.json: the codec's, then the size choice, the colour corrections, the refinement, the byte
    budget and rate-distortion rounding (`rounding`: its weight, None: the encoder's default) where used."""
    name = rescaled_name(codec_name(HYPERPRIOR, folder)) if rescale else codec_name(HYPERPRIOR, folder)
    name = refined_name(name, refine) if refine else name
    name = coloured_name(name) if writes_colour(folder, colour) else name
    name = f"{name[:-1]}, at most {max_bytes} bytes an image)" if max_bytes else name
    return rd_rounded_name(name) if rounding_weight(rounding) > 0 else name



def hyperprior_curve(folder: str, images: np.ndarray, qualities: tuple[float, ...] | None = None, refine: int = 0,
                     rescale: "str | None" = None, max_bytes: int | None = None, colour: bool = True,
                     rounding: float | None = None) -> dict[str, list[dict]]:
    """The shipped (or any saved) hyperprior codec at each quality, coded for real through bytes.

    `refine`: latent refinement steps; `rescale`: "auto" to let the encoder choose each image's coding size;
    `max_bytes`: each quality is the highest, each image coded at the highest that fits in that many bytes;
    `colour`: mean-colour corrections where the codec ships their tables and they pay (False: versions 19-21);
    `rounding`: the encoder's rate-distortion rounding weight (0: the nearest integer; None: the default).
    """
    from tqdm.auto import tqdm

    from ..codec import HyperpriorCodec

    codec = HyperpriorCodec.load(folder)
    qualities = hyperprior_qualities(folder, qualities)
    name = hyperprior_curve_name(folder, refine, rescale, max_bytes, colour, rounding)
    weight = rounding_weight(rounding)
    points = []
    bar = tqdm(qualities, desc=f"{name} on {len(images):,} images", unit="quality", dynamic_ncols=True)
    for q in bar:
        blobs: list[bytes] = []  # kept to count the images coded at a smaller size

        def compress(x: np.ndarray, q: float = q, blobs: list = blobs) -> list[bytes]:
            blobs[:] = codec.compress(x, q, progress=refine > 0, refine=refine, rescale=rescale, max_bytes=max_bytes, colour=colour,
                                      rounding=weight)
            return blobs

        point = timed_point(images, compress, codec.decompress, quality=q, weights=str(folder), refine_steps=refine, rescale=rescale,
                            rounding_weight=weight)
        headers = [codec.read_header(b) for b in blobs]
        points.append(point | {"smaller_copy_share": float(np.mean([h.rescaled for h in headers])),
                               "colour_share": float(np.mean([h.colour for h in headers]))}
                      | ({"max_bytes": max_bytes, "quality_mean": float(np.mean([1 + h.level16 / 16 for h in headers]))} if max_bytes else {}))
        bar.set_postfix_str(point_label(q, point))
    return {name: points}


def model_curves(model_path: str, train_images: np.ndarray, images: np.ndarray, steps: tuple[float, ...]) -> dict[str, list[dict]]:
    """The autoencoder's float32 code, its 8-bit code, and the entropy-coded codec at each relative step."""
    from ..entropy.coder import codec_from_latents, decode_latents, encode_latents
    from ..training import load_autoencoder

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


def learned_curve(dirs: list[str], images: np.ndarray) -> dict[str, list[dict]]:
    """One RD point per saved learned codec (a lambda each), coded for real through bytes."""
    from ..entropy.coder import codec_from_prior
    from ..learned import load_learned

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


def run_rd(args, argv) -> int:
    """The `bench rd` subcommand: curves for the chosen codecs on the test images, rd.json and the plots."""
    from ..data import balanced_subset, load_cifar100
    from ..io import command_line, versions, write_json
    from ..plots import plot_rd

    start = time.perf_counter()
    data = load_cifar100(args.data)
    if args.images == "photos":
        from ..data import photo_crops

        crops, names = photo_crops()
        test = type(data.test)(crops, np.zeros(len(crops), np.int64), np.zeros(len(crops), np.int64))
        images = f"{len(crops)} 32x32 crops of scikit-learn's sample photographs ({', '.join(names)})"
        title = f"photo crops ({len(crops)}, not CIFAR)"
    else:
        test = balanced_subset(data.test, args.per_class) if args.per_class else data.test
        images = f"{len(test)} CIFAR-100 test images from {data.source}"
        title = f"CIFAR-100 test ({len(test)} images)"
    curves = {} if args.no_classic else classic_curves(test.images)
    merged = []
    for path in args.merge:
        prev = json.loads(Path(path).read_text())
        if prev["images"] != images:
            raise SystemExit(f"error: {path} was measured on {prev['images']!r}, not {images!r}")
        curves |= prev["curves"]
        merged.append({"path": path, "command": prev["command"], "versions": prev["versions"],
                       "merged_from": prev.get("merged_from", [])})  # the chain stays readable when merging a merge
    for path in args.model:
        curves |= model_curves(path, data.train.images, test.images, tuple(args.steps))
    if args.learned:
        curves |= learned_curve(learned_dirs(args.learned), test.images)
    qualities = tuple(args.qualities) if args.qualities else None
    for folder in args.hyperprior:
        wanted = hyperprior_qualities(folder, qualities)
        for refine in sorted({0, args.refine}):  # plain, then refined, each at full size then the size chosen
            for rescale in (None, "auto") if args.rescale else (None,):
                name = hyperprior_curve_name(folder, refine, rescale, args.max_bytes, args.colour, args.rounding)
                if tuple(p["quality"] for p in curves.get(name, [])) == wanted:  # merged, same images
                    print(f"{name}: kept from --merge, not coded again (leave out that --merge to measure it anew)")
                else:
                    curves |= hyperprior_curve(folder, test.images, qualities, refine, rescale, args.max_bytes, args.colour, args.rounding)
    anchor = curves.get("WebP")
    summary = {name: {"bd_rate_vs_webp_percent": bd_rate(pts, anchor) if anchor else None,
                      **psnr_at_rates(pts)} for name, pts in curves.items()}
    published = published_curves()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "rd.json", {
        "command": command_line("python -m cae_helpers", argv),
        "images": images, "title": title, "merged_from": merged,
        "rate": "bits per pixel of whole byte strings (files for Pillow codecs; header included for ours), mean over images",
        "quality": "psnr_mean_uint8: mean of per-image PSNR on uint8 (MAX 255); pooled: PSNR of pooled MSE; SSIM: Gaussian 11x11, sigma 1.5",
        "summary": summary, "curves": curves,
        "published": {"source": PUBLISHED_SOURCE, "note": "CIFAR-10 test set, not measured here",
                      "curves": published, "psnr_at": {n: psnr_at_rates(p) for n, p in published.items()}},
        "wall_time_s": time.perf_counter() - start, "versions": versions(),
    })
    shown = published if args.images == "cifar" else None  # published curves are CIFAR-10: not comparable on photos
    plot_rd(curves, title=title, published=shown).savefig(out / "rd.png", dpi=100, bbox_inches="tight")
    plot_rd(curves, key="ssim_mean_uint8", title=title).savefig(out / "rd_ssim.png", dpi=100, bbox_inches="tight")
    for name, s in summary.items():
        print(f"{name:<45} BD-rate vs WebP {s['bd_rate_vs_webp_percent']}  " +
              "  ".join(f"{k}={v:.2f}" for k, v in s.items() if k.startswith("psnr_at") and v is not None))
    print(f"wrote {out / 'rd.json'}, {out / 'rd.png'} and {out / 'rd_ssim.png'}")
    return 0
