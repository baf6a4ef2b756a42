"""Evaluate a trained autoencoder on uint8 test images: every PSNR variant, SSIM, code size."""

from __future__ import annotations

import numpy as np

from .pixels import to_float
from .metrics import bits_per_pixel, code_nbytes, compression_rate, image_nbytes, psnr_per_image, quality_report
from .validation import check_model_input, check_uint8_images


def reconstruct(autoencoder, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """float32 reconstructions in [0, 1] of uint8 images, batched."""
    x = to_float(check_model_input(images, autoencoder))
    return np.asarray(autoencoder.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)


def per_class_psnr(orig: np.ndarray, rec: np.ndarray, labels: np.ndarray, n_classes: int = 100) -> np.ndarray:
    """Mean per-image PSNR (float, MAX 1.0) of each class."""
    psnr = psnr_per_image(to_float(orig), rec)
    labels = np.asarray(labels).ravel()
    return np.array([psnr[labels == c].mean() if np.any(labels == c) else np.nan for c in range(n_classes)])


def evaluate(autoencoder, encoder, images: np.ndarray, labels: np.ndarray | None = None, batch_size: int = 500) -> dict:
    """Metrics of a model on uint8 images; the reconstructions come back under key "rec" (not JSON)."""
    images = check_uint8_images(images)
    if labels is not None and len(np.asarray(labels).ravel()) != len(images):
        raise ValueError(f"{len(np.asarray(labels).ravel())} labels for {len(images)} images")
    rec = reconstruct(autoencoder, images, batch_size)
    report = quality_report(images, rec)
    nbytes = code_nbytes(encoder)
    report |= {
        "compression_rate": compression_rate(encoder),
        "code_bytes": nbytes,
        "image_bytes": image_nbytes(encoder),
        "code_dtype": str(np.dtype(encoder.output.dtype)),
        "code_bpp": bits_per_pixel(nbytes),
        "parameters": int(autoencoder.count_params()),
    }
    if labels is not None:
        report["psnr_by_class_float"] = per_class_psnr(images, rec, labels).tolist()
    report["rec"] = rec
    return report


PSNR_DEFINITIONS = {
    "psnr_mean_float": "mean over images of per-image PSNR, floats in [0,1], MAX 1.0, no clipping (the reference's)",
    "psnr_pooled_float": "PSNR of the MSE pooled over all images, floats, MAX 1.0",
    "psnr_mean_uint8": "mean per-image PSNR after rounding reconstructions to uint8, MAX 255",
    "psnr_pooled_uint8": "pooled-MSE PSNR on uint8, MAX 255",
    "ssim_mean_uint8": "mean per-image SSIM on uint8 (Gaussian 11x11, sigma 1.5)",
    "compression_rate": "1 - code bytes / 3072 (the code as the encoder outputs it, not entropy coded)",
}


def metrics_record(metrics: dict, evaluated_on: str, data_source: str, argv: list[str] | None, extra: dict,
                   wall_time_s: float, command: str | None = None) -> dict:
    """What metrics.json holds: the command, the data, the definitions, the figures, time, memory, versions.

    `command`: how the run was started, when not `python -m cae_helpers` with `argv` (the notebook, say).
    """
    from .io import command_line, peak_rss_mb, versions

    return {"command": command or command_line("python -m cae_helpers", argv),
            "data": data_source, "evaluated_on": evaluated_on, "psnr_definitions": PSNR_DEFINITIONS,
            **extra, **metrics, "wall_time_s": wall_time_s, "peak_rss_mib": peak_rss_mb(), "versions": versions()}
