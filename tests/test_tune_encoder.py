"""tune_encoder: the model's coded path is what the coder sends and decodes, and training it moves the encoder alone."""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers.codec import HyperpriorCodec
from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior, copy_weights, soft_ste_round

from tiny import TINY, random_images


@pytest.fixture(scope="module")
def saved_codec(tmp_path_factory):
    """A tiny random codec with bin-mean weights, saved: (folder, codec)."""
    import keras

    keras.utils.set_random_seed(0)
    codec = HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**TINY)))
    codec.bin_mean_weights = np.array([0.8, 0.5, 0.2])
    folder = tmp_path_factory.mktemp("codec")
    codec.save(folder)
    return folder, HyperpriorCodec.load(folder)


def tuned_model(folder):
    """The saved codec as a tune_encoder model, its decoder frozen and its bin-mean weights taken over."""
    from cae_helpers.training.codec import freeze_decoder

    config = HyperpriorConfig(**(TINY | {"tune_encoder": True, "init_from": str(folder)}))
    model = build_hyperprior(config)
    copy_weights(model, folder)
    freeze_decoder(model, folder)
    return model


@pytest.mark.parametrize("quality", [1, 2.5])
def test_the_coded_path_is_what_the_codec_sends_and_decodes(saved_codec, quality):
    folder, codec = saved_codec
    model = tuned_model(folder)
    np.testing.assert_array_equal(model.toward_means, np.float32([0.8, 0.5, 0.2]))
    assert model.use_coded_path and not build_hyperprior(model.config).use_coded_path  # a saved codec loads with the usual path
    images = random_images(8)
    blobs = codec.compress(images, quality, rounding=0)  # each value to the nearest integer, as the coded path rounds
    x_hat, bits, _ = model(images.astype(np.float32) / 255, levels=np.full(len(images), quality - 1, np.float32))
    expected = np.clip(np.rint(np.asarray(x_hat) * 255), 0, 255)
    out = codec.decompress(blobs)  # decoded toward the bins' means, as the coded path moves them
    assert np.abs(out.astype(float) - expected).mean() < 0.01  # at the bins' centres instead: 0.064 at quality 2.5
    real_bits = np.array([8 * len(b) for b in blobs])
    bound = np.asarray(bits) + 8 * 8 + 64 + 0.05 * np.asarray(bits)  # header, ANS flush, tables (as the plain path's test)
    assert np.all(np.asarray(bits) < real_bits) and np.all(real_bits < bound)


def test_soft_ste_round_rounds_forward_and_gives_the_mean_a_gradient():
    import tensorflow as tf

    y = tf.constant(np.linspace(-2.0, 2.0, 401, dtype=np.float32))
    mu = tf.Variable(np.zeros(401, np.float32))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(y)
        y_hat = soft_ste_round(y - mu) + mu
    np.testing.assert_array_equal(y_hat.numpy(), np.round(y.numpy()))
    dy, dmu = tape.gradient(y_hat, y).numpy(), tape.gradient(y_hat, mu).numpy()
    assert abs(dy[:-1].mean() - 1.0) < 0.02  # over whole bins the mean slope is the straight-through estimator's 1
    assert np.abs(dmu).max() > 0.5  # straight-through would give the mean none: round(y - mu) + mu has d/dmu = 0
    edge, centre = np.argmin(np.abs(y.numpy() - 0.5)), np.argmin(np.abs(y.numpy()))
    assert dy[edge] > 1 > dy[centre]  # steeper at a bin's edge than at its centre


def test_tune_encoder_trains_the_encoder_and_leaves_the_decoder(saved_codec, tiny_archive, tmp_path):
    from cae_helpers.data import load_cifar100, protocol_splits
    from cae_helpers.training.codec import train_hyperprior

    folder, codec = saved_codec
    data = load_cifar100(tiny_archive)
    fit, val = protocol_splits(data.train, data.test, "heldout", 100)
    config = HyperpriorConfig(**(TINY | {"tune_encoder": True, "init_from": str(folder), "epochs": 1}))
    model, info = train_hyperprior(config, fit.images, val.images, tmp_path / "run")
    assert info["epochs_done"] == 1
    start = codec.model.parts()
    for name, part in model.parts().items():
        same = all(np.array_equal(a, b) for a, b in zip(part.get_weights(), start[name].get_weights()))
        assert same == (name not in ("analysis", "hyper_analysis")), name


@pytest.mark.parametrize("extra", [{}, {"init_from": "somewhere", "init_partial": True}, {"init_from": "somewhere", "context_slices": 2}])
def test_tune_encoder_needs_a_whole_saved_codec_without_context(extra):
    with pytest.raises(ValueError, match="tune_encoder"):
        HyperpriorConfig(**(TINY | {"tune_encoder": True} | extra))


def test_tune_encoder_is_a_train_codec_flag():
    from cae_helpers.cli import build_parser

    args = build_parser().parse_args(["train-codec", "--tune-encoder", "--init-from", "cae_helpers/zoo/hyperprior-continuous"])
    assert args.tune_encoder and not build_parser().parse_args(["train-codec"]).tune_encoder


def test_encoder_blocks_start_as_the_identity_and_code_as_the_saved_codec(saved_codec, tmp_path):
    """A model with two encoder blocks started from a codec without them: the same latents, so the same symbols."""
    folder, codec = saved_codec
    model = build_hyperprior(HyperpriorConfig(**(TINY | {"encoder_blocks": 2})))
    copy_weights(model, folder)
    assert [layer.name for layer in model.analysis.layers].count("ga_res1") == 1
    x = random_images(4).astype(np.float32) / 255
    np.testing.assert_array_equal(np.asarray(model.analysis(x)), np.asarray(codec.model.analysis(x)))
    bigger = HyperpriorCodec.from_model(model)
    bigger.bin_mean_weights = codec.bin_mean_weights
    bigger.save(tmp_path / "bigger")  # saved and loaded with its blocks
    loaded = HyperpriorCodec.load(tmp_path / "bigger")
    images = random_images(4)
    np.testing.assert_array_equal(loaded._symbols(images, 1.0)[0], codec._symbols(images, 1.0)[0])
    np.testing.assert_array_equal(loaded.decompress(loaded.compress(images, 2)), codec.decompress(codec.compress(images, 2)))
    with pytest.raises(ValueError, match="encoder_blocks: 2 there, 0 here"):
        copy_weights(build_hyperprior(HyperpriorConfig(**TINY)), tmp_path / "bigger")


def test_decoder_blocks_start_as_the_identity_and_decode_as_the_saved_codec(saved_codec, tmp_path):
    """A model with two decoder blocks started from a codec without them: the same pixels from the same bytes."""
    from cae_helpers.hyperprior import new_blocks

    folder, codec = saved_codec
    model = build_hyperprior(HyperpriorConfig(**(TINY | {"decoder_blocks": 2})))
    copy_weights(model, folder)
    assert [layer.name for layer in new_blocks(model, folder)] == ["gs_res0_0", "gs_res0_1", "gs_res0", "gs_res1_0", "gs_res1_1", "gs_res1"]
    bigger = HyperpriorCodec.from_model(model)
    bigger.bin_mean_weights = codec.bin_mean_weights
    bigger.save(tmp_path / "bigger")
    loaded = HyperpriorCodec.load(tmp_path / "bigger")
    assert new_blocks(model, tmp_path / "bigger") == []
    images = random_images(4)
    np.testing.assert_array_equal(loaded.decompress(loaded.compress(images, 2)), codec.decompress(codec.compress(images, 2)))
    assert loaded.model_id != codec.model_id  # another decoder: its own identity, so neither decodes the other's strings
    with pytest.raises(ValueError, match="decoder_blocks: 2 there, 0 here"):
        copy_weights(build_hyperprior(HyperpriorConfig(**TINY)), tmp_path / "bigger")


def _trained_blocks_run(folder, tiny_archive, out, **blocks):
    """One epoch of tune_blocks_only from the saved codec with these blocks: the trained model."""
    from cae_helpers.data import load_cifar100, protocol_splits
    from cae_helpers.training.codec import train_hyperprior

    data = load_cifar100(tiny_archive)
    fit, val = protocol_splits(data.train, data.test, "heldout", 100)
    config = HyperpriorConfig(**(TINY | {"tune_encoder": True, "init_from": str(folder), "epochs": 1, "tune_blocks_only": True,
                                         "learning_rate": 1e-2} | blocks))
    model, info = train_hyperprior(config, fit.images, val.images, out)
    assert info["epochs_done"] == 1
    return model


@pytest.mark.parametrize("blocks", [{"encoder_blocks": 1}, {"decoder_blocks": 1}])
def test_tune_blocks_only_trains_the_new_blocks_alone(saved_codec, tiny_archive, tmp_path, blocks):
    folder, codec = saved_codec
    model = _trained_blocks_run(folder, tiny_archive, tmp_path / "run", **blocks)
    start = codec.model.parts()
    for name, part in model.parts().items():
        if name not in ("analysis", "synthesis"):
            assert all(np.array_equal(a, b) for a, b in zip(part.get_weights(), start[name].get_weights())), name
    for net in (model.analysis, model.synthesis):
        for layer in net.layers:
            weights = layer.get_weights()
            if layer.name.startswith(("ga_res", "gs_res")):
                assert not weights or np.abs(weights[0]).max() > 0, layer.name  # the zero-started convolution moved
            else:
                old = start[net.name].get_layer(layer.name).get_weights()
                assert all(np.array_equal(a, b) for a, b in zip(weights, old)), layer.name


def test_decoder_blocks_do_not_sit_idle_under_tune_encoder(saved_codec):
    """tune_encoder without tune_blocks_only keeps the decoder fixed: new decoder blocks would never leave the identity."""
    from cae_helpers.training.codec import freeze_decoder

    folder, _ = saved_codec
    model = build_hyperprior(HyperpriorConfig(**(TINY | {"tune_encoder": True, "init_from": str(folder), "decoder_blocks": 1})))
    with pytest.raises(ValueError, match="tune_blocks_only"):
        freeze_decoder(model, folder)


@pytest.mark.parametrize("extra", [{"tune_blocks_only": True}, {"tune_blocks_only": True, "encoder_blocks": 1},
                                   {"tune_blocks_only": True, "decoder_blocks": 1}, {"encoder_blocks": -1},
                                   {"decoder_blocks": -1}])
def test_block_settings_are_checked(extra):
    with pytest.raises(ValueError, match="encoder_blocks|decoder_blocks|tune_blocks_only"):
        HyperpriorConfig(**(TINY | extra))
