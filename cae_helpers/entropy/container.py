"""The hyperprior codec's byte format (versions 3 to 12): a compact header, one ANS payload, a check byte.

    byte 0        magic 0xCA
    byte 1        format version: 10 = the image coded whole, 11 = coded as independent 32x32 tiles, 12 = coded
                  whole at a smaller size (`rescale`); what the codec writes. Each is the version three below
                  it (7, 8, 9) with the payload's length counted in bytes and its last word stored without
                  its zero high bytes (1.5 bytes less a byte string on average; 0.5-1 net where the byte count
                  needs a second length byte, past 127), and decoded with each latent
                  value moved from its bin's centre toward the bin's mean under its Gaussian, by the codec's
                  weight for the level (`tables.bin_mean_offsets`, `HyperpriorCodec.bin_mean_weight`; same
                  bytes, higher PSNR). Versions 3 to 9 still decode as before, at the centres:
                  odd = whole, even = tiles; the hyper-latent z under the fixed tables (3, 4), adapted row by
                  row (5, 6; `entropy.adaptive`), adapted per context of the neighbours already coded (7, 8;
                  `entropy.context`, as in 10 to 12); 9 as 7, at a smaller size
    bytes 2-3     model identity: the first 2 bytes of SHA-256 over the shipped weights and tables
    byte 4        quality: the level times 16 (fractional levels in steps of 1/16)
    byte 5        versions 9 and 12 only: the scale k in sixteenths (4..15); the payload is a whole-image payload of
                  the image at the size `coded_side` gives for each side, which the decoder resizes to height x width
    varint        height in pixels (1 byte up to 127, 2 up to 16,383, 3 up to 2,097,151)
    varint        width
    varint        payload length: in bytes (versions 10 to 12; up to 5 varint bytes), in 32-bit words (3 to 9)
    payload       the ANS coder's 32-bit words, little-endian: decoded, z first, then y strip by strip
                  (`tiling.coding_strips`: one strip up to a megapixel; version 2 had no strips).
                  Versions 10 to 12 drop the last word's zero high bytes (the decoder restores them; the
                  last byte is never zero, so each payload has one spelling). ANS keeps a 64-bit state
                  whose top word holds 1 to 32 bits, so 0 to 3 of its bytes are zero.
                  Tiled (4, 6, 8, 11): the image edge-padded to multiples of 32 and cut into 32x32 tiles in
                  raster order, each coded as a 32x32 image on its own; decoded, the z of every tile
                  first, then the tiles' y in groups of `tiling.TILE_GROUP` tiles. Versions 8 and 11 code the
                  tiles' z as one grid, (2 x tile rows, 2 x tile columns), so neighbours across tiles are contexts
    last byte     check: the low byte of CRC-32 over everything before it

For a 32x32 image the overhead is 9 bytes (0.070 bpp): magic, version, model id and quality
5, sides 2, length 1 (payloads up to 127 bytes; 2 above), check 1. Any truncation or extension
contradicts the declared length, and a dropped prefix the magic byte, version or model id: each raises
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
WORD_RESCALED = 9  # version 7 with a scale byte: the image coded at a smaller size
# versions 7, 8, 9 with the payload in bytes (its last word trimmed of zero high bytes): what the codec writes
TRIMMED = {VERSIONS[False, "context"]: 10, VERSIONS[True, "context"]: 11, WORD_RESCALED: 12}
VERSION, TILED_VERSION, RESCALED_VERSION = TRIMMED.values()  # 10, 11, 12
KNOWN_VERSIONS = frozenset(VERSIONS.values()) | {WORD_RESCALED} | set(TRIMMED.values())
SCALES16 = range(4, 16)  # the scales versions 9 and 12 allow, in sixteenths: 1/4 to 15/16
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


def read_varint(blob: bytes, pos: int, name: str, max_bytes: int = 3) -> tuple[int, int]:
    """(value, next position); at most `max_bytes` bytes, no overlong encodings."""
    value = 0
    for i in range(max_bytes):
        if pos + i >= len(blob):
            raise CodecError(f"truncated header: the {name} field runs past the end")
        byte = blob[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if i and byte == 0:
                raise CodecError(f"malformed header: overlong {name} field")
            return value, pos + i + 1
    raise CodecError(f"malformed header: the {name} field is longer than {max_bytes} bytes")


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
    scale16: int = 16  # versions 9 and 12: coded at `coded_sides` (scale16 / 16 of each side), then resized to height x width
    legacy: bool = False  # versions 3-9: payload counted in words and stored whole, values decoded at their bins' centres

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
    """header + payload (trimmed bytes, or whole words for `header.legacy` and the z codings before "context") + check byte."""
    if not (1 <= header.height <= MAX_SIDE and 1 <= header.width <= MAX_SIDE):
        raise ValueError(f"image sides must be 1..{MAX_SIDE}, got {header.height}x{header.width}")
    version = VERSIONS[header.tiled, header.z_coding]
    scale = b""
    if header.rescaled:
        if header.scale16 not in SCALES16 or header.tiled or header.z_coding != "context":
            raise ValueError(f"a rescaled image is coded whole with z per context at a scale of {SCALES16.start}..{SCALES16.stop - 1} "
                             f"sixteenths; got {header.scale16}, tiled={header.tiled}, z coding {header.z_coding!r}")
        version, scale = WORD_RESCALED, bytes([header.scale16])
    trimmed = not header.legacy and version in TRIMMED
    payload = payload_bytes(words, trimmed)
    version, length = (TRIMMED[version], len(payload)) if trimmed else (version, len(words))
    body = (bytes([MAGIC, version]) + header.model + bytes([header.level16]) + scale + write_varint(header.height)
            + write_varint(header.width) + write_varint(length) + payload)
    return body + bytes([check_byte(body)])


def payload_bytes(words: np.ndarray, trimmed: bool = True) -> bytes:
    """The payload as stored: little-endian words, `trimmed` of the last word's zero high bytes (versions 10-12)."""
    payload = np.asarray(words, "<u4").tobytes()
    if not trimmed:
        return payload
    if not payload or not any(payload[-4:]):  # ANS's top word holds its state's leading 1 bit
        raise ValueError("an ANS payload ends in a non-zero word; this one is empty or ends in zeros")
    return payload.rstrip(b"\0")


def unpack(blob, expected_model: bytes) -> tuple[Header, np.ndarray]:
    """Validate every field before anything large is allocated; (header, payload words) or CodecError."""
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise CodecError(f"expected a byte string, got {type(blob).__name__}")
    blob = bytes(blob)
    if len(blob) < 10:
        raise CodecError(f"byte string of {len(blob)} bytes is too short for this format (at least 10)")
    if blob[0] != MAGIC:
        raise CodecError(f"not a cae_helpers byte string (first byte 0x{blob[0]:02x}, expected 0x{MAGIC:02x})")
    version = blob[1]
    if version not in KNOWN_VERSIONS:
        raise CodecError(f"format version {version}; this decoder reads versions {min(KNOWN_VERSIONS)} to {max(KNOWN_VERSIONS)}")
    if blob[2:4] != expected_model:
        raise OtherModelError(f"made by another model (id {blob[2:4].hex()}, this codec is {expected_model.hex()})")
    trimmed = version in TRIMMED.values()
    base = next((v for v, t in TRIMMED.items() if t == version), version)  # the word version it trims: 7, 8, 9 or itself
    scale16, pos = 16, 5
    if base == WORD_RESCALED:
        scale16, pos = blob[5], 6
        if scale16 not in SCALES16:
            raise CodecError(f"malformed header: scale {scale16}/16 (version {version} allows {SCALES16.start}..{SCALES16.stop - 1} sixteenths)")
    height, pos = read_varint(blob, pos, "height")
    width, pos = read_varint(blob, pos, "width")
    length, pos = read_varint(blob, pos, "length", max_bytes=5 if trimmed else 3)
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE) or height * width > MAX_PIXELS:
        raise CodecError(f"image size {height}x{width} is outside what this format allows (sides 1..{MAX_SIDE}, "
                         f"at most {MAX_PIXELS:,} pixels)")
    payload = len(blob) - pos - 1
    n_bytes, unit = (length, "bytes") if trimmed else (4 * length, "words")
    if payload != n_bytes or length == 0:
        raise CodecError(f"the header declares {length} payload {unit} ({n_bytes} bytes) but {payload} bytes follow: "
                         "truncated or extended")
    if check_byte(blob[:-1]) != blob[-1]:
        raise CodecError("check byte mismatch: the byte string is corrupt, truncated or extended")
    data = blob[pos:pos + payload]
    if trimmed and data[-1] == 0:
        raise CodecError("malformed payload: it ends in a zero byte, which this format never writes")
    data += bytes(-len(data) % 4)  # the trimmed zero high bytes of the last word
    words = np.frombuffer(data, "<u4").astype(np.uint32)
    tiled, z_coding = next((k for k, v in VERSIONS.items() if v == base), (False, "context"))  # 9: as 7
    return Header(blob[2:4], blob[4], height, width, tiled, z_coding, scale16, legacy=not trimmed), words
