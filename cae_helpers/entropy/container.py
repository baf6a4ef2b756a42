"""The hyperprior codec's byte format (versions 3 to 9): a compact header, one ANS payload, a check byte.

    byte 0        magic 0xCA
    byte 1        format version: odd = the image coded whole, even = coded as independent 32x32 tiles;
                  and how the hyper-latent z is coded: 3 and 4 under the fixed tables, 5 and 6 adapted
                  row by row (`entropy.adaptive`), 7 and 8 adapted per context of the neighbours
                  already coded (`entropy.context`; what the codec writes); 9 as 7, for an image coded at a
                  smaller size (`rescale`)
    bytes 2-3     model identity: the first 2 bytes of SHA-256 over the shipped weights and tables
    byte 4        quality: the level times 16 (fractional levels in steps of 1/16)
    byte 5        version 9 only: the scale k in sixteenths (4..15); the payload is a version-7 payload of the
                  image at the size `coded_side` gives for each side, which the decoder resizes to height x width
    varint        height in pixels (1 byte up to 127, 2 up to 16,383, 3 up to 2,097,151)
    varint        width
    varint        payload length in 32-bit words
    payload       the ANS coder's 32-bit words, little-endian: decoded, z first, then y strip by strip
                  (`tiling.coding_strips`: one strip up to a megapixel; version 2 had no strips).
                  Version 4: the image edge-padded to multiples of 32 and cut into 32x32 tiles in
                  raster order, each coded as a 32x32 image on its own; decoded, the z of every tile
                  first, then the tiles' y in groups of `tiling.TILE_GROUP` tiles. Version 8 codes the
                  tiles' z as one grid, (2 x tile rows, 2 x tile columns), so neighbours across tiles are contexts
    last byte     check: the low byte of CRC-32 over everything before it

For a 32x32 image the overhead is 9 bytes (0.070 bpp): magic, version, model id and quality
5, sides 2, length 1 (up to 127 words), check 1. Any truncation or extension contradicts the
declared length, and a dropped prefix the magic byte, version or model id: each raises
`CodecError` before decoding. A random corruption of the payload passes the check byte with
probability 1/256 and then decodes to a well-formed image of the declared size.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, replace

import numpy as np

from ..errors import CodecError, OtherModelError

MAGIC = 0xCA
Z_CODINGS = ("fixed", "rows", "context")  # how z is coded: versions 3 and 4, 5 and 6, 7 and 8
VERSIONS = {(tiled, z): 3 + 2 * i + tiled for i, z in enumerate(Z_CODINGS) for tiled in (False, True)}  # (tiled, z coding) -> version
VERSION, TILED_VERSION = VERSIONS[False, "context"], VERSIONS[True, "context"]  # what the codec writes: 7, 8
RESCALED_VERSION = 9  # version 7 with a scale byte: the image coded at a smaller size
SCALES16 = range(4, 16)  # the scales version 9 allows, in sixteenths: 1/4 to 15/16
MAX_SIDE = 1 << 16  # 65,536 pixels: larger sides are refused before any allocation
MAX_PIXELS = 1 << 28  # 268 megapixels


def model_id(arrays: list[np.ndarray]) -> bytes:
    """2 bytes identifying a model: SHA-256 over its arrays' bytes, shapes and dtypes."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes())
    return h.digest()[:2]


def write_varint(n: int) -> bytes:
    """Unsigned LEB128: 7 bits a byte, high bit set on every byte but the last."""
    if n < 0:
        raise ValueError(f"varint of a negative number {n}")
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_varint(blob: bytes, pos: int, name: str) -> tuple[int, int]:
    """(value, next position); at most 3 bytes, no overlong encodings."""
    value = 0
    for i in range(3):
        if pos + i >= len(blob):
            raise CodecError(f"truncated header: the {name} field runs past the end")
        byte = blob[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if i and byte == 0:
                raise CodecError(f"malformed header: overlong {name} field")
            return value, pos + i + 1
    raise CodecError(f"malformed header: the {name} field is longer than 3 bytes")


def check_byte(data: bytes) -> int:
    """The low byte of CRC-32: the check byte both byte formats end in."""
    return zlib.crc32(data) & 0xFF


@dataclass(frozen=True)
class Header:
    """What decoding needs besides the payload."""

    model: bytes
    level16: int  # quality level x 16
    height: int
    width: int
    tiled: bool = False  # even format versions: independent 32x32 tiles
    z_coding: str = "context"  # one of Z_CODINGS: how the payload codes z (what the codec writes: "context")
    scale16: int = 16  # version 9: coded at `coded_sides` (scale16 / 16 of each side), then resized to height x width

    @property
    def rescaled(self) -> bool:
        """Whether the payload codes the image at a smaller size (version 9)."""
        return self.scale16 != 16

    def coded(self) -> "Header":
        """The header of what the payload holds: the image at its coded size (itself unless rescaled)."""
        return replace(self, height=coded_side(self.height, self.scale16), width=coded_side(self.width, self.scale16), scale16=16)


def coded_side(side: int, scale16: int) -> int:
    """A side of an image coded at scale16 / 16 of its size: rounded to the nearest pixel, at least 1."""
    return max(1, (side * scale16 + 8) // 16)


def pack(header: Header, words: np.ndarray) -> bytes:
    """header + payload words + check byte."""
    if not (1 <= header.height <= MAX_SIDE and 1 <= header.width <= MAX_SIDE):
        raise ValueError(f"image sides must be 1..{MAX_SIDE}, got {header.height}x{header.width}")
    version = VERSIONS[header.tiled, header.z_coding]
    scale = b""
    if header.rescaled:
        if header.scale16 not in SCALES16 or header.tiled or header.z_coding != "context":
            raise ValueError(f"a rescaled image is coded whole with z per context at a scale of {SCALES16.start}..{SCALES16.stop - 1} "
                             f"sixteenths; got {header.scale16}, tiled={header.tiled}, z coding {header.z_coding!r}")
        version, scale = RESCALED_VERSION, bytes([header.scale16])
    body = (bytes([MAGIC, version]) + header.model + bytes([header.level16]) + scale + write_varint(header.height)
            + write_varint(header.width) + write_varint(len(words)) + np.asarray(words, "<u4").tobytes())
    return body + bytes([check_byte(body)])


def unpack(blob, expected_model: bytes) -> tuple[Header, np.ndarray]:
    """Validate every field before anything large is allocated; (header, payload words) or CodecError."""
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise CodecError(f"expected a byte string, got {type(blob).__name__}")
    blob = bytes(blob)
    if len(blob) < 12:
        raise CodecError(f"byte string of {len(blob)} bytes is too short for this format (at least 12)")
    if blob[0] != MAGIC:
        raise CodecError(f"not a cae_helpers byte string (first byte 0x{blob[0]:02x}, expected 0x{MAGIC:02x})")
    if blob[1] not in VERSIONS.values() and blob[1] != RESCALED_VERSION:
        raise CodecError(f"format version {blob[1]}; this decoder reads versions {min(VERSIONS.values())} to {RESCALED_VERSION}")
    if blob[2:4] != expected_model:
        raise OtherModelError(f"made by another model (id {blob[2:4].hex()}, this codec is {expected_model.hex()})")
    scale16, pos = 16, 5
    if blob[1] == RESCALED_VERSION:
        scale16, pos = blob[5], 6
        if scale16 not in SCALES16:
            raise CodecError(f"malformed header: scale {scale16}/16 (version 9 allows {SCALES16.start}..{SCALES16.stop - 1} sixteenths)")
    height, pos = read_varint(blob, pos, "height")
    width, pos = read_varint(blob, pos, "width")
    n_words, pos = read_varint(blob, pos, "length")
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE) or height * width > MAX_PIXELS:
        raise CodecError(f"image size {height}x{width} is outside what this format allows (sides 1..{MAX_SIDE}, "
                         f"at most {MAX_PIXELS:,} pixels)")
    payload = len(blob) - pos - 1
    if payload != 4 * n_words or n_words == 0:
        raise CodecError(f"the header declares {n_words} payload words ({4 * n_words} bytes) but {payload} bytes follow: "
                         "truncated or extended")
    if check_byte(blob[:-1]) != blob[-1]:
        raise CodecError("check byte mismatch: the byte string is corrupt, truncated or extended")
    words = np.frombuffer(blob, "<u4", count=payload // 4, offset=pos).astype(np.uint32)
    tiled, z_coding = next((k for k, v in VERSIONS.items() if v == blob[1]), (False, "context"))  # 9: as 7
    return Header(blob[2:4], blob[4], height, width, tiled, z_coding, scale16), words
