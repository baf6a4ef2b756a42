"""A codec that codes only the first C of its M latent channels (`coded_channels`): shapes, real bytes, every path."""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers import tiling
from cae_helpers.codec import HyperpriorCodec
from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior

from tiny import TINY, random_images as _images


@pytest.fixture(scope="module")
def codec():
    import keras

    keras.utils.set_random_seed(0)
    return HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**TINY, coded_channels=5)))


def test_coded_channels_are_checked():
    assert HyperpriorConfig(**TINY).coded == 8 and HyperpriorConfig(**TINY, coded_channels=3).coded == 3
    with pytest.raises(ValueError, match="coded_channels"):
        HyperpriorConfig(**TINY, coded_channels=9)
    with pytest.raises(ValueError, match="context_slices"):  # slices divide the coded channels, not M
        HyperpriorConfig(**TINY, coded_channels=6, context_slices=4)
    assert HyperpriorConfig(**TINY, coded_channels=6, context_slices=3).slices == 3


def test_only_the_coded_channels_reach_the_decoder_while_the_hyper_analysis_reads_all(codec):
    m = codec.model
    assert m.analysis.output_shape[-1] == 8 and m.hyper_analysis.input_shape[-1] == 8
    assert m.synthesis.input_shape[-1] == 5 and m.hyper_synthesis.output_shape[-1] == 10
    assert codec.gains(1)[0].shape == (5,) and codec._all_gains(1)[0].shape == (8,)
    x = _images(2).astype(np.float32) / 255
    y, z = codec.gained_latents(x, 1)
    assert y.shape == (2, 8, 8, 5) and z.shape == (2, 2, 2, 4)
    # the uncoded channels change z (they feed h_a) but are not coded: zeroing their analysis output moves z only
    kernel, bias = m.analysis.get_layer("ga_out").get_weights()
    saved = [kernel.copy(), bias.copy()]
    kernel[..., 5:], bias[5:] = 0, 0
    m.analysis.get_layer("ga_out").set_weights([kernel, bias])
    try:
        y0, z0 = codec.gained_latents(x, 1)
    finally:
        m.analysis.get_layer("ga_out").set_weights(saved)
    np.testing.assert_array_equal(y0, y)
    assert not np.allclose(z0, z)


def test_tiles_and_strips_decode_as_the_whole_image(codec, monkeypatch):
    image = _images(1, 80, 72)[0]
    monkeypatch.setattr(tiling, "TILE_GROUP", 2)
    assert codec.decompress(codec.compress(image[None], 2, tiles=True))[0].shape == image.shape
    whole = codec.compress(image[None], 2, tiles=False)[0]
    monkeypatch.setattr(tiling, "NETWORK_STRIP_PIXELS", 1 << 11)
    monkeypatch.setattr(tiling, "CODING_STRIP_VALUES", 1 << 9)
    strips = codec.decompress(codec.compress(image[None], 2, tiles=False))[0]  # the strip path on both sides
    assert strips.shape == image.shape
    assert np.mean(np.abs(strips.astype(int) - codec.decompress([whole])[0].astype(int))) < 1  # float rounding at most


def test_refinement_refines_the_coded_channels(codec):
    from cae_helpers.refine import RefineSettings

    images = _images(2)
    plain = codec.compress(images, 2)
    refined = codec.compress(images, 2, refine=RefineSettings(steps=5))
    assert codec.decompress(refined).shape == images.shape and len(refined) == len(plain)
