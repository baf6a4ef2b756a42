"""Full-size photographs: our codec against WebP (method 6), JPEG and AVIF, each whole file counted.

    python -m cae_helpers bench photos --hyperprior cae_helpers/zoo/hyperprior --out runs/photos

The photographs are the ones that ship inside scikit-learn (china.jpg and flower.jpg, 427x640);
`--photos skimage` runs the independent check on four of scikit-image's (astronaut, chelsea, coffee,
rocket), which no training or design choice looked at. Each curve point is one quality setting:
bits per pixel = 8 x file bytes / pixels, averaged over the photos, and PSNR on uint8 (MAX 255)
of each photo, averaged; and each photograph's own BD-rate against WebP on it (the fairer figure where
an encoder's choices differ per photo, as `rescale="auto"`'s do). Writes photos.json (command, versions,
per-photo figures) and photos.png.
"""

from __future__ import annotations

import time

import numpy as np

from ..metrics import psnr_per_image
from .classic import CLASSIC, pillow_round_trip
from .curves import codec_name, coloured_name, point_label, rd_rounded_name, refined_name, rescaled_name, rounding_weight, writes_colour

OURS = "learned codec (hyperprior, 32x32 tiles)"  # byte format version 14 or 17 (4, 6, 8, 11 before): independent tiles
OURS_WHOLE = "learned codec (hyperprior, whole image)"  # version 13 or 16 (3, 5, 7, 10 before): one pass over the photo (the default for a codec trained on larger inputs)


SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")  # ordinary colour photographs bundled with scikit-image


def sample_photos(source: str = "sklearn") -> dict[str, np.ndarray]:
    """Sample photographs by name, uint8 (H, W, 3): scikit-learn's two, or scikit-image's four (the independent check)."""
    if source == "skimage":
        import skimage.data

        return {name: np.asarray(getattr(skimage.data, name)(), np.uint8) for name in SKIMAGE_PHOTOS}
    if source != "sklearn":
        raise ValueError(f"photos must be 'sklearn' or 'skimage', got {source!r}")
    from sklearn.datasets import load_sample_images

    sample = load_sample_images()
    return {name.rsplit("/", 1)[-1]: np.asarray(img, np.uint8) for name, img in zip(sample.filenames, sample.images)}


def _point(per_photo: dict[str, dict], **params) -> dict:
    """A curve point: the per-photo figures and their means."""
    return {**params, "bpp": float(np.mean([p["bpp"] for p in per_photo.values()])),
            "psnr_mean_uint8": float(np.mean([p["psnr"] for p in per_photo.values()])), "photos": per_photo}


def _figures(image: np.ndarray, nbytes: int, decoded: np.ndarray, seconds: float) -> dict:
    h, w = image.shape[:2]
    return {"bytes": int(nbytes), "bpp": 8 * nbytes / (h * w), "psnr": float(psnr_per_image(image[None], decoded[None])[0]),
            "seconds": seconds}


def classic_photo_curves(photos: dict[str, np.ndarray]) -> dict[str, list[dict]]:
    """Each classic codec's quality sweep on every photo."""
    from tqdm.auto import tqdm

    curves = {}
    for name, (fmt, knob, values, fixed) in CLASSIC.items():
        points = []
        for v in tqdm(values, desc=name, unit="setting", dynamic_ncols=True):
            per = {}
            for pname, img in photos.items():
                files, dec, enc_s, dec_s = pillow_round_trip(img[None], fmt, **{knob: v}, **fixed)
                per[pname] = _figures(img, len(files[0]), dec[0], enc_s + dec_s)
            points.append(_point(per, **{knob: v}))
        curves[name] = points
    return curves


def hyperprior_photo_curve(folder, photos: dict[str, np.ndarray], qualities=None, refine: int = 0,
                           rescale: bool = False, colour: bool = True, rounding: float | None = None) -> dict[str, list[dict]]:
    """Our codec at each quality on every photo, through real bytes: in 32x32 tiles, whole, whole refined (`refine` > 0 steps),
    and with `rescale` whole at the size chosen per photo (`rescale="auto"`; refined too if `refine`); each with
    mean-colour corrections where the codec ships their tables, `colour` is on and they pay, and rate-distortion
    rounding of weight `rounding` (0: the nearest integer; None: the default), named so where its weight is above 0."""
    from tqdm.auto import tqdm

    from ..codec import HyperpriorCodec

    codec = HyperpriorCodec.load(folder)
    curves = {}
    tiled, whole = codec_name(OURS, folder), codec_name(OURS_WHOLE, folder)
    layouts = [(tiled, True, 0, None), (whole, False, 0, None)] + ([(refined_name(whole, refine), False, refine, None)] if refine else [])
    if rescale:
        layouts += [(rescaled_name(whole), False, 0, "auto")] + ([(refined_name(rescaled_name(whole), refine), False, refine, "auto")] if refine else [])
    if writes_colour(folder, colour):  # named last, as `bench rd` names its curves
        layouts = [(coloured_name(name), *rest) for name, *rest in layouts]
    weight = rounding_weight(rounding)
    if weight > 0:
        layouts = [(rd_rounded_name(name), *rest) for name, *rest in layouts]
    levels = list(qualities or range(1, codec.levels + 1))
    for name, tiles, steps, scale in layouts:
        points = []
        # one bar per layout, one tick per photo coded (refined, a photo takes a minute or more)
        with tqdm(total=len(levels) * len(photos), desc=name, unit="photo", dynamic_ncols=True) as bar:
            for q in levels:
                per = {}
                for pname, img in photos.items():
                    start = time.perf_counter()
                    blob = codec.compress_image(img, q, tiles=tiles, refine=steps, rescale=scale, colour=colour, rounding=weight)
                    dec = codec.decompress_image(blob)
                    header = codec.read_header(blob)
                    per[pname] = _figures(img, len(blob), dec, time.perf_counter() - start) | {"scale16": header.scale16,
                                                                                               "colour": header.colour}
                    bar.update()
                points.append(_point(per, quality=q, layout="32x32 tiles" if tiles else "whole image", refine_steps=steps, rescale=scale,
                                     rounding_weight=weight))
                bar.set_postfix_str(point_label(q, points[-1]))
        curves[name] = points
    return curves


def photo_curve(curve: list[dict], name: str) -> list[dict]:
    """One photograph's own curve (bpp, PSNR) out of a curve over the photos."""
    return [{"bpp": p["photos"][name]["bpp"], "psnr_mean_uint8": p["photos"][name]["psnr"]} for p in curve]


def run_photos(args, argv) -> int:
    """The `bench photos` subcommand."""
    from ..io import command_line, peak_rss_mb, versions, write_json
    from ..plots import plot_rd
    from .curves import bd_rate, psnr_at_rates

    start = time.perf_counter()
    photos = sample_photos(args.photos)
    curves = classic_photo_curves(photos)
    for folder in args.hyperprior:
        curves |= hyperprior_photo_curve(folder, photos, args.qualities, args.refine, args.rescale, args.colour, args.rounding)
    anchor = curves["WebP"]
    summary = {n: {"bd_rate_vs_webp_percent": bd_rate(p, anchor), **psnr_at_rates(p, (0.25, 0.5, 1, 2)),
                   "bd_rate_vs_webp_per_photo": {name: bd_rate(photo_curve(p, name), photo_curve(anchor, name)) for name in photos}}
               for n, p in curves.items()}
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    names = ", ".join(f"{k} {v.shape[1]}x{v.shape[0]}" for k, v in photos.items())
    write_json(out / "photos.json", {
        "command": command_line("python -m cae_helpers", argv), "images": f"{'scikit-image' if args.photos == 'skimage' else 'scikit-learn'}'s sample photographs ({names})",
        "rate": "8 x whole file bytes / pixels, mean over the photos", "quality": "PSNR on uint8 (MAX 255), mean over the photos",
        "summary": summary, "curves": curves, "wall_time_s": time.perf_counter() - start, "peak_rss_mib": peak_rss_mb(),
        "versions": versions()})
    plot_rd(curves, title=f"full-size photographs ({names})").savefig(out / "photos.png", dpi=100, bbox_inches="tight")
    for name, s in summary.items():
        print(f"{name:<40} BD-rate vs WebP {s['bd_rate_vs_webp_percent']}  "
              + "  ".join(f"{k}={v:.2f}" for k, v in s.items() if k.startswith("psnr_at") and v is not None)
              + "  per photo: " + ", ".join(f"{k} {v:+.1f} %" for k, v in s["bd_rate_vs_webp_per_photo"].items() if v is not None))
    print(f"wrote {out / 'photos.json'} and {out / 'photos.png'}")
    return 0
