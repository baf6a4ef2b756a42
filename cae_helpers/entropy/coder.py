"""The latent coder: one self-describing byte string per image, entropy coded with `constriction`.

Byte string (format version 3) = 6-byte header + length + payload + check byte:
  byte 0      magic 0xCA
  byte 1      format version (FORMAT_VERSION)
  bytes 2-5   model identity: first 4 bytes of SHA-256 over the decoder weights, the
              quantisation step and the prior, so bytes made by another model are refused
  varint      payload length in 32-bit words (1 byte up to 127 words)
  payload     the latent, quantised with `step` and coded with constriction's ANS coder
              under a per-dimension categorical prior fitted on training images, as
              little-endian uint32 words
  last byte   check: the low byte of CRC-32 over everything before it
The network weights and the prior are shared like codec software and not counted; every
other byte a receiver needs is in the byte string. Length and check cost 2 bytes per image
(0.016 bpp at 32x32; format 1, used for the rd results committed before it, had neither).
Any truncation or extension contradicts the length; a random corruption passes the check
byte with probability 1/256 and then decodes to a well-formed uint8 image of the right shape.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import CodecError, OtherModelError
from ..metrics import bits_per_pixel
from ..pixels import to_float, to_uint8
from ..validation import check_model_input
from .container import check_byte, read_varint, write_varint

MAGIC = 0xCA
FORMAT_VERSION = 3  # 1: no length or check byte; 2: the hyperprior container (entropy.container)
HEADER = struct.Struct("<BB4s")


@dataclass
class LatentCodec:
    """An encoder/decoder pair with a quantisation step and a per-dimension prior over symbols."""

    encoder: object
    decoder: object
    step: float
    offset: int  # symbol = round(latent / step) - offset, in [0, n_symbols)
    probabilities: np.ndarray  # (latent_dim, n_symbols), or (channels, n_symbols) shared by `positions`
    batch_size: int = field(default=500)
    positions: int = 1  # > 1: a spatial latent (positions x channels, C order), one distribution per channel

    @property
    def latent_dim(self) -> int:
        return int(self.probabilities.shape[0]) * self.positions

    @cached_property
    def model_id(self) -> bytes:
        """4 bytes identifying the decoder weights, step and prior."""
        h = hashlib.sha256(struct.pack("<dq", self.step, self.offset))
        if self.positions > 1:
            h.update(struct.pack("<q", self.positions))
        h.update(np.ascontiguousarray(self.probabilities, np.float64).tobytes())
        for w in self.decoder.get_weights():
            h.update(np.ascontiguousarray(w).tobytes())
        return h.digest()[:4]

    @cached_property
    def _model(self):
        import constriction

        return constriction.stream.model.Categorical(perfect=False)

    @cached_property
    def _channel_models(self) -> list:
        """One ready-made distribution per channel (spatial latents: built once, not per symbol)."""
        import constriction

        return [constriction.stream.model.Categorical(np.ascontiguousarray(p, np.float64), perfect=False)
                for p in self.probabilities]

    def encode_symbols(self, row: np.ndarray) -> np.ndarray:
        """ANS-code one image's symbols (latent_dim,) into uint32 words."""
        import constriction

        coder = constriction.stream.stack.AnsCoder()
        if self.positions == 1:
            coder.encode_reverse(row, self._model, self.probabilities)
        else:  # channel by channel, last first: the stack decodes channel 0 first
            grid = row.reshape(self.positions, -1)
            for c in reversed(range(grid.shape[1])):
                coder.encode_reverse(np.ascontiguousarray(grid[:, c]), self._channel_models[c])
        return coder.get_compressed()

    def decode_words(self, words: np.ndarray):
        """(symbols, coder) from uint32 words; the coder is empty when the data ended where it should."""
        import constriction

        coder = constriction.stream.stack.AnsCoder(words)
        if self.positions == 1:
            return coder.decode(self._model, self.probabilities), coder
        grid = np.stack([coder.decode(m, self.positions) for m in self._channel_models], axis=1)
        return grid.reshape(-1), coder


def encode_latents(encoder, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """float32 latents of uint8 images."""
    x = to_float(check_model_input(images, encoder))
    return np.asarray(encoder.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)


def quantise(latents: np.ndarray, step: float) -> np.ndarray:
    """Integer quantisation indices round(latent / step)."""
    return np.rint(np.asarray(latents, np.float64) / step).astype(np.int64)


def fit_codec(encoder, decoder, train_images: np.ndarray, step: float, margin: int = 2, smoothing: float = 0.5) -> LatentCodec:
    """Fit the per-dimension symbol histograms (add-`smoothing` counts) on training images."""
    return codec_from_latents(encoder, decoder, encode_latents(encoder, train_images), step, margin, smoothing)


def codec_from_latents(encoder, decoder, train_latents: np.ndarray, step: float, margin: int = 2, smoothing: float = 0.5) -> LatentCodec:
    """`fit_codec` from latents already computed (one encoding pass serves several steps)."""
    if not step > 0:
        raise ValueError(f"step must be positive, got {step!r}")
    q = quantise(train_latents, step)
    q = q.reshape(len(q), -1)
    lo, hi = int(q.min()) - margin, int(q.max()) + margin
    counts = np.stack([np.bincount(q[:, d] - lo, minlength=hi - lo + 1) for d in range(q.shape[1])]).astype(np.float64)
    probabilities = (counts + smoothing) / (counts + smoothing).sum(axis=1, keepdims=True)
    return LatentCodec(encoder, decoder, float(step), lo, probabilities)


def codec_from_prior(analysis, synthesis, prior, lo: int | None = None, hi: int | None = None, tail: float = 1e-8) -> LatentCodec:
    """A codec for a learned model: step 1, each latent value coded under its channel's learned density.

    Without `lo`/`hi`, the symbol range is where some channel's density puts more than
    `tail` on an integer (searched within +-1024); rarer values are clipped to the range.
    """
    shape = tuple(analysis.output.shape[1:])
    if lo is None or hi is None:
        wide = prior.pmf_table(-1024, 1024).max(axis=0)
        inside = np.flatnonzero(wide > tail)
        lo = -1024 + int(inside[0]) if lo is None else lo
        hi = -1024 + int(inside[-1]) if hi is None else hi
    table = prior.pmf_table(lo, hi)  # (channels, n)
    return LatentCodec(analysis, synthesis, 1.0, lo, table, positions=int(np.prod(shape[:-1])))


def _check_codec(codec) -> None:
    if not isinstance(codec, LatentCodec):
        raise TypeError(f"codec must be a LatentCodec (from fit_codec, codec_from_latents or codec_from_prior), "
                        f"got {type(codec).__name__}")


def compress(images: np.ndarray, codec: LatentCodec) -> list[bytes]:
    """One byte string per uint8 image."""
    _check_codec(codec)
    q = quantise(encode_latents(codec.encoder, images, codec.batch_size), codec.step)
    q = q.reshape(len(q), -1)  # spatial latents are coded in C order
    if q.shape[1] != codec.latent_dim:
        raise ValueError(f"encoder gives {q.shape[1]} latent values but the prior has {codec.latent_dim}")
    symbols = np.clip(q - codec.offset, 0, codec.probabilities.shape[1] - 1).astype(np.int32)  # rare outliers clip
    return [_pack(codec.model_id, codec.encode_symbols(row)) for row in symbols]


def _pack(model_id: bytes, words: np.ndarray) -> bytes:
    body = HEADER.pack(MAGIC, FORMAT_VERSION, model_id) + write_varint(len(words)) + np.asarray(words, "<u4").tobytes()
    return body + bytes([check_byte(body)])


def _parse(blob: bytes, codec: LatentCodec) -> np.ndarray:
    """Check the header and return the payload words."""
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise CodecError(f"expected a byte string, got {type(blob).__name__}")
    blob = bytes(blob)
    if len(blob) < HEADER.size + 6:
        raise CodecError(f"byte string of {len(blob)} bytes is too short (header {HEADER.size}, length, a word, check byte)")
    magic, version, model_id = HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise CodecError(f"not a cae_helpers byte string (first byte 0x{magic:02x}, expected 0x{MAGIC:02x})")
    if version != FORMAT_VERSION:
        raise CodecError(f"format version {version}; this decoder reads version {FORMAT_VERSION}")
    if model_id != codec.model_id:
        raise OtherModelError(f"made by another model (id {model_id.hex()}, this codec is {codec.model_id.hex()})")
    n_words, pos = read_varint(blob, HEADER.size, "length")
    payload = len(blob) - pos - 1
    if payload != 4 * n_words or n_words == 0:
        raise CodecError(f"the header declares {n_words} payload words ({4 * n_words} bytes) but {payload} bytes follow: "
                         "truncated or extended")
    if check_byte(blob[:-1]) != blob[-1]:
        raise CodecError("check byte mismatch: the byte string is corrupt")
    return np.frombuffer(blob, dtype="<u4", count=n_words, offset=pos).astype(np.uint32)


def decode_symbols(blob: bytes, codec: LatentCodec) -> np.ndarray:
    """The quantisation indices in one byte string."""
    words = _parse(blob, codec)
    try:
        symbols, coder = codec.decode_words(words)
    except (ValueError, RuntimeError, AssertionError) as err:
        raise CodecError(f"corrupt payload ({err})") from err
    if not coder.is_empty():
        raise CodecError("corrupt or truncated payload: the decoder did not end where the data does")
    return symbols.astype(np.int64) + codec.offset


def decompress(blobs: list[bytes], codec: LatentCodec) -> np.ndarray:
    """uint8 images (N, 32, 32, 3) from byte strings made by `compress` with the same codec."""
    _check_codec(codec)
    if isinstance(blobs, (bytes, bytearray, memoryview)):
        raise TypeError("decompress takes a list of byte strings; wrap a single one in a list")
    try:
        blobs = list(blobs)
    except TypeError:
        raise TypeError(f"decompress takes a list of byte strings, got {type(blobs).__name__}") from None
    if len(blobs) == 0:
        raise ValueError("no byte strings to decompress")
    latents = np.stack([decode_symbols(b, codec) for b in blobs]).astype(np.float32) * np.float32(codec.step)
    return decode_latents(codec.decoder, latents, codec.batch_size)


def decode_latents(decoder, latents: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """uint8 images from latents, batched through `predict` (a compiled graph: 2x the images/s of direct calls)."""
    latents = np.asarray(latents, np.float32)
    shape = tuple(decoder.input.shape[1:])
    if latents.ndim < 2 or len(latents) == 0 or int(np.prod(latents.shape[1:])) != int(np.prod(shape)):
        raise ValueError(f"latents must be a non-empty (N, {', '.join(map(str, shape))}) array (or flattened); got shape {latents.shape}")
    latents = latents.reshape((len(latents),) + shape)
    if not np.all(np.isfinite(latents)):
        raise ValueError("latents contain NaN or inf")
    out = np.asarray(decoder.predict(latents, batch_size=batch_size, verbose=0), np.float32)
    return to_uint8(out)


def total_bits_per_pixel(blobs: list[bytes], height: int = 32, width: int = 32) -> np.ndarray:
    """Bits per pixel of each whole byte string, header included."""
    return bits_per_pixel(np.array([len(b) for b in blobs], np.float64), height, width)
