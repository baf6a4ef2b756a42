"""Large images: strip-wise transforms and coding (same pixels as one pass, bounded strips) and 32x32 tiles (the even format versions)."""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers import tiling
from cae_helpers.codec import HyperpriorCodec
from cae_helpers.numpy_convs import conv_same, conv_transpose_2x
from cae_helpers.entropy import container
from cae_helpers.errors import CodecError
from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior

TINY = dict(filters=8, latent_channels=8, hyper_filters=8, hyper_channels=4, lambdas=(0.001, 0.01, 0.1), epochs=2,
            batch_size=16, precision="float32")


def test_spans_cover_every_row_once():
    assert tiling.spans(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert tiling.spans(3, 8) == [(0, 3)]
    assert tiling.strip_rows(1000, 10_000, 4) == 8
    assert tiling.strip_rows(10**9, 10, 4) == 4  # never fewer rows than the alignment


def test_an_image_up_to_a_megapixel_is_one_coding_strip():
    assert tiling.coding_strips(256, 256, 128) == [(0, 256)]  # 1024x1024 pixels, 128 channels
    strips = tiling.coding_strips(750, 1000, 128)  # 3000x4000 pixels
    assert len(strips) > 1 and all((b - a) % 4 == 0 for a, b in strips[:-1]) and strips[-1][1] == 750


def test_map_rows_equals_one_pass_for_convolutions():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 37, 11, 3))
    k, b = rng.normal(size=(3, 3, 3, 5)), rng.normal(size=5)
    np.testing.assert_allclose(tiling.map_rows(lambda t: conv_same(t, k, b), x, 1, 6, halo=1, dtype=np.float64),
                               conv_same(x, k, b), atol=1e-12)
    kt = rng.normal(size=(5, 5, 4, 3))  # stride-2 transposed: each output row sees input rows within 2
    np.testing.assert_allclose(tiling.map_rows(lambda t: conv_transpose_2x(t, kt, 0), x, 2, 8, halo=4, dtype=np.float64),
                               conv_transpose_2x(x, kt, 0), atol=1e-12)
    with pytest.raises(ValueError, match="align"):
        tiling.rows_of(lambda t: np.repeat(t, 4, axis=1), x, 4, 1, 3, halo=0)  # row 1 of 4x up-sampling: input row 1/4
    # too small a halo is visible: the check above can fail
    assert not np.allclose(tiling.map_rows(lambda t: conv_same(t, k, b), x, 1, 6, halo=0, dtype=np.float64),
                           conv_same(x, k, b))


def test_large_image_path_gives_the_pixels_of_one_pass(monkeypatch):
    """With tiny strip budgets a 72x150 image goes through the strip path: many strips, the same pixels."""
    import keras

    keras.utils.set_random_seed(0)
    codec = HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**TINY)))
    rng = np.random.default_rng(1)
    img = np.clip(rng.normal(128, 40, (1, 72, 150, 3)).cumsum(axis=2) / 6 % 256, 0, 255).astype(np.uint8)[0]
    one_blob = codec.compress_image(img, 2, tiles=False)
    one = codec.decompress_image(one_blob)
    monkeypatch.setattr(tiling, "NETWORK_STRIP_PIXELS", 1 << 11)
    monkeypatch.setattr(tiling, "CODING_STRIP_VALUES", 1 << 9)
    assert len(tiling.coding_strips(18, 38, 8)) > 3
    blob = codec.compress_image(img, 2, tiles=False)
    out = codec.decompress_image(blob)
    assert out.shape == img.shape
    assert np.abs(out.astype(int) - one).max() <= 1  # float rounding of strip-wise convolutions at most
    assert abs(len(blob) - len(one_blob)) <= 0.02 * len(one_blob) + 8


def test_compress_image_takes_a_path_and_shows_strip_progress(tmp_path, monkeypatch, capsys):
    import keras
    from PIL import Image

    keras.utils.set_random_seed(0)
    codec = HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**TINY)))
    img = np.random.default_rng(2).integers(0, 256, (40, 70, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "a.png")
    assert codec.compress_image(tmp_path / "a.png", 2) == codec.compress_image(img, 2)
    monkeypatch.setattr(tiling, "NETWORK_STRIP_PIXELS", 1 << 10)
    codec.decompress_image(codec.compress_image(img, 2, progress=True, tiles=False), progress=True)
    err = capsys.readouterr().err
    assert "compress strips" in err and "decompress strips" in err
    monkeypatch.setattr(tiling, "TILE_GROUP", 2)  # 6 tiles: 3 groups
    codec.decompress_image(codec.compress_image(img, 2, progress=True), progress=True)
    err = capsys.readouterr().err
    assert "compress tile groups" in err and "decompress tile groups" in err


@pytest.mark.parametrize("shape", [(1, 1), (32, 32), (33, 65), (70, 45)])
def test_tiles_cover_the_image_in_raster_order(shape):
    img = np.random.default_rng(0).integers(0, 256, shape + (3,), dtype=np.uint8)
    tiles = tiling.to_tiles(img)
    rows, cols = tiling.tile_grid(*shape)
    assert tiles.shape == (rows * cols, 32, 32, 3)
    np.testing.assert_array_equal(tiling.from_tiles(tiles, *shape), img)
    np.testing.assert_array_equal(tiles[cols - 1][:min(32, shape[0]), : shape[1] - 32 * (cols - 1)],
                                  img[:32, 32 * (cols - 1):])  # the first row's last tile
    assert np.all(tiles[-1][-1] == tiles[-1][min(31, shape[0] - 32 * (rows - 1) - 1)])  # edge-padded below


def _tiny_codec():
    import keras

    keras.utils.set_random_seed(0)
    return HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**TINY)))


def test_a_tiled_image_decodes_to_its_tiles_coded_alone(monkeypatch):
    """Version 8: an image larger than one tile is coded as independent 32x32 tiles, whatever the group size."""
    codec = _tiny_codec()
    img = np.random.default_rng(1).integers(0, 256, (72, 150, 3), dtype=np.uint8)
    blob = codec.compress_image(img, 2)
    assert container.version_of(blob) == container.TILED_VERSION and container.version_of(codec.compress_image(img[:32, :32], 2)) == container.VERSION
    out = codec.decompress_image(blob)
    alone = tiling.from_tiles(codec.decompress(codec.compress(tiling.to_tiles(img), 2, tiles=False)), 72, 150)
    assert out.shape == img.shape and np.abs(out.astype(int) - alone).max() <= 1
    monkeypatch.setattr(tiling, "TILE_GROUP", 4)  # 15 tiles in 4 groups: the same symbols
    grouped = codec.compress_image(img, 2)
    assert np.abs(codec.decompress_image(grouped).astype(int) - out).max() <= 1
    mixed = codec.decompress([grouped, codec.compress_image(img, 2, tiles=False)])  # both layouts in one call
    assert mixed.shape == (2,) + img.shape


def test_every_truncation_and_forged_size_of_a_tiled_string_is_refused():
    codec = _tiny_codec()
    blob = codec.compress_image(np.random.default_rng(2).integers(0, 256, (40, 70, 3), dtype=np.uint8), 1)
    for cut in range(len(blob)):
        with pytest.raises(CodecError):
            codec.decompress([blob[:cut]])
    for extra in (b"\x00", blob[-4:]):
        with pytest.raises(CodecError):
            codec.decompress([blob + extra])
    hdr, words = container.unpack(blob, codec.model_id)
    assert hdr.tiled
    big = container.pack(container.Header(hdr.model, hdr.level16, 3000, 4000, tiled=True), words)
    with pytest.raises(CodecError, match="needs at least"):
        codec.decompress([big])


def test_a_codec_trained_on_larger_inputs_codes_larger_images_whole_by_default():
    import keras

    keras.utils.set_random_seed(0)
    trained_large = HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**(TINY | {"large_patch": 64}))))
    img = np.random.default_rng(2).integers(0, 256, (40, 72, 3), dtype=np.uint8)
    assert not trained_large.tiles_by_default and _tiny_codec().tiles_by_default
    assert container.version_of(trained_large.compress_image(img, 2)) == container.VERSION
    assert container.version_of(trained_large.compress_image(img, 2, tiles=True)) == container.TILED_VERSION
    assert container.version_of(_tiny_codec().compress_image(img, 2)) == container.TILED_VERSION
