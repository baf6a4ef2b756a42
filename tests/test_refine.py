"""Encoder-side latent refinement: its parts, and that it lowers the real loss of the shipped codec with the same decoder."""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers.codec import pretrained_codec, shipped_codec
from cae_helpers.refine import OFFSET_SYMBOLS, RefineSettings, _Adam, better_of, decoded_offsets, soft_round


@pytest.fixture(scope="module")
def shipped():
    return shipped_codec()  # the default, as pretrained_codec loads it


@pytest.fixture(scope="module")
def photo():
    """A 64x96 crop of scikit-learn's china.jpg (a photograph, not CIFAR; never scikit-image's)."""
    from cae_helpers.bench.photos import sample_photos

    return np.ascontiguousarray(sample_photos("sklearn")["china.jpg"][200:264, 300:396])


def test_settings_are_checked_and_the_temperature_anneals():
    s = RefineSettings(steps=11, tau_start=0.5, tau_end=0.005)
    assert s.tau(0) == pytest.approx(0.5) and s.tau(10) == pytest.approx(0.005) and s.tau(5) == pytest.approx(0.05)
    for bad in (dict(steps=0), dict(learning_rate=0), dict(tau_end=0.0), dict(tau_start=0.1, tau_end=0.2),
                dict(learning_rate=0.01, learning_rate_end=0.02), dict(learning_rate_end=0.0)):
        with pytest.raises(ValueError):
            RefineSettings(**bad)


def test_the_step_size_falls_from_learning_rate_to_its_end_or_stays():
    s = RefineSettings(steps=11, learning_rate=0.04, learning_rate_end=0.004)
    assert s.lr(0) == pytest.approx(0.04) and s.lr(10) == pytest.approx(0.004) and s.lr(5) == pytest.approx(0.04 / 10**0.5)
    flat = RefineSettings(steps=11, learning_rate=0.02, learning_rate_end=None)
    assert [flat.lr(t) for t in range(11)] == [pytest.approx(0.02)] * 11


def test_refinement_sees_each_value_where_the_decoder_puts_it():
    """decoded_offsets (in the refinement graph) = the decoder's bin_mean_offsets of round(y - mu) under sigma's table."""
    from cae_helpers.entropy.tables import bin_mean_offsets, scale_indexes

    rng = np.random.default_rng(0)
    sigma = np.exp(rng.uniform(np.log(0.05), np.log(300), 4000)).astype(np.float32)
    mu = rng.normal(0, 3, 4000).astype(np.float32)
    y = (mu + sigma * rng.normal(0, 2, 4000)).astype(np.float32)
    y[:50] = mu[:50] - rng.uniform(OFFSET_SYMBOLS + 1, 3 * OFFSET_SYMBOLS, 50)  # past the table: read at its last symbol
    k = np.round(y - mu)
    want = bin_mean_offsets(np.clip(k, -OFFSET_SYMBOLS, OFFSET_SYMBOLS), scale_indexes(sigma))
    got = np.asarray(decoded_offsets(y, mu, sigma), np.float64)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert np.abs(want).max() > 0.4 and np.all(got[k == 0] == 0)


def test_soft_rounding_stays_between_floor_and_ceiling_and_hardens_as_tau_falls():
    v = np.array([-1.7, -0.2, 0.1, 0.49, 0.51, 2.9], np.float32)
    zero = np.zeros_like(v)
    cold = np.asarray(soft_round(v, np.float32(1e-3), zero))
    np.testing.assert_allclose(cold, np.round(v), atol=1e-3)
    warm = np.asarray(soft_round(v, np.float32(0.5), zero))
    assert np.all(warm >= np.floor(v) - 1e-6) and np.all(warm <= np.ceil(v) + 1e-6)
    assert np.all(np.abs(warm - np.round(v)) > 1e-3)  # not yet hard
    up = np.asarray(soft_round(v, np.float32(0.05), np.full_like(v, 50.0)))  # large noise: the ceiling whatever v
    down = np.asarray(soft_round(v, np.float32(0.05), np.full_like(v, -50.0)))
    np.testing.assert_allclose(up, np.ceil(v), atol=1e-3)
    np.testing.assert_allclose(down, np.floor(v), atol=1e-3)


def test_adam_matches_keras_adam():
    import keras

    rng = np.random.default_rng(0)
    start = rng.normal(size=(3, 4)).astype(np.float32)
    grads = [rng.normal(size=(3, 4)).astype(np.float32) for _ in range(5)]
    mine = [start.copy()]
    adam = _Adam(mine, 0.05)
    var = keras.Variable(start.copy())
    ref = keras.optimizers.Adam(0.05, epsilon=1e-8)
    for g in grads:
        adam.step(mine, [g])
        ref.apply_gradients([(keras.ops.convert_to_tensor(g), var)])
    np.testing.assert_allclose(mine[0], np.asarray(var), rtol=1e-5, atol=1e-6)
    halved, full = [start.copy()], [start.copy()]
    a, b = _Adam(halved, 0.05), _Adam(full, 0.05)
    a.step(halved, [grads[0]], lr=0.025)  # a step size given per step replaces the constant one
    b.step(full, [grads[0]])
    np.testing.assert_allclose(halved[0] - start, (full[0] - start) / 2, rtol=1e-5, atol=1e-7)


def test_better_of_keeps_each_images_lower_loss():
    plain = (np.zeros((3, 2, 2, 1)), np.zeros((3, 1, 1, 2)))
    refined = (np.ones((3, 2, 2, 1)), np.ones((3, 1, 1, 2)))
    y, z = better_of(plain, refined, np.array([1.0, 1.0, 1.0]), np.array([0.5, 2.0, 1.0]))
    assert y[:, 0, 0, 0].tolist() == [1, 0, 0] and z[:, 0, 0, 0].tolist() == [1, 0, 0]


def test_refinement_lowers_the_measured_loss_with_the_same_decoder(shipped, photo):
    level = 2.0
    x = photo[None]
    plain = shipped.compress(x, 3)[0]
    refined = shipped.compress(x, 3, refine=RefineSettings(steps=30))[0]
    assert refined != plain
    out_plain, out_refined = shipped.decompress([plain])[0], shipped.decompress([refined])[0]

    def loss(blob, out):  # what refinement minimises, measured from the real bytes and pixels
        mse = np.mean((out.astype(np.float64) - photo) ** 2) / 255.0**2
        return 8 * len(blob) / photo[..., 0].size + shipped.lmbda(level) * 255.0**2 * mse

    assert loss(refined, out_refined) < loss(plain, out_plain)
    assert len(refined) < len(plain)  # on a photograph the gain is mostly in bytes
    # and it is deterministic: same settings, same bytes
    assert shipped.compress(x, 3, refine=RefineSettings(steps=30))[0] == refined


def test_refinement_is_refused_where_it_cannot_run(shipped):
    big = np.zeros((1, 1040, 1040, 3), np.uint8)  # padded past the one-megapixel batched path
    with pytest.raises(ValueError, match="refinement takes images up to"):
        shipped.compress(big, 1, refine=10)
    for bad in (-1, 2.5, True, "100"):
        with pytest.raises(ValueError, match="refine must be"):
            shipped.compress(np.zeros((1, 32, 32, 3), np.uint8), 1, refine=bad)
    with pytest.raises(ValueError, match="refine must be"):
        pretrained_codec(2, refine=-3)


def test_quality_codec_passes_refinement_on(shipped, photo):
    codec = pretrained_codec(3, refine=30)
    blob = codec.compress_image(photo)
    assert blob == shipped.compress(photo[None], 3, refine=30)[0] != pretrained_codec(3).compress_image(photo)
    assert codec.decompress_image(blob).shape == photo.shape


def test_bench_refine_needs_a_hyperprior(tmp_path, capsys):
    from cae_helpers.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "photos", "--refine", "10", "--out", str(tmp_path / "p")])
    assert exit_info.value.code == 2
    assert "--refine" in capsys.readouterr().err and not (tmp_path / "p").exists()


def test_one_compiled_step_per_model_which_it_does_not_keep_alive():
    import gc
    import weakref

    from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior
    from cae_helpers.refine import _STEPS, _value_and_grad, refine_latents

    gc.collect()  # other tests' finished codecs go first, so the count below is not changed by them
    cached = len(_STEPS)  # other tests' codecs may still be alive
    model = build_hyperprior(HyperpriorConfig(filters=8, latent_channels=8, hyper_filters=8, hyper_channels=4, lambdas=(0.01, 0.1)))
    assert _value_and_grad(model) is _value_and_grad(model)  # chunks and levels share one trace
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype(np.float32)
    y, z = np.zeros((2, 8, 8, 8)), np.zeros((2, 2, 2, 4))
    refine_latents(model, x, y, z, (np.ones(8), np.ones(4)), 0.01, RefineSettings(steps=2))
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None and len(_STEPS) == cached
