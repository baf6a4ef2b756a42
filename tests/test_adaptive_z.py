"""Row-adaptive coding of the hyper-latent z (byte format versions 5 and 6), and files of versions 3 to 12 still decoding as before."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cae_helpers.entropy import adaptive, container
from cae_helpers.entropy.adaptive import AdaptiveZCoder
from cae_helpers.entropy.tables import quantise_pmf
from tiny import assert_decodes_as_committed, without_level_z

FORMAT34 = Path(__file__).parent / "data" / "format34.npz"  # made by the codec as of commit 0c1ada5 (versions 3 and 4)
FORMAT56 = Path(__file__).parent / "data" / "format56.npz"  # the same image, made as of commit d33bb52 (versions 5 and 6)
FORMAT789 = Path(__file__).parent / "data" / "format789.npz"  # the same image's byte strings as of commit 2a7f4b2 (versions 7 to 9)
FORMAT101112 = Path(__file__).parent / "data" / "format101112.npz"  # the same image as of commit df2c10c (versions 10 to 12), and its pixels
FORMAT131415 = Path(__file__).parent / "data" / "format131415.npz"  # the same image as of commit 51bcddc (versions 13 to 15), and its pixels
FORMAT161718 = Path(__file__).parent / "data" / "format161718.npz"  # the default codec's, as of commit dc99715 (versions 16 to 18), and its pixels


@pytest.fixture(scope="module")
def coder():
    rng = np.random.default_rng(0)
    return AdaptiveZCoder(np.stack([quantise_pmf(rng.dirichlet(np.ones(9))) for _ in range(5)]))  # 5 channels, 9 symbols


def _skewed(rng, shape, k=9):
    """Symbols far from the tables' distribution: what adaptation is for."""
    return np.minimum(rng.geometric(0.6, shape) - 1 + 4, k - 1)


def test_first_row_is_the_fixed_tables_and_later_rows_adapt(coder):
    symbols = _skewed(np.random.default_rng(2), (1, 60, 8, 5))
    fixed = -np.log2(coder.tables[np.arange(5), symbols[0, 0]] / 65536).sum()
    assert coder.bits(symbols[:, :1]) == pytest.approx(fixed, rel=1e-12)
    static = -np.log2(coder.tables[np.arange(5), symbols] / 65536).sum()
    assert 60 * 8 * 5 * 8 > adaptive.CAP  # the halving path runs
    assert coder.bits(symbols) < 0.8 * static  # content unlike the tables costs less once they adapt


def test_out_of_range_symbols_and_shapes_are_refused(coder):
    import constriction

    with pytest.raises(ValueError, match="z symbols must be in 0..8"):
        coder.push(constriction.stream.stack.AnsCoder(), np.full((1, 1, 1, 5), 9))
    with pytest.raises(ValueError, match="expected z symbols"):
        coder.pop(constriction.stream.stack.AnsCoder(), (4, 5))


def test_the_floor_bounds_every_probability(coder):
    """No symbol can cost less than floor_bits per position, whatever came before: the payload-size check relies on it."""
    symbols = np.zeros((1, 200, 4, 5), np.int64)  # the most repetitive content there is
    per_position = [coder.bits(symbols[:, :r + 1]) - coder.bits(symbols[:, :r]) if r else coder.bits(symbols[:, :1])
                    for r in range(0, 200, 20)]
    assert coder.floor_bits > 0
    assert min(per_position) / 4 >= coder.floor_bits * (1 - 1e-9)


@pytest.mark.skipif(not all(f.is_file() for f in (FORMAT34, FORMAT56, FORMAT789)), reason="a file of tests/data/format*.npz is missing")
@pytest.mark.parametrize("name", ["hyperprior", "hyperprior-coded"])
def test_files_in_the_earlier_formats_decode_as_before_and_the_new_format_decodes_nearer(name):
    """Versions 3 to 9 still decode to the same pixels (each other's exactly, the committed ones up to float32 rounding);
    13 to 15 carry 7 to 9's words in fewer bytes, decoded at bin means."""
    from cae_helpers.codec import pretrained_codec

    pixels, rows, words = np.load(FORMAT34), np.load(FORMAT56), np.load(FORMAT789)
    image = pixels["image"]
    codec = nearest(without_level_z(pretrained_codec(quality=2, name=name).codec))  # versions 13-15 (16-18: below)
    for layout, tiles in (("whole", False), ("tiles", True)):
        expected = pixels[f"{name}/{layout}/decoded"]
        here = None  # version 3's pixels decoded on this machine: every later version must give exactly these
        for data, version in ((pixels, 3), (rows, 5), (words, 7)):
            old = data[f"{name}/{layout}/blob"].tobytes()
            assert container.version_of(old) == old[1] == version + tiles
            decoded = codec.decompress_image(old)
            assert_decodes_as_committed(decoded, expected)
            here = decoded if here is None else here
            np.testing.assert_array_equal(decoded, here)
        new = codec.compress_image(image, 2, tiles=tiles)
        assert container.version_of(new) == (container.TILED_VERSION if tiles else container.VERSION) == 13 + tiles
        _assert_same_words(codec, old, new)
        assert _mse(codec.decompress_image(new), image) < _mse(here, image)  # the same symbols, each at its bin's mean
    half = words[f"{name}/half/blob"].tobytes()
    new = codec.compress_image(image, 2, rescale=0.5)
    assert (container.version_of(half), container.version_of(new)) == (container.WORD_RESCALED, container.RESCALED_VERSION) == (9, 15)
    _assert_same_words(codec, half, new)
    assert not np.array_equal(codec.decompress_image(new), codec.decompress_image(half))  # this noise image: no nearer at half size
    old = words[f"{name}/whole/blob"].tobytes()
    whole = codec.compress_image(image, 2, tiles=False)
    both = codec.decompress([old, whole])  # one batch of two versions: each decoded by its own rule
    np.testing.assert_array_equal(both, [codec.decompress_image(old), codec.decompress_image(whole)])
    assert not np.array_equal(both[0], both[1])


@pytest.mark.skipif(not FORMAT101112.is_file(), reason="tests/data/format101112.npz is missing")
@pytest.mark.parametrize("name", ["hyperprior", "hyperprior-coded"])
def test_versions_10_to_12_decode_as_before_and_13_to_15_hold_the_same_payload_in_a_shorter_header(name):
    """Byte strings of versions 10-12 still decode to their pixels (up to float32 rounding across CPU kinds); today's
    13-15 carry the same payload, 1 byte shorter (not square), and decode to exactly the same pixels here."""
    from cae_helpers.codec import pretrained_codec

    old_files, image = np.load(FORMAT101112), np.load(FORMAT34)["image"]  # (48, 80, 3): not square, so one byte saved
    codec = nearest(without_level_z(pretrained_codec(quality=2, name=name).codec))  # versions 13-15 (16-18: below)
    for layout, kw, version in (("whole", {"tiles": False}, 10), ("tiles", {"tiles": True}, 11), ("half", {"rescale": 0.5}, 12)):
        old = old_files[f"{name}/{layout}/blob"].tobytes()
        assert old[:2] == bytes([container.MAGIC, version]) and container.version_of(old) == version
        here = codec.decompress_image(old)
        assert_decodes_as_committed(here, old_files[f"{name}/{layout}/decoded"])
        new = codec.compress_image(image, 2, **kw)
        assert container.version_of(new) == version + 3 and len(new) == len(old) - 1
        (h_old, w_old), (h_new, w_new) = (container.unpack(b, codec.model_id) for b in (old, new))
        np.testing.assert_array_equal(w_old, w_new)
        assert (h_old.long_head, h_new.long_head) == (True, False) and replace(h_old, long_head=False) == h_new
        np.testing.assert_array_equal(codec.decompress_image(new), here)


@pytest.mark.skipif(not FORMAT131415.is_file(), reason="tests/data/format131415.npz is missing")
@pytest.mark.parametrize("name", ["hyperprior", "hyperprior-coded"])
def test_versions_13_to_15_decode_as_before_and_19_to_21_carry_the_same_symbols(name):
    """Byte strings of versions 13-15 still decode to their pixels (up to float32 rounding across CPU kinds); a codec
    with per-level z tables writes 19-21, the same pixels here."""
    from cae_helpers.codec import pretrained_codec

    old_files, image = np.load(FORMAT131415), np.load(FORMAT34)["image"]
    codec = nearest(pretrained_codec(quality=2, name=name).codec)
    level_z = codec.z_level_tables is not None
    for layout, kw, version in (("whole", {"tiles": False}, 13), ("tiles", {"tiles": True}, 14), ("half", {"rescale": 0.5}, 15)):
        old = old_files[f"{name}/{layout}/blob"].tobytes()
        assert container.version_of(old) == version
        here = codec.decompress_image(old)
        assert_decodes_as_committed(here, old_files[f"{name}/{layout}/decoded"])
        new = codec.compress_image(image, 2, **kw)
        assert container.version_of(new) == version + 6 * level_z
        np.testing.assert_array_equal(codec.decompress_image(new), here)  # only z's coding differs
        both = codec.decompress([old, new]) if layout != "tiles" else None  # one batch, two z tables
        if both is not None:
            np.testing.assert_array_equal(both[0], both[1])


@pytest.mark.skipif(not FORMAT161718.is_file(), reason="tests/data/format161718.npz is missing")
def test_versions_16_to_18_decode_as_before_and_19_to_21_are_them_less_5_bytes():
    """hyperprior-coded's strings of versions 16-18 (it was the default) still decode to their pixels (up to float32
    rounding across CPU kinds); 19-21 give the same pixels here in 5 bytes fewer.

    The image's payloads pass 127 bytes, so 16-18 spent 2 bytes on the length, 2 on the model id and 1 on the check byte.
    """
    from cae_helpers.codec import pretrained_codec

    old_files, image = np.load(FORMAT161718), np.load(FORMAT34)["image"]
    codec = nearest(pretrained_codec(quality=2, name="hyperprior-coded").codec)  # the default when these strings were made
    for layout, kw, version in (("whole", {"tiles": False}, 16), ("tiles", {"tiles": True}, 17), ("half", {"rescale": 0.5}, 18)):
        old, pixels = old_files[f"hyperprior-coded/{layout}/blob"].tobytes(), old_files[f"hyperprior-coded/{layout}/decoded"]
        assert container.version_of(old) == version
        here = codec.decompress_image(old)
        assert_decodes_as_committed(here, pixels)
        new = codec.compress_image(image, 2, **kw)
        assert container.version_of(new) == version + 3 and len(new) == len(old) - 5
        np.testing.assert_array_equal(codec.decompress_image(new), here)
        if layout != "tiles":  # one batch, both versions
            both = codec.decompress([old, new])
            np.testing.assert_array_equal(both[0], both[1])


def nearest(codec):
    """The codec with its encoder rounding each latent value to the nearest integer, as it did when the committed strings were made."""
    return replace(codec, rounding_weight=0.0)


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.square(a.astype(np.float64) - b)))


def test_a_large_declared_size_needs_payload_under_the_adaptive_floors():
    """A header declaring a huge image over a few bytes of payload is refused before decoding, in the new versions too."""
    from cae_helpers.codec import pretrained_codec
    from cae_helpers.errors import CodecError

    codec = pretrained_codec(quality=1)
    blob = codec.compress_image(np.zeros((32, 32, 3), np.uint8))
    hdr, words = container.unpack(blob, codec.codec.model_id, codec.codec.level_model_id)
    assert hdr.z_coding == "context" and hdr.level_z and hdr.state_check
    plain, level_model = codec.codec.model_id, codec.codec.level_model_id
    for tiled in (False, True):
        headers = [container.Header(plain, hdr.level16, 3000, 4000, tiled, z) for z in container.Z_CODINGS]  # 3-15
        headers += [container.Header(level_model, hdr.level16, 3000, 4000, tiled, level_z=True),  # 16-18
                    container.Header(b"", hdr.level16, 3000, 4000, tiled, level_z=True, state_check=True)]  # 19-21
        for header in headers:
            big = container.pack(header, words)
            with pytest.raises(CodecError, match="needs at least"):
                codec.decompress_image(big)


def _assert_same_words(codec, old: bytes, new: bytes) -> None:
    """new (version 10-15) holds old's (7-9) payload words, stored as bytes without the last word's zero high bytes."""
    (h_old, w_old), (h_new, w_new) = (container.unpack(b, codec.model_id) for b in (old, new))
    np.testing.assert_array_equal(w_old, w_new)
    assert (h_old.legacy, h_new.legacy) == (True, False)
    payload = w_old.astype("<u4").tobytes()
    assert new[-1 - len(payload.rstrip(b"\0")):-1] == payload.rstrip(b"\0") and len(payload) - len(payload.rstrip(b"\0")) <= 3
