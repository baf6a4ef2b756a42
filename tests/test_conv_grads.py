"""The forward-conv forms of conv_grads and the FastConv2D layers against TensorFlow's / Keras' own ops."""

import keras
import numpy as np
import pytest

from cae_helpers import conv_grads
from cae_helpers.layers import FastConv2D, FastConv2DTranspose, conv_layers

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the forward-conv forms are TensorFlow's")


def _value_and_grads(fn, x, w):
    """fn(x, w), and the gradients of a non-linear loss of it with respect to x and w."""
    with tf.GradientTape() as tape:
        tape.watch([x, w])
        y = fn(x, w)
        loss = tf.reduce_sum(y * tf.sin(y))
    return [y] + tape.gradient(loss, [x, w])


def _assert_same(ours, theirs, rtol=1e-4):
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=rtol * float(tf.reduce_max(tf.abs(b))))


def _tensors(shape, kernel, seed=0):
    rng = np.random.default_rng(seed)
    return tf.constant(rng.standard_normal(shape, np.float32)), tf.constant(rng.standard_normal(kernel, np.float32))


@pytest.mark.parametrize("k", [3, 5, 7])
def test_phase_taps_use_every_kernel_tap_once(k):
    taps, r = conv_grads._phase_taps(k)
    used = taps[taps < k * k]
    assert sorted(used.tolist()) == list(range(k * k))
    assert r % 2 == 1 and taps.shape == (r, r, 4)


@pytest.mark.parametrize("stride,k,size", [(1, 3, 8), (1, 5, 7), (2, 5, 8), (2, 3, 6), (2, 5, 7), (2, 3, 5)])
def test_conv2d_matches_tensorflow(stride, k, size):
    x, w = _tensors((3, size, size + 2, 5), (k, k, 5, 4))
    ours = _value_and_grads(lambda x, w: conv_grads.conv2d(x, w, stride), x, w)
    _assert_same(ours, _value_and_grads(lambda x, w: tf.nn.conv2d(x, w, stride, "SAME"), x, w))


@pytest.mark.parametrize("size", [8, 7])
def test_strided_input_gradient_with_sizes_known_only_at_run_time(size):
    """In a graph traced for any height and width (as batches of several sizes are), the run-time parity decides."""
    x, w = _tensors((2, size, size, 4), (5, 5, 4, 6))
    spec = tf.TensorSpec((None, None, None, 4), tf.float32)
    ours = tf.function(lambda x: _value_and_grads(lambda x, w: conv_grads.conv2d(x, w, 2), x, w), input_signature=[spec])
    _assert_same(ours(x), _value_and_grads(lambda x, w: tf.nn.conv2d(x, w, 2, "SAME"), x, w))


@pytest.mark.parametrize("stride,k,size", [(2, 5, 4), (2, 5, 3), (2, 3, 5), (1, 3, 6), (1, 5, 5)])
def test_conv2d_transpose_matches_tensorflow(stride, k, size):
    x, w = _tensors((3, size, size + 1, 5), (k, k, 4, 5))  # w (k, k, out, in)
    out = (3, stride * size, stride * (size + 1), 4)
    ours = _value_and_grads(lambda x, w: conv_grads.conv2d_transpose(x, w, stride), x, w)
    _assert_same(ours, _value_and_grads(lambda x, w: tf.nn.conv2d_transpose(x, w, out, stride, "SAME"), x, w))


@pytest.mark.parametrize("fast,stock,kwargs", [
    (FastConv2D, keras.layers.Conv2D, {"strides": 2, "activation": "relu"}),
    (FastConv2D, keras.layers.Conv2D, {"strides": 1}),
    (FastConv2DTranspose, keras.layers.Conv2DTranspose, {"strides": 2, "activation": "relu"}),
    (FastConv2DTranspose, keras.layers.Conv2DTranspose, {"strides": 1}),
])
def test_fast_layers_match_keras_layers_with_the_same_weights(fast, stock, kwargs):
    x = tf.constant(np.random.default_rng(1).standard_normal((2, 8, 8, 6), np.float32))
    ours, theirs = fast(16, 5, padding="same", **kwargs), stock(16, 5, padding="same", **kwargs)
    ours.build(x.shape)
    theirs.build(x.shape)
    theirs.set_weights([w + 0.1 for w in ours.get_weights()])  # a non-zero bias too
    ours.set_weights(theirs.get_weights())
    results = []
    for layer in (ours, theirs):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y * y)
        results.append([y] + tape.gradient(loss, [x] + layer.trainable_variables))
    _assert_same(*results)


def test_fast_layers_keep_keras_own_call_where_the_forms_do_not_apply():
    """bfloat16 compute, few output channels of a stride-2 transposed conv, 'valid' padding: Keras' own op, bit for bit."""
    x = tf.constant(np.random.default_rng(2).random((2, 8, 8, 4), np.float32))
    cases = [({"dtype": "mixed_bfloat16"}, FastConv2D, keras.layers.Conv2D),
             ({"strides": 2}, FastConv2DTranspose, keras.layers.Conv2DTranspose),
             ({"padding": "valid"}, FastConv2D, keras.layers.Conv2D)]
    for kwargs, fast, stock in cases:
        filters = 3 if fast is FastConv2DTranspose else 8
        ours, theirs = fast(filters, 3, **({"padding": "same"} | kwargs)), stock(filters, 3, **({"padding": "same"} | kwargs))
        ours.build(x.shape)
        theirs.build(x.shape)
        theirs.set_weights(ours.get_weights())
        np.testing.assert_array_equal(np.asarray(ours(x), np.float32), np.asarray(theirs(x), np.float32))


def test_fast_layers_save_and_load(tmp_path):
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, FastConv2DTranspose(4, 3, strides=2, padding="same")(FastConv2D(4, 3, padding="same")(inputs)))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert [type(layer) for layer in loaded.layers[1:]] == [FastConv2D, FastConv2DTranspose]
    x = np.random.default_rng(3).random((1, 8, 8, 3)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_training_builds_use_the_fast_layers_and_coding_builds_do_not():
    """Coding keeps Keras' own convolutions, so a codec's decoded pixels do not move by a float rounding."""
    from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior
    from cae_helpers.learned import build_rd_model

    config = HyperpriorConfig(filters=8, latent_channels=8, hyper_filters=8, hyper_channels=4, lambdas=(0.01, 0.1))
    for training in (True, False):
        conv, conv_t = conv_layers(training)
        models = (build_hyperprior(config, training=training).synthesis, build_rd_model(0.01, 8, 4, training=training).synthesis)
        for synthesis in models:
            kinds = {type(layer) for layer in synthesis.layers if "Conv" in type(layer).__name__}
            assert kinds == {conv, conv_t}


def test_the_forms_stand_aside_where_onednn_runs(monkeypatch):
    """With oneDNN's kernels on, TensorFlow's own passes are as fast as forward ones: the layers keep Keras' ops."""
    monkeypatch.setattr(conv_grads, "onednn_on", lambda: True)
    assert not conv_grads.fast_conv_supported((3, 3), (1, 1), (1, 1), 1, "channels_last", "float32")
    monkeypatch.setattr(conv_grads, "onednn_on", lambda: False)
    assert conv_grads.fast_conv_supported((3, 3), (1, 1), (1, 1), 1, "channels_last", "float32")
