"""What other shapes of mean-colour correction would buy beside format 22's flat 32x32 blocks: a probe, nothing built.

    python tools/colour_field_probe.py --data ../shared/data/cifar-100-python.tar.gz > results/colour-field-probe/probe.log

Byte format 22-24 adds one integer per 32x32 block and channel, flat over the block (`colour`). Here, on the default
codec's plain bytes (format 19-21, `colour=False`) decoded: the same correction measured with a common cost model
beside flat blocks of 16 and 64, and a smooth field (the block values at the blocks' centres, interpolated bilinearly
between them and held flat beyond the outer centres; the values that fit the error best in least squares, rounded).
Cost: each value's information content under a discretised Laplacian whose scale (the values' mean magnitude, at
least 0.05) is fitted per quality and shape on 1,000 CIFAR-100 *training* images (half zoomed crops), never on the
sets measured; kept per image only where bits/pixel + lambda x MSE falls (as the codec keeps format 22). Measured:
the 520 photo crops and scikit-learn's two photographs coded whole at full size; mean bpp and mean per-image PSNR.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from sklearn.datasets import load_sample_images

from cae_helpers.codec import shipped_codec
from cae_helpers.data import load_cifar100, photo_crops
from cae_helpers.rescale import loss
from cae_helpers.training.loop import zoom_and_flip_numpy
from dc_correction_probe import keep_or_not, laplace_bits

QUALITIES = (2, 3, 4, 5)
SHAPES = ("flat 32", "flat 16", "flat 64", "smooth 32")


def _interpolation(n: int, block: int) -> np.ndarray:
    """(n, k) weights of k = ceil(n / block) control points at block centres: linear between centres, flat beyond the outer ones."""
    k = -(-n // block)
    centres = np.minimum(np.arange(k) * block + (block - 1) / 2, n - 1)
    out = np.zeros((n, k))
    for i, x in enumerate(np.arange(n)):
        j = np.searchsorted(centres, x)
        if j == 0 or k == 1:
            out[i, 0 if j == 0 else k - 1] = 1.0
        elif j >= k:
            out[i, k - 1] = 1.0
        else:
            t = (x - centres[j - 1]) / (centres[j] - centres[j - 1])
            out[i, j - 1], out[i, j] = 1 - t, t
    return out


def field(err: np.ndarray, shape: str) -> tuple[np.ndarray, np.ndarray]:
    """(correction field (H, W, 3), integer values sent) of an error image (H, W, 3) for one shape of correction."""
    kind, block = shape.split()
    block = int(block)
    h, w, _ = err.shape
    if kind == "flat":  # each pixel belongs to one block: the fit is the block means
        ry, rx = np.eye(-(-h // block))[np.arange(h) // block], np.eye(-(-w // block))[np.arange(w) // block]
    else:
        ry, rx = _interpolation(h, block), _interpolation(w, block)
    py, px = np.linalg.pinv(ry), np.linalg.pinv(rx)  # least squares of a separable fit: C = pinv(Ry) E pinv(Rx)^T
    values = np.rint(np.einsum("ah,hwc,bw->abc", py, err, px)).astype(np.int64)
    return np.einsum("ha,abc,wb->hwc", ry, values.astype(np.float64), rx), values


def plain_pairs(codec, images: list[np.ndarray], quality: float, rescale: str | None = None) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """(image, decoded, bytes) of each image coded plain (format 19-21), whole at full size (`rescale` "auto": the size chosen per image)."""
    if images[0].shape == (32, 32, 3):
        blobs = codec.compress(np.stack(images), quality, colour=False)
        return list(zip(images, codec.decompress(blobs), map(len, blobs)))
    blobs = [codec.compress(img[None], quality, colour=False, rescale=rescale)[0] for img in images]
    return [(img, codec.decompress([b])[0], len(b)) for img, b in zip(images, blobs)]


def corrected(img: np.ndarray, dec: np.ndarray, shape: str, scale: float) -> tuple[np.ndarray, float]:
    """(the decoded image with the shape's correction, uint8 range, as float; the correction's bits)."""
    corr, values = field(img.astype(np.float64) - dec, shape)
    return np.clip(np.rint(dec + corr), 0, 255), laplace_bits(values, scale)


def measure(pairs, shape: str, scale: float | dict, lmbda: float) -> dict:
    """Mean bpp and per-image PSNR, plain and with the shape's correction kept where it lowers the loss.

    shape "choice A/B": per image the one of "flat A" and "flat B" of lower loss, plus a bit to say which (`scale`: a
    dict of each one's scale).
    """
    out = {"bpp": [], "psnr": [], "bpp_dc": [], "psnr_dc": [], "kept": []}
    for img, dec, nbytes in pairs:
        if shape.startswith("choice"):
            options = [corrected(img, dec, f"flat {b}", scale[f"flat {b}"]) for b in shape.split()[1].split("/")]
            fixed, extra = min(options, key=lambda o: loss(img, o[0], o[1] / 8, lmbda))  # the codec's loss, bits as bytes
            extra += 1.0  # which block size
        else:
            fixed, extra = corrected(img, dec, shape, scale)
        keep_or_not(out, img, dec, fixed, 8 * nbytes, extra, lmbda)
    return {k: float(np.mean(v)) for k, v in out.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.environ.get("CIFAR100_PATH"), help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    p.add_argument("--qualities", type=float, nargs="+", default=QUALITIES, help=f"default {QUALITIES}")
    p.add_argument("--rescale", action="store_true", help="code the photographs with the size chosen per image (the command "
                   "line's default) before correcting them at full size, as format 24 does; the crops are 32x32 either way")
    p.add_argument("--choice", action="store_true", help="also the block size chosen per image, 32 or 64 (one bit more)")
    args = p.parse_args()
    codec = shipped_codec()
    data = load_cifar100(args.data)
    zoomed = zoom_and_flip_numpy(data.train.images[:1000].astype(np.float32) / 255, np.random.default_rng(0), 0.5, 4.0)
    fit = list(np.clip(np.rint(zoomed * 255), 0, 255).astype(np.uint8))
    sets = {"photo crops (520)": list(photo_crops()[0]),
            "scikit-learn photographs, whole (2)": [np.asarray(i) for i in load_sample_images().images]}
    print("# default codec, plain bytes (format 19-21) decoded; corrections under a Laplacian fitted per quality and shape on "
          "1,000 CIFAR-100 training images; kept per image where bits/pixel + lambda x MSE falls")
    if args.rescale or args.choice:
        print(f"# photographs coded {'with the size chosen per image' if args.rescale else 'at full size'}"
              f"{'; choice 32/64: per image the flat block size of lower loss, one bit more' if args.choice else ''}")
    for q in args.qualities:
        lmbda = codec.lmbda(q - 1)
        fit_pairs = plain_pairs(codec, fit, q)
        pairs = {name: plain_pairs(codec, images, q, "auto" if args.rescale else None) for name, images in sets.items()}
        scales = {}
        for shape in SHAPES + (("choice 32/64",) if args.choice else ()):
            if shape.startswith("choice"):
                scale = scales
            else:
                values = np.concatenate([field(i.astype(np.float64) - d, shape)[1].ravel() for i, d, _ in fit_pairs])
                scale = scales[shape] = max(0.05, float(np.mean(np.abs(values))))
            for name, found in pairs.items():
                r = measure(found, shape, scale, lmbda)
                shown = "" if isinstance(scale, dict) else f"; scale {scale:.2f}"
                print(f"quality {q:g} {shape:<9} ({name}): {r['bpp']:.4f} bpp {r['psnr']:.2f} dB -> {r['bpp_dc']:.4f} bpp "
                      f"{r['psnr_dc']:.2f} dB (kept on {100 * r['kept']:.0f} %{shown})", flush=True)


if __name__ == "__main__":
    main()
