"""Channel-wise context (y coded in slices, each conditioned on the slices before): model maths, warm start, real bytes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cae_helpers import tiling
from cae_helpers.codec import HyperpriorCodec
from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior, load_hyperprior, save_hyperprior, transfer_weights

from tiny import TINY, random_images as _images


@pytest.fixture(scope="module")
def codec():
    """A tiny 4-slice context codec whose context networks are not zero (so the context changes mu and sigma)."""
    import keras

    keras.utils.set_random_seed(0)
    model = build_hyperprior(HyperpriorConfig(**TINY, context_slices=4))
    rng = np.random.default_rng(1)
    for net in model.context:
        net.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in net.get_weights()])
    return HyperpriorCodec.from_model(model)


def test_slices_must_divide_the_latent_channels():
    assert HyperpriorConfig(**TINY).slices == 1 and HyperpriorConfig(**TINY, context_slices=1).slices == 1
    with pytest.raises(ValueError, match="context_slices"):
        HyperpriorConfig(**TINY, context_slices=3)
    with pytest.raises(ValueError, match="context_slices"):
        HyperpriorConfig(**TINY, context_slices=-1)


def test_a_context_model_warm_started_from_one_without_starts_equal_to_it(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    save_hyperprior(build_hyperprior(HyperpriorConfig(**TINY)), tmp_path / "plain")
    plain = load_hyperprior(tmp_path / "plain")  # float16-rounded weights, as the warm start copies them
    model = build_hyperprior(HyperpriorConfig(**TINY, context_slices=2, init_from=str(tmp_path / "plain"), init_partial=True))
    report = transfer_weights(model, tmp_path / "plain")
    assert report["fresh"] == ["context1"] and "hyper_synthesis" in report["copied"]
    x = _images(3).astype(np.float32) / 255
    levels = np.array([0, 1, 2], np.float32)
    (a, bits_a, _), (b, bits_b, _) = plain(x, levels=levels), model(x, levels=levels)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(bits_a), np.asarray(bits_b))


def test_numpy_chain_matches_keras_latent_parameters(codec):
    """The coder's NumPy float64 slices give the mean and scale the Keras model trains on."""
    rng = np.random.default_rng(2)
    level = 1.0
    gy = codec.gains(level)[0]
    raw = rng.normal(0, 1, (2, 8, 8, 16))
    y = rng.normal(0, 4, (2, 8, 8, 8))
    sym, idx, mu = replace(codec, rounding_weight=0.0)._latent_symbols(y, raw, level)  # each value to the nearest integer
    # Keras with the same rounding: the straight-through path at inference is plain rounding
    y_s = np.split(y.astype(np.float32), 4, axis=-1)
    mu_k, sigma_k, y_hat_k = codec.model.latent_parameters(raw.astype(np.float32), gy.astype(np.float32)[None, None, None],
                                                           lambda s, m: np.round(y_s[s] - m) + m)
    np.testing.assert_allclose(mu, np.asarray(mu_k), atol=1e-4)
    np.testing.assert_allclose(sym + mu, np.asarray(y_hat_k), atol=1e-4)
    plain_mu = np.split(raw, 2, axis=-1)[0] * gy  # the mean without context: the first slice keeps it, the others not
    np.testing.assert_allclose(mu[..., :2], plain_mu[..., :2])
    assert not np.allclose(mu[..., 2:], plain_mu[..., 2:], atol=1e-3)


def test_the_context_changes_the_bytes(codec):
    """The same transforms with the context networks at zero code other bytes: the context is really used."""
    import keras

    images = _images(3)
    zeroed = build_hyperprior(codec.model.config)
    for name, part in codec.model.parts().items():
        zeroed.parts()[name].set_weights(part.get_weights())
    for net in zeroed.context:
        net.set_weights([np.zeros_like(w) for w in net.get_weights()])
    plain = HyperpriorCodec(zeroed, codec.z_tables, codec.z_low, codec.y_tables)
    assert codec.model_id != plain.model_id
    assert [len(b) for b in codec.compress(images, 2)] != [len(b) for b in plain.compress(images, 2)]
    assert keras.backend.backend() in ("tensorflow", "jax")


def test_tiles_and_strips_round_trip(codec, monkeypatch):
    """Large images: 32x32 tiles (one coder, slices across a tile group) and strips (context within each strip)."""
    image = _images(1, 80, 72)[0]
    monkeypatch.setattr(tiling, "TILE_GROUP", 2)
    tiled = codec.compress(image[None], 2, tiles=True)[0]
    assert codec.decompress([tiled])[0].shape == image.shape
    whole = codec.decompress(codec.compress(image[None], 2, tiles=False))[0]
    monkeypatch.setattr(tiling, "NETWORK_STRIP_PIXELS", 1 << 11)
    monkeypatch.setattr(tiling, "CODING_STRIP_VALUES", 1 << 9)
    blob = codec.compress(image[None], 2, tiles=False)[0]
    strips = codec.decompress([blob])[0]
    assert strips.shape == image.shape
    assert np.mean(np.abs(strips.astype(int) - whole.astype(int))) < 4  # only the context at strip edges differs


def test_bytes_made_in_bfloat16_decode_with_a_float32_model(codec):
    mixed = HyperpriorCodec(build_hyperprior(codec.model.config, dtype="mixed_bfloat16"), codec.z_tables, codec.z_low,
                            codec.y_tables)
    for name, part in codec.model.parts().items():
        mixed.model.parts()[name].set_weights(part.get_weights())
    images = _images(4)
    out = codec.decompress(mixed.compress(images, 2))
    assert out.shape == images.shape  # the entropy decode ran to the end: the same symbols on both sides


def test_refinement_runs_through_the_context(codec):
    from cae_helpers.refine import RefineSettings

    images = _images(2)
    blobs = codec.compress(images, 2, refine=RefineSettings(steps=3))
    assert codec.decompress(blobs).shape == images.shape
