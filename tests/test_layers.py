"""The fused BatchNormalization matches Keras' own layer and survives saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cae_helpers.layers import FusedBatchNormalization


@pytest.mark.parametrize("dtype, atol", [("float32", 1e-5), ("mixed_bfloat16", 2e-2)])
def test_matches_keras_batchnorm(dtype, atol):
    rng = np.random.default_rng(0)
    x = (rng.random((16, 8, 8, 12)) * 3 + 1).astype(np.float32)
    ours, theirs = FusedBatchNormalization(dtype=dtype), keras.layers.BatchNormalization(dtype=dtype)
    ours.build(x.shape)
    theirs.build(x.shape)
    ours.set_weights([rng.random(12).astype(np.float32) + 0.5 for _ in range(4)])
    theirs.set_weights(ours.get_weights())
    for training in (True, False, True):
        a = np.asarray(ours(x, training=training), np.float32)
        b = np.asarray(theirs(x, training=training), np.float32)
        np.testing.assert_allclose(a, b, atol=atol)
    for w_ours, w_theirs in zip(ours.get_weights(), theirs.get_weights()):  # moving statistics too
        np.testing.assert_allclose(w_ours, w_theirs, rtol=1e-5, atol=1e-6)


def test_fused_gradients_match():
    import tensorflow as tf

    rng = np.random.default_rng(1)
    x = tf.constant(rng.random((8, 4, 4, 6)).astype(np.float32))
    grads = []
    for layer in (FusedBatchNormalization(), keras.layers.BatchNormalization()):
        layer.build(x.shape)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True) ** 3)
        grads.append(tape.gradient(loss, [x, layer.gamma, layer.beta]))
    for a, b in zip(*grads):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape, axis, masked", [((4, 5, 6), 1, False), ((4, 3, 3, 6), -1, True)])
def test_falls_back_with_a_mask_or_other_axis(shape, axis, masked):
    """Where the fused kernel does not apply (other axis, 3-D input, a mask) the layer is Keras' own."""
    x = np.random.default_rng(2).random(shape, dtype=np.float32)
    mask = (np.random.default_rng(3).random(shape[:-1]) > 0.3) if masked else None
    fused, plain = FusedBatchNormalization(axis=axis), keras.layers.BatchNormalization(axis=axis)
    fused.build(shape)
    plain.build(shape)
    assert not fused._can_fuse(x, mask) or not masked
    y1, y2 = fused(x, training=True, mask=mask), plain(x, training=True, mask=mask)
    np.testing.assert_allclose(np.asarray(y1), np.asarray(y2), atol=1e-6)
    np.testing.assert_allclose(np.asarray(fused.moving_mean), np.asarray(plain.moving_mean), atol=1e-7)


def test_serialises(tmp_path):
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, FusedBatchNormalization()(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[-1], FusedBatchNormalization)


@pytest.mark.parametrize("size, dtype, tol", [(2, "float32", 1e-6), ((2, 3), "float32", 1e-6), (2, "mixed_bfloat16", 1e-2)])
def test_nearest_upsampling_matches_keras_and_its_gradient(size, dtype, tol):
    import tensorflow as tf

    from cae_helpers.layers import NearestUpSampling2D

    x = tf.constant(np.random.default_rng(3).random((3, 4, 5, 6)).astype(np.float32))
    w = tf.constant(np.random.default_rng(4).random((3, 4 * 2, 5 * np.atleast_1d(size)[-1], 6)).astype(np.float32))
    outs = []
    for layer in (NearestUpSampling2D(size, dtype=dtype), keras.layers.UpSampling2D(size, dtype=dtype)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.cast(layer(x), tf.float32)
            loss = tf.reduce_sum(y * w)  # a different weight per output pixel: each copy's gradient counts
        outs.append((np.asarray(y), np.asarray(tape.gradient(loss, x))))
    (y1, g1), (y2, g2) = outs
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_allclose(g1, g2, rtol=tol, atol=tol)


def test_uniform_noise_only_in_training_and_bounded():
    from cae_helpers.layers import UniformNoise

    x = np.zeros((1000, 8), np.float32)
    layer = UniformNoise(0.5, seed=1)
    assert np.array_equal(np.asarray(layer(x, training=False)), x)
    noisy = np.asarray(layer(x, training=True))
    assert np.abs(noisy).max() <= 0.25 and noisy.std() == pytest.approx(0.5 / np.sqrt(12), rel=0.05)
    with pytest.raises(ValueError, match="step"):
        UniformNoise(0.0)


def test_noisy_autoencoder_infers_like_the_plain_chain(tmp_path):
    from cae_helpers import build_autoencoder, load_autoencoder
    from cae_helpers.io import save_model

    ae, enc, dec = build_autoencoder(filters=(4, 4, 4), latent_dim=8, latent_noise=0.3)
    x = np.random.default_rng(0).random((4, 32, 32, 3), dtype=np.float32)
    plain = np.asarray(dec(enc(x)))
    np.testing.assert_allclose(np.asarray(ae(x, training=False)), plain, atol=1e-6)
    assert not np.allclose(np.asarray(ae(x, training=True)), np.asarray(ae(x, training=True)))
    save_model(ae, tmp_path / "noisy.keras")
    ae2, enc2, dec2 = load_autoencoder(tmp_path / "noisy.keras")
    np.testing.assert_allclose(np.asarray(ae2(x, training=False)), np.asarray(ae(x, training=False)), atol=1e-6)
