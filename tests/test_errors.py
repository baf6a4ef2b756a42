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


@pytest.mark.parametrize("args, message", [
    (["train", "--epochs", "-1"], "--epochs: must be >= 1"),
    (["train", "--epochs", "0"], "--epochs: must be >= 1"),
    (["train", "--batch-size", "0"], "--batch-size: must be >= 1"),
    (["train", "--val-size", "7"], "--val-size: must be a multiple of 100"),
    (["train", "--smoke", "-2"], "--smoke: must be >= 0"),
    (["train", "--latent-noise", "-1"], "--latent-noise: must be >= 0"),
    (["train", "--learning-rate", "-1"], "--learning-rate: must be > 0"),
    (["train", "--learning-rate", "nan"], "--learning-rate: expected a finite number"),
    (["train", "--patience", "-3"], "--patience: must be >= 0"),
    (["train", "--out", ""], "--out: must name a folder"),
    (["bench", "rd", "--steps", "-0.5"], "--steps: must be > 0"),
    (["train-codec", "--lambdas", "0.1,0.01"], "--lambdas: must be positive and increasing"),
    (["train-codec", "--augment", "1.5"], "--augment: must be >= 0 and <= 1"),
])
def test_bad_command_line_values_stop_before_any_data_is_loaded(args, message, capsys):
    from cae_helpers.cli import main

    with pytest.raises(SystemExit) as stop:
        main(args + ["--data", "/nonexistent/never-read.tar.gz"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1  # one line, no traceback


def test_out_naming_a_file_and_a_junk_model_are_refused(tmp_path, capsys):
    from cae_helpers.cli import main

    junk = tmp_path / "model.keras"
    junk.write_text("not a model")
    for args, message in ((["train", "--out", str(junk)], "is not a folder"),
                          (["evaluate", "--model-path", str(junk)], "is not a saved Keras model"),
                          (["evaluate", "--model-path", str(tmp_path / "none.keras")], "no such file")):
        with pytest.raises(SystemExit) as stop:
            main(args)
        assert stop.value.code == 2 and message in capsys.readouterr().err
