"""What a per-block mean-colour correction after the decoder would buy: a probe on real bytes (built since: byte format 22-24, `colour`).

    python tools/dc_correction_probe.py --data ../shared/data/cifar-100-python.tar.gz > results/dc-correction-probe/probe.log

The default codec's decoded images (its real bytes, decoded by `decompress`) are off by a mean colour per region on
smooth content (`tools/smooth_probe.py`). Suppose the encoder, which can decode its own bytes, sent for each B x B block
of the decoded image (B = 32; edge blocks partial) and each channel the block's mean error rounded to a step s, and
the decoder added it to the block. Its cost: every value coded under a discretised Laplacian whose scale is fitted per
quality on CIFAR-100 *training* images (the first 1,000, half of them zoomed crops as training's augmentation makes),
never on the sets measured. The encoder keeps it for an image only where it lowers the codec's own loss,
bits / pixels + lambda * 255^2 * MSE. Measured: the first 1,000 CIFAR-100 test images (every tenth), the 520 photo
crops and scikit-learn's two photographs coded whole; mean per-image PSNR on uint8, bpp of the real bytes plus the
corrections' information content (no format is written; a version byte would say whether an image carries them).
`--rescale-auto`: only the photographs, each coded at the size the encoder chooses. `--oracle Q`: instead, at quality
Q on the CIFAR images and the photo crops, the mean error's share of the squared error (pooled and per image) and the
PSNR with each image's mean error removed, free.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from sklearn.datasets import load_sample_images

from cae_helpers.codec import shipped_codec
from cae_helpers.data import load_cifar100, photo_crops
from cae_helpers.training.loop import zoom_and_flip_numpy

BLOCK = 32
QUALITIES = (1, 1.5625, 2, 3, 4)
STEPS = (1, 2)


def block_means(err: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """(H, W, 3) error -> (ceil(H / B), ceil(W / B), 3) mean error per block (edge blocks partial)."""
    h, w, _ = err.shape
    rows = [np.add.reduceat(err[a:a + block].sum(axis=0), np.arange(0, w, block), axis=0) for a in range(0, h, block)]
    counts = np.outer(np.diff(np.r_[np.arange(0, h, block), h]), np.diff(np.r_[np.arange(0, w, block), w]))  # pixels a block
    return np.stack(rows) / counts[..., None]


def corrected(decoded: np.ndarray, original: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    """(corrected uint8 image, the integer symbols sent): each block's mean error (original - decoded) in steps of `step`."""
    err = original.astype(np.float64) - decoded
    symbols = np.round(block_means(err) / step).astype(np.int64)  # (bh, bw, 3)
    up = np.repeat(np.repeat(symbols * step, BLOCK, axis=0), BLOCK, axis=1)[:decoded.shape[0], :decoded.shape[1]]
    return np.clip(decoded + up, 0, 255).astype(np.uint8), symbols


def laplace_bits(symbols: np.ndarray, scale: float) -> float:
    """Information content in bits of integers under a Laplacian of `scale` discretised to the integers."""
    a = np.exp(-1.0 / scale)
    p = np.where(symbols == 0, (1 - a) / (1 + a), (1 - a) / (1 + a) * a ** np.abs(symbols))
    return float(-np.log2(np.maximum(p, 1e-12)).sum())


def fit_scale(codec, images: np.ndarray, quality: float, step: int) -> float:
    """The Laplacian scale (mean |symbol|, at least 0.05) of the corrections on training images at a quality."""
    decoded = codec.decompress(codec.compress(images, quality, colour=False))
    symbols = [corrected(d, o, step)[1] for d, o in zip(decoded, images)]
    return max(0.05, float(np.mean(np.abs(np.concatenate([s.ravel() for s in symbols])))))


def measure(codec, images: list[np.ndarray], quality: float, step: int, scale: float, rescale=None) -> dict:
    """Mean bpp and per-image PSNR without and with the corrections (kept per image where they lower the loss).

    `rescale`: the photographs' coding size as `compress` takes it (None: full size; "auto": the command line's choice).
    """
    lmbda = codec.lmbda(quality - 1)
    out = {"bpp": [], "psnr": [], "bpp_dc": [], "psnr_dc": [], "kept": []}  # "_dc": with the corrections where kept
    if images[0].shape == (32, 32, 3):  # a batch, coded as it is
        blobs = codec.compress(np.stack(images), quality, colour=False)
        decoded = list(codec.decompress(blobs))
    else:  # photographs of their own sizes, one at a time
        blobs = [codec.compress(img[None], quality, rescale=rescale, colour=False)[0] for img in images]
        decoded = [codec.decompress([b])[0] for b in blobs]
    for img, blob, dec in zip(images, blobs, decoded):
        fixed, symbols = corrected(dec.astype(np.float64), img, step)
        keep_or_not(out, img, dec, fixed, 8 * len(blob), laplace_bits(symbols, scale), lmbda)
    return {k: float(np.mean(v)) for k, v in out.items()}


def keep_or_not(out: dict, img: np.ndarray, dec: np.ndarray, fixed: np.ndarray, bits: int, extra: float, lmbda: float) -> None:
    """Append one image's bpp and PSNR without and with a correction of `extra` bits, kept where the codec's loss falls."""
    pixels = img.shape[0] * img.shape[1]
    mse, mse_dc = (np.mean((np.asarray(x, np.float64) - img) ** 2) for x in (dec, fixed))
    # the codec's loss, bpp + lambda * 255^2 * MSE of [0, 1] pixels, is bpp + lambda * MSE in 8-bit units
    keep = (bits + extra) / pixels + lmbda * mse_dc < bits / pixels + lmbda * mse
    out["bpp"].append(bits / pixels)
    out["psnr"].append(10 * np.log10(255**2 / max(mse, 1e-10)))
    out["bpp_dc"].append((bits + keep * extra) / pixels)
    out["psnr_dc"].append(10 * np.log10(255**2 / max(mse_dc if keep else mse, 1e-10)))
    out["kept"].append(keep)


def oracle(codec, sets: dict, quality: float) -> None:
    """Print each set's mean-error share of the squared error and its PSNR with each image's mean error removed (no cost)."""
    for name, images in sets.items():
        images = np.stack(images)
        err = codec.decompress(codec.compress(images, quality, colour=False)).astype(np.float64) - images
        mse, dc = np.mean(err**2, axis=(1, 2, 3)), np.mean(np.mean(err, axis=(1, 2)) ** 2, axis=1)  # (N,) each
        psnr = lambda m: float(np.mean(10 * np.log10(255**2 / m)))  # noqa: E731
        print(f"oracle, quality {quality} ({name}): mean error {dc.mean() / mse.mean():.3f} of the squared error pooled, "
              f"{np.mean(dc / mse):.3f} per image; PSNR {psnr(mse):.2f} dB -> {psnr(mse - dc):.2f} dB without it", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.environ.get("CIFAR100_PATH"), help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    p.add_argument("--rescale-auto", action="store_true",
                   help="only the whole photographs, each coded at the size the encoder chooses (the command line's default)")
    p.add_argument("--oracle", type=float, default=None, metavar="Q", help="only the free removal of each image's mean error at quality Q")
    args = p.parse_args()
    codec = shipped_codec()
    data = load_cifar100(args.data)
    if args.oracle is not None:
        oracle(codec, {"CIFAR-100 test (1,000)": list(data.test.images[::10]), "photo crops (520)": list(photo_crops()[0])}, args.oracle)
        return
    train = data.train.images[:1000]
    zoomed = zoom_and_flip_numpy(train.astype(np.float32) / 255, np.random.default_rng(0), 0.5, 4.0)
    fit_images = np.clip(np.rint(zoomed * 255), 0, 255).astype(np.uint8)
    photos = {"scikit-learn photographs, whole (2)": [np.asarray(i) for i in load_sample_images().images]}
    sets = photos if args.rescale_auto else {"CIFAR-100 test (1,000)": list(data.test.images[::10]),
                                             "photo crops (520)": list(photo_crops()[0])} | photos
    rescale = "auto" if args.rescale_auto else None
    print(f"# default codec; blocks {BLOCK}x{BLOCK}; Laplacian scales fitted on {len(fit_images)} CIFAR-100 training images"
          + ("; photographs at the size the encoder chooses (rescale auto)" if rescale else ""))
    for step in STEPS:
        for q in QUALITIES:
            scale = fit_scale(codec, fit_images, q, step)
            for name, images in sets.items():
                r = measure(codec, images, q, step, scale, rescale)
                print(f"step {step} quality {q} ({name}): {r['bpp']:.4f} bpp {r['psnr']:.2f} dB -> {r['bpp_dc']:.4f} bpp "
                      f"{r['psnr_dc']:.2f} dB (corrections kept on {100 * r['kept']:.0f} %; scale {scale:.2f})", flush=True)


if __name__ == "__main__":
    main()
