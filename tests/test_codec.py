"""The latent codec: round trips through bytes and files, header parsing, determinism, bpp, mutations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cae_helpers import build_autoencoder
from cae_helpers.errors import CodecError
from cae_helpers.entropy.coder import (
    HEADER,
    compress,
    decode_latents,
    decompress,
    encode_latents,
    fit_codec,
    quantise,
    total_bits_per_pixel,
)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def codec(images):
    _, enc, dec = build_autoencoder(filters=(4, 8, 8), latent_dim=16)
    return fit_codec(enc, dec, images, step=0.02)


@pytest.fixture(scope="module")
def blobs(codec, images):
    return compress(images[:8], codec)


def test_round_trip_is_the_quantised_latent_decoded(codec, images, blobs):
    rec = decompress(blobs, codec)
    assert rec.shape == (8, 32, 32, 3) and rec.dtype == np.uint8
    q = quantise(encode_latents(codec.encoder, images[:8]), codec.step)
    expected = decode_latents(codec.decoder, (q * codec.step).astype(np.float32))
    assert np.array_equal(rec, expected)


def test_decoding_is_deterministic_and_survives_files(codec, blobs, tmp_path):
    first = decompress(blobs, codec)
    for i, b in enumerate(blobs):
        (tmp_path / f"{i}.cae").write_bytes(b)
    again = decompress([(tmp_path / f"{i}.cae").read_bytes() for i in range(len(blobs))], codec)
    assert np.array_equal(first, again) and np.array_equal(first, decompress(blobs, codec))


def test_header_fields(codec, blobs):
    magic, version, model_id = HEADER.unpack_from(blobs[0])
    assert (magic, version, model_id) == (0xCA, 3, codec.model_id)
    with pytest.raises(CodecError, match="not a cae_helpers byte string"):
        decompress([b"\x00" + blobs[0][1:]], codec)
    with pytest.raises(CodecError, match="format version 7"):
        decompress([blobs[0][:1] + b"\x07" + blobs[0][2:]], codec)


def test_bytes_of_another_model_are_refused(codec, images, blobs):
    _, enc, dec = build_autoencoder(filters=(4, 8, 8), latent_dim=16)
    other = fit_codec(enc, dec, images, step=0.02)
    assert other.model_id != codec.model_id
    with pytest.raises(CodecError, match="another model"):
        decompress(blobs, other)


@pytest.mark.parametrize("cut", [1, 4, len(HEADER.pack(0, 0, b"0000"))])
def test_truncated_and_empty(codec, blobs, cut):
    with pytest.raises(CodecError):
        decompress([blobs[0][:-cut]], codec)
    with pytest.raises(CodecError, match="too short"):
        decompress([b""], codec)
    with pytest.raises(ValueError, match="no byte strings"):
        decompress([], codec)


def test_every_truncation_extension_and_prefix_drop_is_refused(codec, blobs):
    blob = blobs[0]
    for cut in range(len(blob)):
        with pytest.raises(CodecError):
            decompress([blob[:cut]], codec)
    for drop in range(1, len(blob)):
        with pytest.raises(CodecError):
            decompress([blob[drop:]], codec)
    for extra in (b"\x00", b"\x00" * 4, blob[-4:]):
        with pytest.raises(CodecError):
            decompress([blob + extra], codec)


def test_bits_per_pixel_counts_whole_strings(blobs):
    assert total_bits_per_pixel([b"x" * 128])[0] == 1.0
    assert np.allclose(total_bits_per_pixel(blobs), [8 * len(b) / 1024 for b in blobs])
    assert all(len(b) - HEADER.size - 2 == 4 * b[HEADER.size] for b in blobs)  # length byte (< 128 words), check byte


@st.composite
def mutations(draw, blob_count):
    i = draw(st.integers(0, blob_count - 1))
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "random"]))
    return i, kind, draw(st.integers(0, 10_000)), draw(st.binary(max_size=64))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(m=mutations(8))
def test_mutated_bytes_raise_or_decode_to_a_valid_image(codec, blobs, m):
    i, kind, pos, extra = m
    b = bytearray(blobs[i])
    if kind == "flip":
        b[pos % len(b)] ^= 1 << (pos % 8)
    elif kind == "truncate":
        b = b[: pos % len(b)]
    elif kind == "insert":
        b[pos % len(b):pos % len(b)] = extra
    else:
        b = bytearray(extra)
    try:
        out = decompress([bytes(b)], codec)
    except CodecError:
        return
    assert out.shape == (1, 32, 32, 3) and out.dtype == np.uint8
