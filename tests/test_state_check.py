"""Byte format versions 19-21: a 3-byte header for a 32x32 image, and a check word under the ANS state instead of model id, length and check byte."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from cae_helpers.codec import DEFAULT_MODEL
from cae_helpers.entropy import container
from cae_helpers.errors import CodecError, OtherModelError, StateCheckError
from tiny import blocky_images, random_images, without_level_z


@pytest.fixture(scope="module")
def codec(default_codec):
    return default_codec


@pytest.fixture(scope="module")
def images():
    return np.concatenate([blocky_images(6, cells=8, seed=5), random_images(2, seed=5)])  # smooth, like upscaled content; noise


def test_a_32x32_image_has_a_2_byte_header_and_decodes_as_version_16_did(codec, images):
    """Lead, quality, then the payload; the same pixels as the version-16 string, 5 or 6 bytes shorter."""
    old = without_level_z(codec)  # writes 13; 16 has 13's header with z coded as 19 codes it
    for quality in (1, 4):
        blobs = codec.compress(images, quality, colour=False)  # versions 22-24 add corrections to these (test_colour.py)
        level16 = codec.level16(quality)
        for blob in blobs:
            assert blob[0] == container.LEAD_ONE_TILE and blob[1] == level16 and blob[-1] != 0
            header, words = container.unpack(blob, codec.model_id, codec.level_model_id)
            assert header.state_check and header.level_z and header.head == blob[:2] and not header.model
            assert container.pack(header, words) == blob
        pixels = codec.decompress(blobs)
        # the same symbols as version 16 (z under the level's tables), from an empty coder, with its 7-byte header
        y_sym, y_idx, z_sym = codec._symbols(images, level16 / 16)
        v16 = replace(container.Header(codec.level_model_id, level16, 32, 32), level_z=True)
        empty = replace(v16, state_check=False)
        for i, blob in enumerate(blobs):
            words = codec._payloads(y_sym[i:i + 1], y_idx[i:i + 1], z_sym[i:i + 1], empty)[0]
            sixteen = container.pack(v16, words)
            assert container.version_of(sixteen) == 16
            np.testing.assert_array_equal(codec.decompress([sixteen])[0], pixels[i])
            assert len(sixteen) - len(blob) in (4, 5, 6, 7)  # 5 (6 past 127 payload bytes) give or take ANS's byte rounding
        assert old.compress(images, quality)[0][0] == container.LEAD + 1  # version 13, square


def test_the_decoder_ends_at_the_check_word_the_model_and_header_give(codec, images):
    """The word is 1..65,535, differs with the header, and is all the decoder has left after the last value."""
    header, words = container.unpack(codec.compress(images[:1], 2)[0], codec.model_id, codec.level_model_id)
    word = codec._state_word(header)
    assert 1 <= word <= container.CHECK_WORDS
    assert codec._state_word(replace(header, head=b"", level16=header.level16 + 1)) != word
    coders, _ = codec._decode_zs([(header, words)])
    codec._pop_y(coders, codec.hyper_raw(_[:, :, :, :], header.level16 / 16), header.level16 / 16, 0.0)
    assert [int(w) for w in coders[0].get_compressed()] == [word]


def test_damaged_strings_are_refused(codec, images):
    """Cut, extended, a bit flipped, a byte changed, another quality byte, a payload of another quality: each a CodecError."""
    rng = np.random.default_rng(0)
    for quality, elsewhere in ((1, 2), (6, 5)):
        blobs, others = codec.compress(images[:4], quality), codec.compress(images[:4], elsewhere)
        for blob, other in zip(blobs, others):
            flipped, changed, quality_byte = bytearray(blob), bytearray(blob), bytearray(blob)
            flipped[int(rng.integers(3, len(blob)))] ^= 1 << int(rng.integers(8))
            spot = int(rng.integers(3, len(blob)))
            changed[spot] = (changed[spot] + int(rng.integers(1, 256))) % 256
            quality_byte[1] += 1
            for bad in (blob[:-1], blob[:-2], blob + b"\x07", bytes(flipped), bytes(changed), bytes(quality_byte),
                        blob[:3] + other[3:], blob[:3]):
                if bad == blob:
                    continue
                with pytest.raises(CodecError):
                    codec.decompress([bad])


def test_another_models_bytes_fail_the_check_and_name_no_model(codec, images):
    """A codec whose level tables differ computes another check word: StateCheckError, which says what it may be."""
    blob = codec.compress(images[:1], 3)[0]
    other = replace(codec, z_level_tables=codec.z_level_tables[::-1].copy())
    assert other.level_identity != codec.level_identity and container.model_field(blob) is None
    with pytest.raises(CodecError, match="damaged, truncated or extended, or was made by another model"):
        other.decompress([blob])
    try:
        other._decompress([blob])
    except StateCheckError:
        pass
    except CodecError as err:  # other tables may also fail while decoding, before the end check: still refused
        assert "corrupt payload" in str(err)
    else:
        pytest.fail("another model's bytes decoded")
    with pytest.raises(OtherModelError, match="per-level tables, which this codec does not have"):
        without_level_z(codec)._decompress([blob])
    with pytest.raises(OtherModelError, match=f"which this codec does not have\\): the shipped codec '{DEFAULT_MODEL}' decodes it") as err:
        without_level_z(codec).decompress([blob])
    assert err.value.maker == DEFAULT_MODEL


def test_the_header_is_validated_before_decoding(codec):
    """Too short, no payload, a payload ending in a zero byte, a square image's sides twice: refused by unpack."""
    header = container.Header(b"", 16, 32, 48, level_z=True, state_check=True)
    head = container.state_head(header)
    assert head == bytes([container.LEAD + 2 * 6, 16, 32, 48]) and len(container.state_head(replace(header, width=48, height=48))) == 3
    assert container.state_head(replace(header, width=32)) == bytes([container.LEAD_ONE_TILE, 16])  # 32x32: no size field
    words = np.array([0x01020304, 0x05], np.uint32)
    blob = container.pack(header, words)
    assert blob == head + bytes([4, 3, 2, 1, 5])
    got, back = container.unpack(blob, codec.model_id, codec.level_model_id)
    assert replace(got, head=b"") == header and got.head == head and np.array_equal(back, words)
    for bad, why in ((head[:2], "too short"), (head, "no payload"), (head + b"\x05\x00", "ends in a zero byte"),
                     (bytes([container.LEAD + 12, 16, 32, 32, 9]), "sides stored twice")):
        with pytest.raises(CodecError, match=why):
            container.unpack(bad, codec.model_id, codec.level_model_id)
    with pytest.raises(ValueError, match="versions 19 to 21"):
        container.state_head(replace(header, level_z=False))


def test_a_32x32_image_has_a_lead_byte_of_its_own_and_the_older_spelling_still_decodes(codec, monkeypatch):
    """One tile (32x32): lead 0xE2-0xE4 and no size field, 2 header bytes; bytes written before (square lead, side 32) still decode.

    Without the mean-colour corrections (versions 19-21; whether they pay on a noise image is the codec's choice, and
    their leads are tested in test_colour.py)."""
    from cae_helpers import tiling

    assert container.TILE_SIDE == tiling.TILE
    images = np.random.default_rng(3).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    for rescale, lead in ((None, container.LEAD_ONE_TILE), (0.5, container.LEAD_ONE_TILE + 2)):
        blobs = codec.compress(images, 2, rescale=rescale, colour=False)
        assert {b[0] for b in blobs} == {lead} and container.version_of(blobs[0]) == 19 + 2 * (rescale is not None)
        with monkeypatch.context() as m:
            m.setattr(container, "TILE_SIDE", 0)  # no image is one tile: the encoder before 2026-12-04
            older = codec.compress(images, 2, rescale=rescale, colour=False)
        assert all(o[0] == container.LEAD_OF[container.version_of(o), 1] and len(o) == len(b) + 1 for o, b in zip(older, blobs))
        np.testing.assert_array_equal(codec.decompress(older), codec.decompress(blobs))
        assert all(codec.read_header(b).height == codec.read_header(b).width == 32 for b in blobs + older)
    tiled = codec.compress(images[:1], 2, tiles=True, colour=False)[0]
    assert tiled[0] == container.LEAD_ONE_TILE + 1 and codec.decompress([tiled]).shape == (1, 32, 32, 3)
