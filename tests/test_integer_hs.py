"""h_s in exact integer arithmetic (`cae_helpers.integer_hs`): exact in any summation order, near the float64 h_s,
bounded by construction, shipped with a codec and part of its identity."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest

from cae_helpers.codec import ZOO, HyperpriorCodec
from cae_helpers.entropy.tables import scale_indexes
from cae_helpers.errors import CodecError
from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior
from cae_helpers.integer_hs import EXACT_BELOW, LAYERS, OUT_BITS, RAW_POSITIONS, IntegerHyperSynthesis
from cae_helpers.numpy_convs import conv_transpose_2x

from tiny import TINY, assert_decodes_as_committed, random_images


@pytest.fixture(scope="module")
def float_codec(tmp_path_factory):
    """A tiny codec as shipped (float16 weights, saved and loaded), h_s in float64."""
    import keras

    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("tiny") / "codec"
    HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**TINY))).save(folder)
    return HyperpriorCodec.load(folder)


@pytest.fixture(scope="module")
def exact_codec(float_codec):
    return dataclasses.replace(float_codec, integer_hs=IntegerHyperSynthesis.from_codec(float_codec))


def _z(codec, n: int = 6, seed: int = 1) -> np.ndarray:
    """Random integer hyper-latents (n, 2, 3, Nz) float64 within the codec's z range."""
    nz = codec.z_tables.shape[0]
    return np.random.default_rng(seed).integers(-6, 7, (n, 2, 3, nz)).astype(np.float64)


def test_the_sums_are_exact_whatever_order_the_input_channels_are_added_in(default_codec):
    """The same z with its channels (and the first kernel's) permuted: the same bits, so no BLAS order can move a table."""
    exact = IntegerHyperSynthesis.from_codec(default_codec)
    z, level16 = _z(default_codec), default_codec.level16(2.5)
    perm = np.random.default_rng(2).permutation(z.shape[-1])
    shuffled = dataclasses.replace(exact, kernels=(exact.kernels[0][..., perm],) + exact.kernels[1:],
                                   z_scales=exact.z_scales[:, perm])
    peaks = []
    assert np.array_equal(shuffled.raw(z[..., perm], level16), exact.raw(z, level16, peaks))
    assert len(peaks) == 3 and max(peaks) < 0.1  # far from binding: the clips only guarantee the bound


def test_running_a_few_images_at_a_time_changes_nothing(default_codec):
    """`raw` on 150 images (more than one run of RAW_POSITIONS z positions) equals each image alone, and its peaks are the runs' largest."""
    exact = IntegerHyperSynthesis.from_codec(default_codec)
    z, level16 = _z(default_codec, n=150, seed=3), default_codec.level16(6)  # (150, 2, 3, Nz)
    assert len(z) * 6 > 2 * RAW_POSITIONS  # at least three runs
    z[100] *= 3  # one image with larger activations, in the last run
    peaks, alone = [], [[] for _ in range(150)]
    together = exact.raw(z, level16, peaks)
    each = np.concatenate([exact.raw(z[i:i + 1], level16, alone[i]) for i in range(150)])
    assert np.array_equal(together, each)
    assert peaks == [max(layer) for layer in zip(*alone)] and peaks[0] == alone[100][0]  # z itself is largest there


def test_the_integer_hs_stays_near_the_float_one_and_picks_its_tables(default_codec):
    """Means within 0.005, log-scales within 0.02 of the float64 h_s; tables differ only where a value sits near a boundary."""
    exact = IntegerHyperSynthesis.from_codec(default_codec)
    z = _z(default_codec, 20)
    for quality in (1, 4.5, 8):
        level16 = default_codec.level16(quality)
        level = level16 / 16
        (mu_i, ls_i), (mu_f, ls_f) = (np.split(r, 2, axis=-1) for r in (exact.raw(z, level16), default_codec.with_float_hs().hyper_raw(z, level)))
        np.testing.assert_allclose(mu_i, mu_f, atol=0.005)
        np.testing.assert_allclose(np.clip(ls_i, -10, 10), np.clip(ls_f, -10, 10), atol=0.02)
        gy = default_codec.gains(level)[0]
        idx_f = scale_indexes(np.exp(np.clip(ls_i, -10, 10)) * gy)  # the float rule on the same values
        assert np.mean(exact.indexes(ls_i, level16) != idx_f) < 1e-3


def test_every_partial_sum_is_bounded_below_2_to_the_53(default_codec):
    """The clip of each layer's input keeps sum |a| |K| + |B| below 2^53 for every output; real activations stay far inside."""
    exact = IntegerHyperSynthesis.from_codec(default_codec)
    for (conv, _), k, b, clip in zip(LAYERS, exact.kernels, exact.biases, exact.clips):
        axes = (0, 1, 3) if conv is conv_transpose_2x else (0, 1, 2)
        worst = max(int(s) for s in np.abs(k).sum(axis=axes))
        assert clip * worst + int(np.abs(b).max()) < EXACT_BELOW
    wild = dataclasses.replace(exact, kernels=(exact.kernels[0] * 2**30,) + exact.kernels[1:])
    with pytest.raises(ValueError, match="cannot stay exact"):
        wild.clips  # noqa: B018


def test_the_default_with_its_hs_in_float64_is_hyperprior_continuous(default_codec):
    """The default ships the integer h_s; without it, it is hyperprior-continuous (the same identity), which float-h_s probes run."""
    from cae_helpers.codec import shipped_codec

    float_hs = default_codec.with_float_hs()
    assert default_codec.integer_hs is not None and float_hs.integer_hs is None
    assert float_hs.model_id == shipped_codec("hyperprior-continuous").model_id != default_codec.model_id


def test_the_output_is_on_the_grid_and_the_level_must_be(exact_codec):
    raw = exact_codec.hyper_raw(_z(exact_codec), 1.0)
    assert np.array_equal(raw * 2.0**OUT_BITS, np.rint(raw * 2.0**OUT_BITS))
    with pytest.raises(ValueError, match="multiple of 1/16"):
        exact_codec.hyper_raw(_z(exact_codec), 1.03)


def test_a_codec_with_an_integer_hs_round_trips_ships_it_and_is_another_identity(float_codec, exact_codec, tmp_path):
    images = random_images(4)
    blobs = exact_codec.compress(images, 2)
    assert exact_codec.decompress(blobs).shape == images.shape
    exact_codec.save(tmp_path / "codec")
    loaded = HyperpriorCodec.load(tmp_path / "codec")
    assert loaded.integer_hs is not None and loaded.model_id == exact_codec.model_id != float_codec.model_id
    np.testing.assert_array_equal(loaded.decompress(blobs), exact_codec.decompress(blobs))
    with pytest.raises(CodecError):
        float_codec.decompress(blobs[:1])  # the float codec refuses the integer codec's strings (another identity)


def test_a_model_with_channel_context_is_refused(float_codec):
    import keras

    keras.utils.set_random_seed(0)
    context = HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**TINY | {"context_slices": 2})))
    with pytest.raises(ValueError, match="channel context"):
        IntegerHyperSynthesis.from_codec(context)


STRINGS = Path(__file__).parent / "data" / "hyperprior-exact-strings.npz"  # made on an AMD EPYC Zen 4 at 3568cf2 + the zoo entry


@pytest.mark.skipif(not STRINGS.is_file(), reason="tests/data/hyperprior-exact-strings.npz is missing")
def test_the_exact_codecs_committed_strings_decode_here_to_their_pixels():
    """Strings `hyperprior-exact` made on another machine (tools/make_string_fixture.py) decode here: every check word
    is met (the same tables, by construction), and the pixels match up to the synthesis' float32 rounding;
    `hyperprior-continuous`, the same weights with h_s in float64, refuses them."""
    from cae_helpers.codec import pretrained_codec

    committed = np.load(STRINGS)
    codec = pretrained_codec(name="hyperprior-exact").codec
    for layout in ("whole", "tiles", "half"):
        blob = committed[f"hyperprior-exact/{layout}/blob"].tobytes()
        assert_decodes_as_committed(codec.decompress_image(blob), committed[f"hyperprior-exact/{layout}/decoded"])
    for q in (1, 4, 8):
        data, lengths = committed[f"hyperprior-exact/crops/q{q}/blobs"].tobytes(), committed[f"hyperprior-exact/crops/q{q}/lengths"]
        blobs = [data[a - n:a] for a, n in zip(np.cumsum(lengths), lengths)]
        assert_decodes_as_committed(codec.decompress(blobs), committed[f"hyperprior-exact/crops/q{q}/decoded"])
    with pytest.raises(CodecError):
        pretrained_codec(name="hyperprior-continuous").decompress([blobs[0]])


@pytest.mark.skipif(not os.environ.get("CIFAR100_PATH"), reason="set CIFAR100_PATH to the CIFAR-100 archive to time codecs on its images")
def test_the_speed_ab_times_both_codecs_in_every_round_and_keeps_its_results(tmp_path):
    from tool_module import load_tool

    tool, out = load_tool("codec_speed_ab"), tmp_path / "speed"
    argv = [str(ZOO / "hyperprior-continuous"), str(ZOO / "hyperprior-exact"), "--data", os.environ["CIFAR100_PATH"],
            "--images", "4", "--rounds", "2", "--no-photo", "--out", str(out)]
    tool.main(argv)
    found = json.loads((out / "speed.json").read_text())
    assert found["images"] == {"cifar": [4, 32, 32, 3]}
    for codec in argv[:2]:
        assert [len(found["times_s"][codec]["cifar"][k]) for k in ("compress", "decompress")] == [2, 2]
    assert found["summary"][argv[0]]["cifar"]["compress"]["ratio_to_first"] == 1.0
    with pytest.raises(SystemExit, match="exists"):
        tool.main(argv)
