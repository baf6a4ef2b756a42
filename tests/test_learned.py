"""The learned codec's parts: GDN, the factorised prior, the rate-distortion model, coding through bytes."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from cae_helpers.entropy.coder import codec_from_prior, compress, decompress, quantise, total_bits_per_pixel
from cae_helpers.entropy.priors import FactorizedPrior
from cae_helpers.layers import GDN
from cae_helpers.learned import build_rd_model, build_transforms


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
    assert codec.positions == 16 and codec.probabilities.shape == (8, 65)
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


TINY = ["--filters", "8", "--latent-channels", "4", "--batch-size", "32", "--precision", "float32"]


def test_training_cli_saves_weights_that_load_and_code(tiny_archive, tmp_path):
    from cae_helpers.bench.rd import learned_curve, learned_dirs
    from cae_helpers.cli import main
    from cae_helpers.learned import load_learned

    out = tmp_path / "lmbda-0.01"
    assert main(["train-factorised", "--data", str(tiny_archive), "--lmbda", "0.01", "--epochs", "2", "--out", str(out), *TINY]) == 0
    assert (out / "weights.npz").is_file() and not (out / "backup").exists()
    info = json.loads((out / "config.json").read_text())
    assert info["config"]["lmbda"] == 0.01 and info["command"].startswith("python -m cae_helpers train-factorised")
    hist = json.loads((out / "history.json").read_text())
    assert len(hist["history"]["val_bpp"]) == 2 and hist["fit_images"] == 200 and hist["val_images"] == 100
    model, config = load_learned(out)
    with np.load(out / "weights.npz") as f:
        assert all(f[k].dtype == np.float16 for k in f.files)  # what ships is what is measured
    np.testing.assert_array_equal(model.analysis.get_weights()[0], f16 := np.load(out / "weights.npz")["arr_0"].astype(np.float32))
    assert f16.shape == (5, 5, 3, 8) and config.latent_channels == 4
    # warm start from it, then the benchmark's point for both
    out2 = tmp_path / "lmbda-0.1"
    assert main(["train-factorised", "--data", str(tiny_archive), "--lmbda", "0.1", "--epochs", "1", "--init-from", str(out), "--out", str(out2), *TINY]) == 0
    images = np.random.default_rng(4).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    dirs = learned_dirs([str(tmp_path)])
    assert dirs == [str(out), str(out2)]
    (curve,) = learned_curve(dirs, images).values()
    assert [p["lmbda"] for p in curve] == [0.01, 0.1] and all(p["bpp"] > 48 / 1024 for p in curve)


def test_load_learned_names_what_is_missing_or_wrong(tmp_path):
    from cae_helpers.learned import RDConfig, load_learned, save_learned

    with pytest.raises(FileNotFoundError, match="weights.npz"):
        load_learned(tmp_path)
    model = build_rd_model(0.01, filters=8, latent_channels=4)
    save_learned(model, RDConfig(lmbda=0.01, filters=8, latent_channels=6), tmp_path)  # config disagrees with the weights
    with pytest.raises(ValueError, match="shape|holds"):
        load_learned(tmp_path)
    with pytest.raises(ValueError, match="lmbda"):
        RDConfig(lmbda=0)


def test_training_resumes_after_an_interruption(tiny_archive, tmp_path):
    """A run stopped after epoch 1 and started again ends with the same weights as one straight run."""
    import keras

    from cae_helpers.data import load_cifar100, protocol_splits
    from cae_helpers.learned import RDConfig
    from cae_helpers.training.codec import train_factorised
    from cae_helpers.training import set_seed

    set_seed(0, deterministic=True)  # TF op determinism (process-wide), so "the same" can be exact
    data = load_cifar100(tiny_archive)
    fit, val = protocol_splits(data.train, data.test, "heldout", 100)
    config = RDConfig(lmbda=0.01, filters=8, latent_channels=4, epochs=2, precision="float32")
    straight, _ = train_factorised(config, fit.images, val.images, tmp_path / "a", verbose=0)

    class StopAfterFirst(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    train_factorised(config, fit.images, val.images, tmp_path / "b", verbose=0, callbacks=[StopAfterFirst()])
    resumed, info = train_factorised(config, fit.images, val.images, tmp_path / "b", verbose=0)
    assert info["resumed_from_epoch"] == 1
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_corrupt_learned_byte_strings_raise_or_decode_to_images():
    """The per-channel decoding path, like the reference codec's: CodecError or a well-formed image, nothing else."""
    from cae_helpers.errors import CodecError

    analysis, synthesis = build_transforms(filters=8, latent_channels=4, downsamples=2)
    prior = FactorizedPrior()
    prior(np.zeros((1, 8, 8, 4), np.float32))
    codec = codec_from_prior(analysis, synthesis, prior, lo=-40, hi=40)
    images = np.random.default_rng(5).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    blob = compress(images, codec)[0]
    rng = np.random.default_rng(6)
    outcomes = {"error": 0, "image": 0}
    for _ in range(200):
        b = bytearray(blob)
        if rng.random() < 0.5:
            i = int(rng.integers(6, len(b)))
            b[i] ^= 1 << int(rng.integers(8))
        else:
            b = b[: int(rng.integers(0, len(b)))]
        try:
            out = decompress([bytes(b)], codec)
        except CodecError:
            outcomes["error"] += 1
        else:
            assert out.shape == (1, 32, 32, 3) and out.dtype == np.uint8
            outcomes["image"] += 1
    assert outcomes["error"] > 0  # truncations at least must be caught
