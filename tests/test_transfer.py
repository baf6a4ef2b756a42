"""Starting a new architecture from what fits of a saved codec, and the lighter hyper path."""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers.hyperprior import (HyperpriorConfig, _gains_at, build_hyperprior, load_hyperprior, save_hyperprior,
                                    transfer_weights)

TINY = dict(filters=8, latent_channels=8, hyper_filters=8, hyper_channels=4, lambdas=(0.001, 0.01, 0.1), epochs=2,
            batch_size=16, precision="float32")


def _f16(weights):
    return [np.asarray(w, np.float16).astype(np.float32) for w in weights]  # what ships is float16


def test_gains_follow_log_lambda_inside_and_past_the_ends():
    log_g = np.array([[0.0, 1.0], [2.0, 3.0]], np.float32)  # lambdas 0.01 and 0.1
    np.testing.assert_allclose(_gains_at(log_g, (0.01, 0.1), (0.01, 0.1)), log_g)
    mid, below, above = _gains_at(log_g, (0.01, 0.1), (10 ** -1.5, 0.001, 1.0))
    np.testing.assert_allclose(mid, [1.0, 2.0], atol=1e-6)  # halfway in log-lambda
    np.testing.assert_allclose(below, [-2.0, -1.0], atol=1e-6)  # one decade down: the end segment extended
    np.testing.assert_allclose(above, [4.0, 5.0], atol=1e-6)


def test_a_lighter_hyper_path_starts_from_the_saved_transforms(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    saved = build_hyperprior(HyperpriorConfig(**TINY))
    save_hyperprior(saved, tmp_path / "start")
    config = HyperpriorConfig(**(TINY | {"hyper_kernel": 1, "hyper_channels": 2, "lambdas": (0.0001, 0.001, 0.01, 0.1),
                                         "seed": 3, "init_from": str(tmp_path / "start"), "init_partial": True}))
    model = build_hyperprior(config)
    fresh_h_s = [w.copy() for w in model.hyper_synthesis.get_weights()]
    report = transfer_weights(model, tmp_path / "start")
    assert report == {"copied": ["analysis", "synthesis", "y_gain"],
                      "fresh": ["hyper_analysis", "hyper_synthesis", "z_gain", "z_prior"]}
    for part in ("analysis", "synthesis"):
        for a, b in zip(getattr(model, part).get_weights(), _f16(getattr(saved, part).get_weights())):
            np.testing.assert_allclose(a, b)
    for a, b in zip(model.hyper_synthesis.get_weights(), fresh_h_s):
        np.testing.assert_array_equal(a, b)
    old = _f16(saved.y_gain.get_weights())[0]
    np.testing.assert_allclose(model.y_gain.get_weights()[0][1:], old, atol=1e-6)  # the three shared lambdas
    np.testing.assert_allclose(model.y_gain.get_weights()[0][0], 2 * old[0] - old[1], atol=1e-5)  # one decade below


def test_the_hyper_kernel_sets_the_ends_of_the_hyper_path_and_saves_with_the_codec(tmp_path):
    light = build_hyperprior(HyperpriorConfig(**(TINY | {"hyper_kernel": 1})))
    assert light.hyper_synthesis.get_layer("hs_out").kernel.shape[:2] == (1, 1)
    assert light.hyper_analysis.get_layer("ha0").kernel.shape[:2] == (1, 1)
    assert build_hyperprior(HyperpriorConfig(**TINY)).hyper_synthesis.get_layer("hs_out").kernel.shape[:2] == (3, 3)
    save_hyperprior(light, tmp_path / "light")
    assert load_hyperprior(tmp_path / "light").config.hyper_kernel == 1


def test_a_partial_start_needs_a_codec_to_start_from(capsys):
    from cae_helpers.cli import main

    with pytest.raises(ValueError, match="needs init_from"):
        HyperpriorConfig(**(TINY | {"init_partial": True}))
    with pytest.raises(SystemExit) as exit_info:
        main(["train-codec", "--data", "/nonexistent", "--init-partial"])
    assert exit_info.value.code == 2 and "--init-partial" in capsys.readouterr().err


def test_a_light_codec_round_trips_through_its_numpy_hyper_synthesis():
    import keras

    from cae_helpers.codec import HyperpriorCodec

    keras.utils.set_random_seed(1)
    codec = HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**(TINY | {"hyper_kernel": 1}))))
    z = np.random.default_rng(2).integers(-3, 4, (2, 3, 2, 4)).astype(np.float64)
    mu, sigma = codec.hyper_parameters(z, 1.0)
    gy, gz = codec.gains(1.0)
    mu_k, log_s = np.split(np.asarray(codec.model.hyper_synthesis(z / gz)), 2, axis=-1)
    np.testing.assert_allclose(mu, mu_k * gy, atol=1e-4)
    np.testing.assert_allclose(sigma, np.exp(np.clip(log_s, -10, 10)) * gy, rtol=1e-4)
    images = np.random.default_rng(0).integers(0, 256, (3, 48, 32, 3), dtype=np.uint8)
    blobs = codec.compress(images, 2)
    np.testing.assert_array_equal(codec.decompress(blobs), codec.decompress(codec.compress(images, 2)))
    assert codec.decompress(blobs).shape == images.shape
