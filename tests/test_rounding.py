"""Rate-distortion rounding (`entropy.rounding`): the encoder's choice of symbols, the bytes it makes, its options."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from cae_helpers.codec import pretrained_codec
from cae_helpers.entropy.rounding import RD_ROUNDING_WEIGHT, rd_round
from cae_helpers.entropy.tables import SCALES, TableCoder, bin_mean_offsets, gaussian_tables
from tiny import blocky_images


@pytest.fixture(scope="module")
def coder() -> TableCoder:
    return TableCoder(gaussian_tables())


def test_symbol_bits_add_up_to_bits_escapes_included(coder):
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(SCALES), (4, 8, 8, 5))
    values = np.rint(rng.normal(0, SCALES[idx] * 1.5)).astype(np.int64)
    values[0, 0, 0, :2], idx[0, 0, 0, 1] = 10**4, len(SCALES) - 1  # beyond every table's radius, the widest's too: escapes
    per = coder.symbol_bits(values, idx)
    assert per.shape == values.shape and np.all(per > 0)
    assert per.sum() == pytest.approx(coder.bits(values, idx), rel=1e-12)
    for v, j, got in zip(values.ravel(), idx.ravel(), per.ravel()):  # each as its own table prices it, escapes included
        freq, r = np.asarray(coder.tables[j], np.float64), coder.radius(j)
        assert got == -np.log2(freq[2 * r + 1 if abs(v) > r else v + r] / freq.sum()) + 16.0 * (abs(v) > r)
    assert per[0, 0, 0, 0] > 16 and per[0, 0, 0, 1] > 16


def test_weight_zero_is_the_nearest_integer(coder):
    r = np.random.default_rng(1).normal(0, 3, (500,))
    idx = np.full(r.shape, 20)
    np.testing.assert_array_equal(rd_round(r, idx, coder, 0.0), np.rint(r))


def test_each_value_takes_the_cheaper_of_its_two_integers(coder):
    """The chosen symbol is round(r) or the other integer around r, whichever has the lower bits + weight x error^2,
    the error measured from where the decoder puts the symbol (moved toward its bin's mean by `toward_means`)."""
    rng = np.random.default_rng(2)
    idx = rng.integers(0, len(SCALES), (2000,))
    r = rng.normal(0, SCALES[idx])
    for weight, toward in ((2.0, 0.0), (20.0, 0.7), (200.0, 1.0)):
        chosen = rd_round(r, idx, coder, weight, toward)
        nearest = np.rint(r)
        assert np.all((chosen == nearest) | (np.abs(chosen - r) <= 1) & (np.abs(chosen - nearest) == 1))

        def cost(k):
            return coder.symbol_bits(k, idx) + weight * (r - k - toward * bin_mean_offsets(k, idx)) ** 2

        assert np.all(cost(chosen) <= cost(nearest) + 1e-12)
        other = nearest + np.where(r >= nearest, 1.0, -1.0)
        assert np.all(cost(chosen) <= cost(other) + 1e-12)


def test_a_costly_symbol_gives_way_unless_error_weighs_more(coder):
    """Under the narrowest table (sigma 0.11) a 1 costs about 50 bits against 0's almost none: r = 0.6 is coded as 0
    at a small weight, as 1 at a very large one."""
    r, idx = np.array([0.6, -0.6]), np.array([0, 0])
    np.testing.assert_array_equal(rd_round(r, idx, coder, 1.0), [0, 0])
    np.testing.assert_array_equal(rd_round(r, idx, coder, 1e6), [1, -1])


def test_compress_rounding_option_keeps_the_byte_format():
    """Any weight makes byte strings the one decoder reads (the same header and format); the default weight is the
    codec's; bad weights are refused with a message naming the option, before any coding."""
    codec = pretrained_codec(quality=2).codec
    images = blocky_images(6, seed=3)
    plain, ruled = codec.compress(images, 2, rounding=0), codec.compress(images, 2)
    assert codec.rounding_weight == RD_ROUNDING_WEIGHT > 0
    layout = lambda b: (lambda h: (h.level16, h.height, h.width, h.tiled, h.z_coding, h.scale16))(codec.read_header(b))  # noqa: E731
    assert [layout(b) for b in plain] == [layout(b) for b in ruled]  # each image's colour correction is its own choice
    assert plain != ruled  # some symbol moved on these images
    for blobs in (plain, ruled):
        out = codec.decompress(blobs)
        assert out.shape == images.shape and out.dtype == np.uint8
    assert codec.compress(images, 2, rounding=RD_ROUNDING_WEIGHT) == ruled
    for bad in (-1.0, float("nan"), float("inf"), "48", True):
        with pytest.raises(ValueError, match="rounding must be a finite weight >= 0"):
            codec.compress(images, 2, rounding=bad)
    with pytest.raises(ValueError, match="rounding must be"):
        pretrained_codec(quality=2, rounding=-3)
    assert pretrained_codec(quality=2, rounding=0).compress(images) == plain


@pytest.mark.skipif(not os.environ.get("CIFAR100_PATH"), reason="set CIFAR100_PATH to the CIFAR-100 archive to time codecs on its images")
def test_the_speed_ab_times_each_rounding_weight_as_a_codec_of_its_own(tmp_path):
    from tool_module import load_tool

    from cae_helpers.codec import ZOO

    tool, out = load_tool("codec_speed_ab"), tmp_path / "speed"
    tool.main([str(ZOO / "hyperprior-exact"), "--roundings", "0", "20", "--data", os.environ["CIFAR100_PATH"],
               "--images", "4", "--rounds", "2", "--no-photo", "--out", str(out)])
    found = json.loads((out / "speed.json").read_text())
    labels = [f"{ZOO / 'hyperprior-exact'} rounding={w}" for w in (0, 20)]
    assert list(found["summary"]) == labels and found["summary"][labels[0]]["cifar"]["compress"]["ratio_to_first"] == 1.0
    assert [len(found["times_s"][label]["cifar"]["compress"]) for label in labels] == [2, 2]
