"""RD points and curve maths: one point from real byte strings, BD-rate, quality at a rate, gap tables, published curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..metrics import bits_per_pixel, mean_psnr, pooled_psnr, ssim_per_image
from ..validation import check_uint8_images


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


# Published curves on the CIFAR-10 test set (10,000 images), for comparison only: not measured here.
PUBLISHED = {
    "Ballé 2018 hyperprior (CIFAR-10, published)": [(0.29, 22.9), (1.05, 29.7), (2.78, 37.4), (4.05, 41.5)],
    "Minnen 2020 (CIFAR-10, published)": [(0.34, 24.2), (1.12, 30.8), (2.80, 38.1), (4.10, 42.0)],
    "BPG (CIFAR-10, published)": [(0.74, 25.0), (1.74, 31.0), (3.53, 36.8)],
    # CompressAI's own models trained on CIFAR-10 by the COIN++ authors: issue 13's first aims
    "CompressAI bmshj2018-hyperprior trained on CIFAR-10 (COIN++, published)": [
        (0.19, 19.203), (0.37, 22.577), (0.74646, 26.82653), (1.11199, 29.49624), (1.63093, 32.12594),
        (2.11280, 34.11648), (2.79074, 36.88502), (3.23301, 38.33297), (4.14434, 41.14400), (4.83, 43.18487)],
    "CompressAI cheng2020-anchor trained on CIFAR-10 (COIN++, published)": [
        (0.39147, 22.63254), (0.55443, 24.53074), (1.32, 31.822), (1.73158, 34.86182), (2.25754, 37.58709),
        (2.63637, 39.01963), (3.34170, 41.59367), (4.00814, 43.57520)],
}
PUBLISHED_SOURCE = ("Ballé 2018 and Minnen 2020: Yang et al., ICLR 2025 (UQDM), mandt-lab/uqdm eval/cifar.yml; "
                    "BPG: as published on the CIFAR-10 test set (figures quoted in issue 5); CompressAI bmshj2018-hyperprior "
                    "and cheng2020-anchor trained on CIFAR-10: Dupont et al., TMLR 2022 (COIN++), EmilienDupont/coinpp "
                    "results/cifar10/compressai-*.json at commit f90a984")


def published_curves() -> dict[str, list[dict]]:
    """The published CIFAR-10 curves as RD points (bpp, psnr_mean_uint8)."""
    return {name: [{"bpp": r, "psnr_mean_uint8": q} for r, q in pts] for name, pts in PUBLISHED.items()}


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


def codec_name(base: str, folder) -> str:
    """The curve name of codec `base` (ending in ")") for a saved codec: the first shipped one (`hyperprior`) keeps it, others add their folder name."""
    name = Path(folder).name
    return base if name == "hyperprior" else f"{base[:-1]}: {name})"


def refined_name(base: str, steps: int) -> str:
    """The curve name of codec `base` (a name ending in ")") with `steps` steps of encoder-side latent refinement."""
    return f"{base[:-1]}, refined {steps} steps)"


def rescaled_name(base: str) -> str:
    """The curve name of codec `base` (a name ending in ")") choosing its coding size per image (`rescale="auto"`)."""
    return f"{base[:-1]}, size chosen per image)"


def coloured_name(base: str) -> str:
    """The curve name of codec `base` (a name ending in ")") adding mean-colour corrections where they pay (byte format 22-24)."""
    return f"{base[:-1]}, mean-colour corrections)"


def rd_rounded_name(base: str) -> str:
    """The curve name of codec `base` (a name ending in ")") whose encoder rounds by rate and distortion (`entropy.rounding`)."""
    return f"{base[:-1]}, rate-distortion rounding)"


def rounding_weight(rounding: float | None) -> float:
    """The rate-distortion rounding weight an encoder asked for `rounding` uses (None: the default, `RD_ROUNDING_WEIGHT`)."""
    from ..entropy.rounding import RD_ROUNDING_WEIGHT

    return RD_ROUNDING_WEIGHT if rounding is None else float(rounding)


def writes_colour(folder, colour: bool = True) -> bool:
    """Whether a saved codec, asked for `colour`, adds mean-colour corrections: it ships their tables and per-level z tables."""
    from ..codec import saved_codec_writes_colour

    return colour and saved_codec_writes_colour(folder)


def point_label(quality, point: dict) -> str:
    """A progress bar's note for one measured quality: "q3: 1.234 bpp, 30.12 dB"."""
    return f"q{quality}: {point['bpp']:.3f} bpp, {point['psnr_mean_uint8']:.2f} dB"


def nearest_point(curve: list[dict], bpp: float) -> dict:
    """The measured point of `curve` whose rate is nearest `bpp` (in log-rate)."""
    if not curve:
        raise ValueError("empty curve")
    return min(curve, key=lambda p: abs(np.log(p["bpp"] / bpp)))
