"""Public functions refuse bad inputs with errors that say what was expected and what came."""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers import Split, TrainConfig, build_autoencoder, evaluate, reconstruct, showOrigDec, train
from cae_helpers.entropy.coder import decode_latents, fit_codec


@pytest.fixture(scope="module")
def small():
    return build_autoencoder(filters=(4, 4, 4), latent_dim=8)


def _imgs(shape=(4, 32, 32, 3)):
    return np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize("images, match", [
    (_imgs((4, 64, 64, 3)), r"model takes \(32, 32, 3\)"),
    (_imgs((4, 32, 32, 1)), r"\(N, H, W, 3\)"),
    (_imgs() / 255.0, "must be uint8"),
    (_imgs((0, 32, 32, 3)), "empty"),
    (_imgs((32, 32, 3)), r"\(N, H, W, 3\)"),
])
def test_model_functions_check_images(small, images, match):
    ae, enc, dec = small
    with pytest.raises(ValueError, match=match):
        reconstruct(ae, images)
    with pytest.raises(ValueError, match=match):
        fit_codec(enc, dec, images, step=0.1)


def test_labels_must_match_images(small):
    ae, enc, _ = small
    with pytest.raises(ValueError, match="3 labels for 4 images"):
        evaluate(ae, enc, _imgs(), np.arange(3))


@pytest.mark.parametrize("latents, match", [(np.zeros((2, 5)), r"\(N, 8\) array"), (np.full((2, 8), np.nan), "NaN"),
                                            (np.zeros((0, 8)), "non-empty")])
def test_decode_latents_checks(small, latents, match):
    with pytest.raises(ValueError, match=match):
        decode_latents(small[2], latents)


def test_codec_step_must_be_positive(small):
    with pytest.raises(ValueError, match="step"):
        fit_codec(small[1], small[2], _imgs(), step=0)


def test_train_refuses_float_images():
    fit = Split(_imgs() / 255.0, np.zeros(4, int), np.zeros(4, int))
    with pytest.raises(ValueError, match="uint8"):
        train(TrainConfig(epochs=1, precision="float32"), fit, fit)


def test_showOrigDec_refuses_out_of_kind_inputs():
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        showOrigDec(np.zeros((2, 32, 32)), np.zeros((2, 32, 32)))
    with pytest.raises(ValueError, match="NaN"):
        showOrigDec(_imgs(), np.full((4, 32, 32, 3), np.nan))


def test_codec_api_gaps_give_clear_errors():
    from cae_helpers.entropy.coder import compress, decompress

    imgs = _imgs().astype(np.uint8)
    for bad in (None, "weights/learned/lmbda-0.007"):
        with pytest.raises(TypeError, match="LatentCodec"):
            compress(imgs, bad)
        with pytest.raises(TypeError, match="LatentCodec"):
            decompress([b"x"], bad)


def test_show_orig_dec_refuses_pairs_of_other_sizes_and_warns_on_num():
    a = np.zeros((3, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="differ in size"):
        showOrigDec(a, np.zeros((3, 16, 16, 3), np.uint8))
    with pytest.warns(UserWarning, match="only 3 image pairs"):
        showOrigDec(a, a, num=10)
