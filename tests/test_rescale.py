"""Coding at a smaller size (byte format version 15; 12 before the one-byte lead, 9 before the payload was counted in bytes): the payload, the resize back, the per-image choice, the header."""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers import rescale
from cae_helpers.entropy import container
from cae_helpers.errors import CodecError


@pytest.fixture(scope="module")
def codec():
    import keras

    from cae_helpers.codec import HyperpriorCodec
    from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior

    keras.utils.set_random_seed(0)
    cfg = HyperpriorConfig(filters=8, latent_channels=8, hyper_filters=8, hyper_channels=4, lambdas=(0.001, 0.01, 0.1),
                           precision="float32")
    return HyperpriorCodec.from_model(build_hyperprior(cfg))


@pytest.fixture(scope="module")
def photo():
    """A smooth 40x56 image with a little texture (uint8)."""
    yy, xx = np.mgrid[0:40, 0:56]
    base = np.stack([xx * 4, yy * 5, (xx + yy) * 2], -1) + np.random.default_rng(0).integers(0, 12, (40, 56, 3))
    return np.clip(base, 0, 255).astype(np.uint8)


def test_a_fixed_scale_codes_the_resized_image_as_version_7_would(codec, photo):
    blob = codec.compress_image(photo, 2, rescale=0.5)
    header, words = container.unpack(blob, codec.model_id)
    assert container.version_of(blob) == container.RESCALED_VERSION and header.scale16 == 8 and (header.height, header.width) == (40, 56)
    inner = header.coded()
    assert (inner.height, inner.width) == (20, 28)
    assert header.level16 == rescale.level16_at_scale(codec.model.config.lambdas, 16, 8)
    small = rescale.resize(photo, 20, 28)
    plain = codec.compress_image(small, 1 + header.level16 / 16)  # the same image and level, coded at its own size
    assert container.version_of(plain) == container.VERSION and np.array_equal(container.unpack(plain, codec.model_id)[1], words)
    decoded = codec.decompress_image(blob)
    assert decoded.shape == photo.shape and decoded.dtype == np.uint8
    assert np.array_equal(decoded, rescale.resize(codec.decompress_image(plain), 40, 56))


def fixed_scale_losses(codec, image: np.ndarray, scales: tuple[float, ...]) -> dict[float, float]:
    """{scale: loss at quality 2} of the image coded at each fixed scale, as `auto` measures it."""
    losses = {}
    for scale in scales:
        b = codec.compress_image(image, 2, rescale=scale)
        losses[scale] = rescale.loss(image, codec.decompress_image(b), len(b), codec.lmbda(1))
    return losses


def test_auto_keeps_the_candidate_of_least_loss(codec, photo):
    losses = fixed_scale_losses(codec, photo, (1, 0.75, 0.5))
    chosen = codec.compress_image(photo, 2, rescale="auto")
    best = min(losses, key=losses.get)
    assert chosen == codec.compress_image(photo, 2, rescale=best)
    assert len({round(v, 9) for v in losses.values()}) == 3  # the candidates really differ


@pytest.mark.parametrize("sides, kept", [((32, 32), (16, 8)), ((40, 56), (16, 12, 8)), ((427, 640), (16, 12, 8)),
                                         ((48, 48), (16, 8)), ((8, 8), (16,))])
def test_auto_skips_sizes_that_pad_to_a_larger_sizes_grid(sides, kept):
    """3/4 of 32 is 24, padded back to 32: the same latents as full size for fewer pixels."""
    assert rescale.distinct_grids(rescale.AUTO_SCALES16, *sides, 16) == kept


def test_auto_on_32x32_chooses_between_full_size_and_half(codec, photo, monkeypatch):
    image = photo[:32, :32]
    losses = fixed_scale_losses(codec, image, (1, 0.5))
    coded, candidate = [], codec._rescaled_candidate
    monkeypatch.setattr(codec, "_rescaled_candidate", lambda images, code, k, progress: coded.append(k) or candidate(images, code, k, progress))
    assert codec.compress_image(image, 2, rescale="auto") == codec.compress_image(image, 2, rescale=min(losses, key=losses.get))
    assert coded == [16, 8]
    tiny = codec.compress_image(photo[:8, :8], 2, rescale="auto")  # every size pads to 16x16: nothing to choose
    assert tiny == codec.compress_image(photo[:8, :8], 2) and container.version_of(tiny) == container.VERSION


def test_batches_mix_rescaled_and_plain_images_of_one_size(codec, photo):
    blobs = codec.compress(np.stack([photo, photo[::-1]]), 2, rescale=0.75) + codec.compress(photo[None], 2)
    decoded = codec.decompress(blobs)
    assert decoded.shape == (3, 40, 56, 3)
    assert np.array_equal(decoded[0], codec.decompress_image(blobs[0]))
    assert np.array_equal(decoded[2], codec.decompress_image(blobs[2]))


def test_refinement_applies_to_the_chosen_size(codec, photo):
    plain = codec.compress_image(photo, 2, rescale=0.5)
    refined = codec.compress_image(photo, 2, rescale=0.5, refine=3)
    header, words = container.unpack(refined, codec.model_id)
    assert header == container.unpack(plain, codec.model_id)[0]
    small = rescale.resize(photo, 20, 28)  # the copy, refined as an image of its own size would be
    alone = codec.compress_image(small, 1 + header.level16 / 16, refine=3)
    assert np.array_equal(container.unpack(alone, codec.model_id)[1], words)
    assert codec.decompress_image(refined).shape == photo.shape


def test_level_at_scale_divides_lambda_by_the_area_and_clamps(codec):
    lambdas = codec.model.config.lambdas  # 0.001, 0.01, 0.1: a factor 10 a level
    assert rescale.level16_at_scale(lambdas, 0, 16) == 0
    assert rescale.level16_at_scale(lambdas, 0, 8) == round(16 * np.log10(4))  # lambda x 4: log10(4) of a level up
    assert rescale.level16_at_scale(lambdas, 32, 4) == 32  # past the top level: the top level


@pytest.mark.parametrize("value, expected", [(None, (16,)), (1, (16,)), (1.0, (16,)), ("auto", (16, 12, 8)),
                                             (0.75, (12,)), (0.5, (8,)), (0.25, (4,))])
def test_candidate_scales(value, expected):
    assert rescale.candidate_scales(value) == expected


@pytest.mark.parametrize("value", [0.3, 0.2, 2, 0, True, "half", -0.5])
def test_other_scales_are_refused_by_name(value):
    with pytest.raises(ValueError, match="rescale must be"):
        rescale.candidate_scales(value)


def test_rescale_and_tiles_do_not_combine(codec, photo):
    with pytest.raises(ValueError, match="whole"):
        codec.compress_image(photo, 2, tiles=True, rescale=0.5)


def test_a_bad_scale_byte_is_refused(codec, photo):
    blob = bytearray(codec.compress_image(photo, 2, rescale=0.5))
    assert container.version_of(blob) == container.RESCALED_VERSION and blob[4] == 8  # lead, model id 2, quality, scale
    for bad in (3, 16, 255):
        blob[4] = bad
        blob[-1] = container.check_byte(bytes(blob[:-1]))
        with pytest.raises(CodecError, match="scale"):
            codec.decompress_image(bytes(blob))
    with pytest.raises(ValueError, match="rescaled"):
        container.pack(container.Header(codec.model_id, 0, 8, 8, tiled=True, scale16=8), np.ones(2, np.uint32))


def test_a_truncated_rescaled_string_is_refused(codec, photo):
    blob = codec.compress_image(photo, 2, rescale=0.75)
    for cut in (1, 4, len(blob) - 7):
        with pytest.raises(CodecError):
            codec.decompress_image(blob[:-cut])


@pytest.mark.parametrize("side, scale16, coded", [(40, 8, 20), (427, 12, 320), (427, 8, 214), (1, 4, 1), (3, 4, 1)])
def test_coded_sides_round_to_the_nearest_pixel(side, scale16, coded):
    assert container.coded_side(side, scale16) == coded


def test_the_pretrained_codec_takes_rescale_and_checks_it(photo):
    from cae_helpers import pretrained_codec

    codec = pretrained_codec(quality=1, rescale=0.5)
    blob = codec.compress(photo[None])[0]
    assert container.version_of(blob) == container.IN_STATE[container.LEVEL_Z[container.RESCALED_VERSION]] and codec.decompress([blob]).shape == (1, 40, 56, 3)
    with pytest.raises(ValueError, match="rescale must be"):
        pretrained_codec(quality=1, rescale=0.3)


def test_large_images_are_rescaled_through_the_strip_paths(codec, photo, monkeypatch):
    """Past NETWORK_STRIP_PIXELS the smaller copy is coded and decoded in strips; the bytes are still version 12."""
    from cae_helpers import tiling

    big = np.concatenate([photo, photo[::-1]], axis=0)  # 80x56
    whole = codec.decompress_image(codec.compress_image(big, 2, rescale=0.75))
    monkeypatch.setattr(tiling, "NETWORK_STRIP_PIXELS", 1 << 10)  # the 60x42 copy (64x48 padded) is now large
    assert codec.decompress_image(codec.compress_image(big, 2, rescale="auto")).shape == big.shape
    fixed = codec.decompress_image(codec.compress_image(big, 2, rescale=0.75))
    assert fixed.shape == big.shape and np.abs(fixed.astype(int) - whole).max() <= 2  # strip-wise float rounding at most


def test_auto_on_a_batch_chooses_per_image_as_one_by_one(codec, photo):
    """The batched choice (one network pass per candidate size) equals coding each image alone, and mixes sizes."""
    noisy = np.random.default_rng(1).integers(0, 256, photo.shape, dtype=np.uint8)
    images = np.stack([photo, noisy, photo[::-1]])
    blobs = codec.compress(images, 2, rescale="auto")
    assert blobs == [codec.compress_image(image, 2, rescale="auto") for image in images]
    assert len({container.unpack(b, codec.model_id)[0].scale16 for b in blobs}) > 1  # smooth and noisy choose differently
    assert np.array_equal(codec.decompress(blobs), np.stack([codec.decompress_image(b) for b in blobs]))
