"""tools/prune_codec.py: a pruned copy keeps exactly the chosen channels of y and z, and channel usage is measured per level."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cae_helpers.codec import HyperpriorCodec
from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior

from tiny import TINY
from tool_module import load_tool


@pytest.fixture(scope="module")
def tool():
    return load_tool("prune_codec")


def test_a_pruned_copy_of_a_codec_that_ignores_the_dropped_channels_computes_the_same(tool):
    """Dropped channels read by nothing and written as zero: the pruned model must give the same images and bits."""
    import keras

    keras.utils.set_random_seed(0)
    codec = HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**TINY)))
    keep_y, keep_z = np.array([0, 2, 5, 6, 7]), np.array([1, 3])
    drop_y, drop_z = np.setdiff1d(np.arange(8), keep_y), np.setdiff1d(np.arange(4), keep_z)
    src = codec.model
    for part, layer, cut in (("synthesis", "gs_in", lambda k: k.__setitem__((slice(None), slice(None), drop_y), 0)),
                             ("hyper_analysis", "ha0", lambda k: k.__setitem__((slice(None), slice(None), drop_y), 0)),
                             ("hyper_synthesis", "hs0", lambda k: k.__setitem__((Ellipsis, drop_z), 0))):
        weights = src.parts()[part].get_layer(layer).get_weights()
        cut(weights[0])
        src.parts()[part].get_layer(layer).set_weights(weights)
    kernel, bias = src.hyper_analysis.get_layer("ha_out").get_weights()
    kernel[..., drop_z], bias[drop_z] = 0, 0  # dropped z channels: always 0, which the prior must then also see as such
    src.hyper_analysis.get_layer("ha_out").set_weights([kernel, bias])
    usage = {"y_hat": np.zeros((3, 8)), "y_gained": np.zeros((3, 8))}
    pruned = build_hyperprior(dataclasses.replace(src.config, latent_channels=5, hyper_channels=2))
    tool.pruned_weights(codec, pruned, keep_y, keep_z, usage)
    x = np.random.default_rng(1).random((4, 32, 32, 3)).astype(np.float32)
    levels = np.array([0, 1, 2, 1.5], np.float32)
    (a, bits_a, _), (b, bits_b, _) = src(x, levels=levels), pruned(x, levels=levels)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    # the pruned model's bits are the source's bits of the kept channels, y and z
    from cae_helpers.entropy.priors import bits, gaussian_likelihood

    y_g = src.y_gain(src.analysis(x), levels)
    z = np.round(np.asarray(src.z_gain(src.hyper_analysis(y_g), levels)))
    gain = src.y_gain.gains(levels)[:, None, None, :]
    params = src.hyper_synthesis(z / np.asarray(src.z_gain.gains(levels))[:, None, None, :])
    mu, sigma, y_hat = (np.asarray(t) for t in src.latent_parameters(params, gain, lambda s, m: np.round(y_g - m) + m))
    kept = bits(gaussian_likelihood(y_hat[..., keep_y], mu[..., keep_y], sigma[..., keep_y])) \
        + bits(np.asarray(src.z_prior.likelihood(z))[..., keep_z])
    np.testing.assert_allclose(np.asarray(bits_b), np.asarray(kept), rtol=1e-4)
    assert np.all(np.asarray(bits_a) > np.asarray(bits_b))  # and the dropped channels did cost something there
    np.testing.assert_allclose(np.asarray(pruned.z_prior.likelihood(z[..., keep_z])),  # each kept z channel keeps its prior
                               np.asarray(src.z_prior.likelihood(z))[..., keep_z], rtol=1e-6)


def test_channel_usage_counts_bits_per_level_and_channel(tool):
    import keras

    keras.utils.set_random_seed(0)
    codec = HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**TINY)))
    images = np.random.default_rng(2).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    usage = tool.channel_usage(codec, images)
    assert usage["y_bits"].shape == (3, 8) and usage["z_bits"].shape == (3, 4)
    assert np.all(usage["y_bits"] >= 0) and usage["y_bits"][2].sum() > usage["y_bits"][0].sum()  # more rate at higher levels
    budget = codec.byte_budget(images, 3)  # level 2: the per-channel bits add up to the coder's count of y
    assert usage["y_bits"][2].sum() == pytest.approx(8 * budget["y"].mean(), rel=1e-6)


def test_a_coded_only_copy_keeps_the_encoder_and_side_information_exactly(tool):
    """--coded-channels: analysis and hyper-analysis whole (outputs reordered), z the same; with a synthesis that ignores
    the dropped channels the decoded images are the same too, and the bits are the kept channels' y bits plus all of z."""
    import keras

    from cae_helpers.entropy.priors import bits, gaussian_likelihood

    keras.utils.set_random_seed(0)
    codec = HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**TINY)))
    src = codec.model
    keep_y = np.array([1, 2, 4, 7])
    drop_y = np.setdiff1d(np.arange(8), keep_y)
    kernel, bias = src.synthesis.get_layer("gs_in").get_weights()
    kernel[:, :, drop_y] = 0
    src.synthesis.get_layer("gs_in").set_weights([kernel, bias])
    coded = build_hyperprior(dataclasses.replace(src.config, coded_channels=4))
    tool.coded_weights(codec, coded, keep_y, {"y_hat": np.zeros((3, 8))})
    x = np.random.default_rng(1).random((4, 32, 32, 3)).astype(np.float32)
    levels = np.array([0, 1, 2, 0.5], np.float32)
    np.testing.assert_allclose(np.asarray(coded.analysis(x))[..., :4], np.asarray(src.analysis(x))[..., keep_y], atol=1e-6)
    z_src = np.asarray(src.hyper_analysis(src.y_gain(src.analysis(x), levels)))
    np.testing.assert_allclose(np.asarray(coded.hyper_analysis(coded.y_gain(coded.analysis(x), levels))), z_src, atol=1e-5)
    (a, _, _), (b, bits_b, _) = src(x, levels=levels), coded(x, levels=levels)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    y_g = src.y_gain(src.analysis(x), levels)
    z = np.round(np.asarray(src.z_gain(z_src, levels)))
    gain = src.y_gain.gains(levels)[:, None, None, :]
    params = src.hyper_synthesis(z / np.asarray(src.z_gain.gains(levels))[:, None, None, :])
    mu, sigma, y_hat = (np.asarray(t) for t in src.latent_parameters(params, gain, lambda s, m: np.round(y_g - m) + m))
    kept = bits(gaussian_likelihood(y_hat[..., keep_y], mu[..., keep_y], sigma[..., keep_y])) \
        + bits(np.asarray(src.z_prior.likelihood(z)))
    np.testing.assert_allclose(np.asarray(bits_b), np.asarray(kept), rtol=1e-4)
