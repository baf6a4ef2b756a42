"""Model builders: the reference architecture layer for layer, chaining, dtypes, saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cae_helpers import build_autoencoder, build_initial_autoencoder, build_model, code_nbytes, compression_rate


@pytest.fixture(scope="module")
def reference():
    return build_autoencoder()


def test_reference_parameter_count_and_shapes(reference):
    ae, enc, dec = reference
    assert ae.count_params() == 2_387_843
    assert enc.output.shape[1:] == (128,) and enc.get_layer("latent_space") is not None
    assert dec.output.shape[1:] == (32, 32, 3)


def _kind(layer) -> str:
    """Layer class name, with the drop-ins of layers.py counted as the Keras layers they subclass."""
    for base in (keras.layers.BatchNormalization, keras.layers.UpSampling2D, keras.layers.Conv2DTranspose, keras.layers.Conv2D):
        if isinstance(layer, base):
            return base.__name__
    return type(layer).__name__


def test_reference_layers_in_order(reference):
    _, enc, dec = reference
    kinds = [_kind(layer) for layer in enc.layers[1:]]
    assert kinds == ["Conv2D", "BatchNormalization", "ReLU", "MaxPooling2D"] * 3 + ["Flatten", "Dense"]
    assert [layer.filters for layer in enc.layers if isinstance(layer, keras.layers.Conv2D)] == [64, 128, 256]
    kinds = [_kind(layer) for layer in dec.layers[1:]]
    assert kinds == ["Dense", "Reshape"] + ["Conv2DTranspose", "BatchNormalization", "ReLU", "UpSampling2D"] * 3 + ["Conv2DTranspose", "Activation"]
    convs = [layer for layer in dec.layers if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert [c.filters for c in convs] == [256, 128, 64, 3]
    assert all(c.strides == (1, 1) and c.padding == "same" for c in convs)
    # the reference's Conv2DTranspose(3, activation="sigmoid"), split so the conv can run in bfloat16
    assert convs[-1].activation.__name__ == "linear" and dec.layers[-1].activation.__name__ == "sigmoid"


def test_autoencoder_is_decoder_of_encoder(reference):
    ae, enc, dec = reference
    x = np.random.default_rng(0).random((4, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(ae.predict(x, verbose=0), dec.predict(enc.predict(x, verbose=0), verbose=0), atol=1e-6)


def test_filters_and_latent_are_parameters():
    ae, enc, _ = build_autoencoder(filters=(8, 16, 32), latent_dim=16)
    assert enc.output.shape[1:] == (16,)
    assert code_nbytes(enc) == 64 and compression_rate(enc) == pytest.approx(1 - 64 / 3072)
    with pytest.raises(ValueError, match="filters"):
        build_autoencoder(filters=(8, 16))
    with pytest.raises(ValueError, match="latent_dim"):
        build_autoencoder(latent_dim=0)


def test_initial_model_really_passes_through_its_bottleneck():
    ae, enc, dec = build_initial_autoencoder()
    assert enc.output.shape[1:] == (512,)
    assert [layer.filters for layer in enc.layers if isinstance(layer, keras.layers.Conv2D)] == [64, 32, 16]
    x = np.random.default_rng(1).random((3, 32, 32, 3), dtype=np.float32)
    before = ae.predict(x, verbose=0)
    assert np.ptp(before, axis=0).max() > 0  # different inputs give different outputs ...
    latent = enc.get_layer("latent_space")
    latent.set_weights([np.zeros_like(w) for w in latent.get_weights()])
    after = ae.predict(x, verbose=0)
    assert np.ptp(after, axis=0).max() == pytest.approx(0.0, abs=1e-6)  # ... until the latent carries nothing


def test_build_model_by_name():
    assert build_model("initial")[1].output.shape[1:] == (512,)
    with pytest.raises(ValueError, match="unknown model name"):
        build_model("resnet")


def test_mixed_precision_keeps_code_and_output_float32(reference):
    ae16, enc16, dec16 = build_autoencoder(dtype="mixed_bfloat16")
    assert enc16.output.dtype == "float32" and ae16.output.dtype == "float32"
    assert compression_rate(enc16) == pytest.approx(5 / 6)
    ae, _, _ = reference
    ae16.set_weights(ae.get_weights())
    x = np.random.default_rng(2).random((4, 32, 32, 3), dtype=np.float32)
    # bfloat16 has 8 significant bits: outputs agree to about 1/100 of the [0, 1] range
    np.testing.assert_allclose(ae16.predict(x, verbose=0), ae.predict(x, verbose=0), atol=0.03)


def test_keras_format_round_trip(reference, tmp_path):
    from cae_helpers import load_autoencoder
    from cae_helpers.io import save_model

    ae, enc, _ = reference
    save_model(ae, tmp_path / "ae.keras")
    ae2, enc2, dec2 = load_autoencoder(tmp_path / "ae.keras")
    x = np.random.default_rng(3).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_array_equal(ae2.predict(x, verbose=0), ae.predict(x, verbose=0))
    np.testing.assert_array_equal(enc2.predict(x, verbose=0), enc.predict(x, verbose=0))
    assert not list(tmp_path.glob(".tmp-*"))  # the atomic write left no temporary file
