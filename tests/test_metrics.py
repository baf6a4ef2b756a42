"""PSNR variants, SSIM and sizes against hand-computed values and independent implementations."""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers import (
    bits_per_pixel,
    build_initial_autoencoder,
    mean_psnr,
    mse_per_image,
    pooled_psnr,
    psnr_per_image,
    quality_report,
    ssim_per_image,
)


def _pair(seed=0, n=6, noise=0.05):
    rng = np.random.default_rng(seed)
    orig = rng.random((n, 32, 32, 3)).astype(np.float32)
    rec = np.clip(orig + rng.normal(0, noise, orig.shape), 0, 1).astype(np.float32)
    return orig, rec


def test_hand_computed_float_and_uint8():
    orig = np.full((1, 32, 32, 3), 0.5, np.float32)
    assert psnr_per_image(orig, orig + np.float32(0.1))[0] == pytest.approx(20.0, abs=1e-4)  # MSE 0.01
    a = np.full((1, 32, 32, 3), 100, np.uint8)
    assert psnr_per_image(a, a + np.uint8(1))[0] == pytest.approx(20 * np.log10(255), abs=1e-9)  # MSE 1


def test_mean_versus_pooled_by_hand():
    orig = np.zeros((2, 32, 32, 3), np.float32)
    rec = orig.copy()
    rec[0] += 0.1  # MSE 0.01 -> 20 dB
    rec[1] += np.float32(np.sqrt(0.0001))  # MSE 0.0001 -> 40 dB
    assert mean_psnr(orig, rec) == pytest.approx(30.0, abs=1e-3)
    assert pooled_psnr(orig, rec) == pytest.approx(10 * np.log10(1 / 0.00505), abs=1e-3)  # 22.97 dB
    assert mean_psnr(orig, rec) > pooled_psnr(orig, rec)


def test_reference_formula():
    orig, rec = _pair()
    ref = [20 * np.log10(1.0 / np.sqrt(np.mean((o - r) ** 2))) for o, r in zip(orig, rec)]
    np.testing.assert_allclose(psnr_per_image(orig, rec), ref, rtol=1e-5)


def test_psnr_agrees_with_tensorflow_and_skimage():
    import tensorflow as tf
    from skimage.metrics import peak_signal_noise_ratio

    orig, rec = _pair(1)
    np.testing.assert_allclose(psnr_per_image(orig, rec), tf.image.psnr(orig, rec, max_val=1.0).numpy(), rtol=1e-4)
    o8, r8 = (np.rint(orig * 255).astype(np.uint8), np.rint(rec * 255).astype(np.uint8))
    sk = [peak_signal_noise_ratio(o, r, data_range=255) for o, r in zip(o8, r8)]
    np.testing.assert_allclose(psnr_per_image(o8, r8), sk, rtol=1e-9)


def test_ssim_agrees_with_tensorflow():
    import tensorflow as tf

    orig, rec = _pair(2, noise=0.1)
    ours = ssim_per_image(orig, rec)
    theirs = tf.image.ssim(orig, rec, max_val=1.0).numpy()
    assert np.all(ours < 0.999)
    np.testing.assert_allclose(ours, theirs, atol=2e-3)
    assert ssim_per_image(orig, orig) == pytest.approx(np.ones(len(orig)))


def test_identical_images_have_infinite_psnr():
    orig, _ = _pair()
    assert np.all(np.isinf(psnr_per_image(orig, orig)))


def test_quality_report_rounds_to_uint8():
    orig, rec = _pair(3)
    o8 = np.rint(orig * 255).astype(np.uint8)
    rep = quality_report(o8, rec)
    r8 = np.clip(np.rint(rec * 255), 0, 255).astype(np.uint8)
    assert rep["psnr_mean_uint8"] == pytest.approx(mean_psnr(o8, r8))
    assert rep["psnr_mean_float"] == pytest.approx(mean_psnr(o8 / np.float32(255), rec))
    assert rep["psnr_mean_float"] >= rep["psnr_pooled_float"]
    assert rep["n_images"] == len(orig)


def test_compression_rate_and_bpp():
    _, enc, _ = build_initial_autoencoder()
    from cae_helpers import code_nbytes, compression_rate

    assert code_nbytes(enc) == 2048 and compression_rate(enc) == pytest.approx(1 / 3)
    assert bits_per_pixel(512) == 4.0 and bits_per_pixel(128) == 1.0


@pytest.mark.parametrize(
    "orig, rec, match",
    [
        (np.zeros((2, 32, 32, 3)), np.zeros((3, 32, 32, 3)), "differ in shape"),
        (np.zeros((2, 32, 32)), np.zeros((2, 32, 32)), r"\(N, H, W, 3\)"),
        (np.zeros((0, 32, 32, 3)), np.zeros((0, 32, 32, 3)), "empty"),
        (np.zeros((1, 32, 32, 3), np.uint8), np.zeros((1, 32, 32, 3)), "both be uint8"),
        (np.full((1, 32, 32, 3), np.nan), np.zeros((1, 32, 32, 3)), "NaN"),
        (np.full((1, 32, 32, 3), 200.0), np.zeros((1, 32, 32, 3)), r"\[0, 1\]"),
    ],
)
def test_bad_inputs_raise(orig, rec, match):
    with pytest.raises(ValueError, match=match):
        mse_per_image(orig, rec)
