"""Image-quality and size metrics, every variant named.

PSNR variants (all in dB):
- mean per-image PSNR: PSNR of each image's own MSE, then the mean over images. This is
  the reference notebook's definition (floats in [0, 1], MAX 1.0, no clipping).
- pooled PSNR: PSNR of the MSE pooled over every pixel of every image (lower, since the
  mean of logs is not the log of the mean).
Each on floats in [0, 1] (MAX 1.0) or on uint8 (MAX 255; float reconstructions rounded
to uint8 first, as a stored image would be). A perfect reconstruction has infinite PSNR.
"""

from __future__ import annotations

import numpy as np

from .pixels import to_float, to_uint8
from .validation import check_float_images, check_pair, check_uint8_images


def _max_val(images: np.ndarray) -> float:
    return 255.0 if images.dtype == np.uint8 else 1.0


def mse_per_image(orig: np.ndarray, rec: np.ndarray) -> np.ndarray:
    """Mean squared error of each image, float64, in the images' own units."""
    orig, rec = check_pair(orig, rec)
    diff = orig.astype(np.float64) - rec.astype(np.float64)
    return np.mean(diff * diff, axis=(1, 2, 3))


def _psnr(mse: np.ndarray | float, max_val: float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(max_val**2 / np.asarray(mse, dtype=np.float64))


def psnr_per_image(orig: np.ndarray, rec: np.ndarray) -> np.ndarray:
    """PSNR of each image; MAX is 255 for uint8 pairs and 1.0 for float pairs."""
    return _psnr(mse_per_image(orig, rec), _max_val(np.asarray(orig)))


def mean_psnr(orig: np.ndarray, rec: np.ndarray) -> float:
    """Mean of per-image PSNRs (the reference notebook's definition)."""
    return float(np.mean(psnr_per_image(orig, rec)))


def pooled_psnr(orig: np.ndarray, rec: np.ndarray) -> float:
    """PSNR of the MSE pooled over all pixels of all images."""
    return float(_psnr(np.mean(mse_per_image(orig, rec)), _max_val(np.asarray(orig))))


def ssim_per_image(orig: np.ndarray, rec: np.ndarray) -> np.ndarray:
    """SSIM of each image (Gaussian 11x11 window, sigma 1.5, as Wang et al. 2004 and tf.image.ssim)."""
    from skimage.metrics import structural_similarity

    orig, rec = check_pair(orig, rec)
    data_range = _max_val(orig)
    kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=data_range, channel_axis=-1)
    return np.array([structural_similarity(o, r, **kw) for o, r in zip(orig.astype(np.float64), rec.astype(np.float64))])


def quality_report(orig_uint8: np.ndarray, rec_float: np.ndarray) -> dict[str, float]:
    """Every PSNR variant and SSIM for uint8 originals and float reconstructions in [0, 1]."""
    orig_uint8 = check_uint8_images(orig_uint8, "orig")
    rec_float = check_float_images(rec_float, "rec", clip_ok=True)
    orig_float = to_float(orig_uint8)
    rec_uint8 = to_uint8(rec_float)
    return {
        "psnr_mean_float": mean_psnr(orig_float, rec_float),
        "psnr_pooled_float": pooled_psnr(orig_float, rec_float),
        "psnr_mean_uint8": mean_psnr(orig_uint8, rec_uint8),
        "psnr_pooled_uint8": pooled_psnr(orig_uint8, rec_uint8),
        "ssim_mean_uint8": float(np.mean(ssim_per_image(orig_uint8, rec_uint8))),
        "n_images": int(len(orig_uint8)),
    }


def code_nbytes(encoder) -> int:
    """Bytes of one image's code, from the encoder's output shape and dtype."""
    shape = encoder.output.shape[1:]
    if any(d is None for d in shape):
        raise ValueError(f"encoder output shape {tuple(shape)} is not fully known")
    return int(np.prod(shape)) * np.dtype(encoder.output.dtype).itemsize


def image_nbytes(encoder) -> int:
    """Bytes of one input image stored as uint8, from the encoder's input shape."""
    return int(np.prod(encoder.input.shape[1:]))


def compression_rate(encoder) -> float:
    """1 - code bytes / uint8 image bytes: the reference's 83.33 % for a 128-float32 code."""
    return 1.0 - code_nbytes(encoder) / image_nbytes(encoder)


def bits_per_pixel(nbytes: float, height: int = 32, width: int = 32) -> float:
    """Bits per pixel of a code of `nbytes` bytes for one height x width image."""
    return 8.0 * nbytes / (height * width)
