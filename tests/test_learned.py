"""The learned codec's parts: GDN, the factorised prior, the rate-distortion model, coding through bytes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cae_helpers.codec import codec_from_prior, compress, decompress, quantise, total_bits_per_pixel
from cae_helpers.learned import GDN, FactorizedPrior, build_rd_model, build_transforms


def test_gdn_and_its_inverse():
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 8)).astype(np.float32)
    gdn, igdn = GDN(), GDN(inverse=True)
    y = np.asarray(gdn(x))
    np.testing.assert_allclose(y, x / (1 + 0.1 * np.abs(x)), rtol=1e-5)  # initial beta 1, gamma 0.1 I
    np.testing.assert_allclose(np.asarray(igdn(x)), x * (1 + 0.1 * np.abs(x)), rtol=1e-5)


def test_prior_is_a_distribution_and_noise_only_in_training():
    prior = FactorizedPrior()
    y = np.random.default_rng(1).normal(size=(3, 2, 2, 5)).astype(np.float32) * 3
    rounded, lik = prior(y, training=False)
    assert np.array_equal(np.asarray(rounded), np.round(y))
    assert np.all(np.asarray(lik) > 0) and np.all(np.asarray(lik) <= 1)
    noisy, _ = prior(y, training=True)
    assert np.abs(np.asarray(noisy) - y).max() <= 0.5 and not np.array_equal(np.asarray(noisy), y)
    table = prior.pmf_table(-300, 300)  # the untrained density is wide (init_scale 10)
    assert table.shape == (5, 601)
    np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-3)  # unit bins tile the line


def test_rd_model_learns_on_tiny_data():
    x = np.random.default_rng(2).random((64, 32, 32, 3)).astype(np.float32)
    model = build_rd_model(lmbda=0.01, filters=16, latent_channels=8)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    hist = model.fit(x, x, batch_size=16, epochs=3, verbose=0).history
    assert set(hist) >= {"loss", "bpp", "mse"} and hist["loss"][-1] < hist["loss"][0]


def test_learned_latent_codes_through_bytes_and_rate_matches_the_prior():
    analysis, synthesis = build_transforms(filters=16, latent_channels=8, downsamples=3)
    prior = FactorizedPrior()
    images = np.random.default_rng(3).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    y = np.asarray(analysis(images.astype(np.float32) / 255))
    prior(y)  # build
    codec = codec_from_prior(analysis, synthesis, prior, lo=-32, hi=32)
    blobs = compress(images, codec)
    rec = decompress(blobs, codec)
    assert rec.shape == images.shape and rec.dtype == np.uint8
    expected = np.clip(np.rint(np.asarray(synthesis(np.round(y))) * 255), 0, 255).astype(np.uint8)
    assert np.array_equal(rec, expected)
    # the coded size is close to the prior's information content (ANS overhead: under 32 bits + header)
    info_bits = -np.log2(np.asarray(prior(y, training=False)[1])).sum(axis=(1, 2, 3))
    payload_bits = total_bits_per_pixel(blobs) * 1024 - 48
    assert np.all(payload_bits >= info_bits - 1) and np.all(payload_bits <= info_bits + 64)
    assert np.array_equal(quantise(y, 1.0).reshape(6, -1).shape, (6, 4 * 4 * 8))
