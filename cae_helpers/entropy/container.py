"""The hyperprior codec's byte format (versions 3 to 24): a compact header and one ANS payload.

Versions 22 to 24 (since 2026-12-07, written where the codec ships mean-colour tables and the corrections pay for an
image; else 19 to 21): a string of version 19, 20 or 21 with one integer per 32x32 block of the final image and
channel (raster order of blocks, channels innermost) pushed on top of its ANS stack, under the quality level's
mean-colour table (`colour`). The decoder pops them first, decodes what is left as the 19-21 string it was, and
adds them (`colour.apply`).
    byte 0        lead: 0xE5 + 3 x (version - 22) + 0 (not square), 1 (square) or 2 (32x32: no size field), so
                  0xE5 to 0xED
    the rest      as versions 19-21 (quality, scale byte, sides, payload)
The check word under the stack is the 19-21 string's (`check_head` reads the lead as 19-21's): the corrections are
added to a finished string by an encoder that has decoded it. A changed lead byte, other tables or damaged
corrections leave the decoder at another end state and are refused as damage is (1 in 65,535 by chance).

What the codec writes otherwise (versions 19 to 21, since 2026-12-04; a codec without per-level z tables writes 13 to 15):
    byte 0        lead: 0xD0 + 2 x (version - 13) + (1 if the image is square), or for a 32x32 image (one tile)
                  0xE2 + (version - 19): 19 = the image coded whole, 20 = coded as independent 32x32 tiles,
                  21 = coded whole at a smaller size (`rescale`)
    byte 1        quality: the level times 16; version 21: then the scale byte (as byte 5 of versions 3-12)
    varint        height; width: a second varint unless the lead byte says the image is square; neither for 32x32
                  (written since 2026-12-04; a 32x32 image under the square lead with its side still decodes)
    payload       the rest of the byte string: the ANS words of versions 16 to 18, the last word trimmed of its
                  zero high bytes (so the last byte is never zero)
Versions 19 to 21 are 16 to 18 without the model identity, the payload length and the check byte (4 bytes for
a 32x32 image, 5 where the payload passes 127 bytes). In their place the ANS coder starts from a check word,
`state_word`: 1 to 65,535, from SHA-256 over the model's whole identity (`identity_digest`: weights, tables,
per-level tables) and the header's bytes. The coder's first-pushed values sit on top of it, so the decoder,
having decoded every value, must be left holding exactly that word and nothing else (`HyperpriorCodec`'s end
check). An empty ANS coder's state has room for about 16 bits below its first values: starting from the check
word costs 0.003 to 0.025 bytes per CIFAR image on average (measured at qualities 1, 1.375, 4 and 8 on 1,000
test images, `results/state-check/probe.log`), where the fields it replaces cost 4 to 5. A byte string that is
damaged, truncated, extended, given another header, or made by another model decodes to some other end state
and is refused, except by chance (1 in 65,535 for a value-like end state; `tools/state_check_probe.py`
counts it on damaged strings). What is lost: a foreign model's bytes are refused after entropy decoding, not
from the header, and the error cannot tell a foreign model from damage (`codec.zoo_model_decoding` tries the shipped
codecs); strings of these versions are not self-delimiting (their length is the container's: a file, a list).

Versions 13 to 18 (still decoded; 13 to 15 are version 10, 11 or 12 with a header 2 bytes shorter for a
square image, 1 for any other; 16 to 18 are 13 to 15 with z coded under its quality level's own tables, written by
a codec that ships them, `HyperpriorCodec.z_level_tables`):
    byte 0        lead: magic and version in one byte, 0xD0 + 2 x (version - 13) + (1 if the image is square):
                  13 (16) = the image coded whole, 14 (17) = coded as independent 32x32 tiles, 15 (18) = coded
                  whole at a smaller size (`rescale`)
    bytes 1-2     model identity (as bytes 2-3 below); versions 16-18: over the per-level z tables too, so
                  a codec whose level tables differ refuses the bytes instead of decoding z under other tables
    byte 3        quality (as byte 4 below); versions 15 and 18: then the scale byte (as byte 5 below)
    varint        height; width: a second varint unless the lead byte says the image is square
    varint        payload length in bytes, payload, check byte: as versions 10 to 12

Versions 3 to 12 (still decoded):
    byte 0        magic 0xCA
    byte 1        format version: 10 = the image coded whole, 11 = coded as independent 32x32 tiles, 12 = coded
                  whole at a smaller size (`rescale`). Each is the version three below
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

For a 32x32 image the overhead is 7 bytes (0.055 bpp; 9 in versions 10 to 12; 16-18 as 13-15): lead 1, model id 2,
quality 1, side 1, length 1 (payloads up to 127 bytes; 2 above), check 1. Any truncation or extension
contradicts the declared length, and a dropped prefix the lead byte (or magic and version) or model id: each
raises `CodecError` before decoding. The ANS decoder ending empty is checked too (`codec._check_empty`) but
is no substitute for the check byte: constriction decodes past the end of the data, its state draining to the
empty state, and with the check byte and length repaired 2 of 820 damaged payloads of quality 8 still decoded
(`tools/endstate_probe.py`, `results/endstate-probe/probe.log`). A random corruption of the payload passes the check byte with
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
# versions 10, 11, 12 with one lead byte for magic and version, and a square image's side once
SHORT = {v: v + 3 for v in TRIMMED.values()}
VERSION, TILED_VERSION, RESCALED_VERSION = SHORT.values()  # 13, 14, 15
# versions 13, 14, 15 with z coded under its quality level's own tables: what a codec with such tables writes
LEVEL_Z = {v: v + 3 for v in SHORT.values()}  # 16, 17, 18
# versions 16, 17, 18 with the model identity, length and check byte replaced by a check word under the ANS state
IN_STATE = {v: v + 3 for v in LEVEL_Z.values()}  # 19, 20, 21: what a codec with per-level z tables writes
LEAD = 0xD0  # the lead byte of version 13 for an image that is not square; + 2 per version after 13, + 1 if square
ONE_BYTE = (*SHORT.values(), *LEVEL_Z.values(), *IN_STATE.values())  # versions with a lead byte: 13 to 21
LEADS = {LEAD + 2 * (v - VERSION) + square: (v, square) for v in ONE_BYTE for square in (0, 1)}  # byte -> (version, square)
# versions 19-21: an image of exactly one tile (32x32, `tiling.TILE`) has a lead byte of its own and no size field;
# its "square" value is ONE_TILE (2), truthy as a square's. Before 2026-12-04 such images had the square lead and
# their side: still decoded (each spelling under its own check word)
ONE_TILE, TILE_SIDE, LEAD_ONE_TILE = 2, 32, 0xE2
LEADS |= {LEAD_ONE_TILE + v - min(IN_STATE.values()): (v, ONE_TILE) for v in IN_STATE.values()}  # 0xE2, 0xE3, 0xE4
# versions 19, 20, 21 with mean-colour corrections (`colour`) pushed on top of their ANS stack: 22, 23, 24
COLOUR = {v: v + 3 for v in IN_STATE.values()}
UNCORRECTED = {c: v for v, c in COLOUR.items()}  # 22, 23, 24 -> the version of the string under the corrections
LEAD_COLOUR = 0xE5  # + 3 x (version - 22) + 0 (not square), 1 (square) or 2 (one 32x32 tile): 0xE5 to 0xED
LEADS |= {LEAD_COLOUR + 3 * (v - min(COLOUR.values())) + square: (v, square) for v in COLOUR.values() for square in (0, 1, ONE_TILE)}
STATE_VERSIONS = frozenset(IN_STATE.values()) | frozenset(COLOUR.values())  # a check word under the ANS state: 19 to 24
LEAD_OF = {key: byte for byte, key in LEADS.items()}  # (version, square) -> lead byte
KNOWN_VERSIONS = frozenset(VERSIONS.values()) | {WORD_RESCALED} | set(TRIMMED.values()) | set(ONE_BYTE) | set(COLOUR.values())
# the word version (7, 8 or 9) each trimmed version carries: its z coding, tiling and scale byte
WORD_OF = {t: w for w, t in TRIMMED.items()} | {s: w for w, t in TRIMMED.items()
                                                 for s in (SHORT[t], LEVEL_Z[SHORT[t]], IN_STATE[LEVEL_Z[SHORT[t]]],
                                                           COLOUR[IN_STATE[LEVEL_Z[SHORT[t]]]])}
MIN_LENGTH = 8  # lead, model id 2, quality, side, length, payload 1, check
MIN_LENGTH_IN_STATE = 3  # versions 19-21: lead, quality, payload 1 (a 32x32 image: no side)
CHECK_WORDS = 65535  # versions 19-21: the check word is 1..65,535 (0 would be an empty coder)
SCALES16 = range(4, 16)  # the scales versions 9 and 12 allow, in sixteenths: 1/4 to 15/16
MAX_SIDE = 1 << 16  # 65,536 pixels: larger sides are refused before any allocation
MAX_PIXELS = 1 << 28  # 268 megapixels


def identity_digest(arrays: list[np.ndarray]) -> bytes:
    """SHA-256 (32 bytes) over a model's arrays' bytes, shapes and dtypes: what identifies it."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes())
    return h.digest()


def model_id(arrays: list[np.ndarray]) -> bytes:
    """2 bytes identifying a model (the first of `identity_digest`): what versions 3 to 18 carry."""
    return identity_digest(arrays)[:2]


def state_word(identity: bytes, header: "Header") -> int:
    """The check word versions 19-24 start the ANS coder from: 1..65,535 from SHA-256 over the identity digest and the header's bytes.

    Versions 22-24 start from the word of the 19-21 string under their corrections (`check_head`): the corrections are
    added to a finished string. Their lead byte, tables and values are checked by the end state as the payload is.
    """
    digest = hashlib.sha256(identity + check_head(header)).digest()
    return 1 + int.from_bytes(digest[:4], "little") % CHECK_WORDS


def check_head(header: "Header") -> bytes:
    """The header bytes a check word covers: as written, with a 22-24 lead byte read as its 19-21 lead."""
    head = header.head or state_head(header)
    version, square = LEADS[head[0]]
    return bytes([LEAD_OF[UNCORRECTED.get(version, version), square]]) + head[1:]


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
    long_head: bool = False  # versions 10-12: magic and version in 2 bytes, both sides stored (implied by `legacy`)
    level_z: bool = False  # versions 16-18: z coded under the quality level's own tables (`HyperpriorCodec.z_level_tables`)
    state_check: bool = False  # versions 19-21: 16-18 with a check word under the ANS state instead of model id, length, check byte
    head: bytes = b""  # versions 19-24: the header's bytes as written (what the check word covers, read as 19-21; kept by `coded`)
    colour: bool = False  # versions 22-24: 19-21 with mean-colour corrections on top of the ANS stack (`colour`)

    @property
    def rescaled(self) -> bool:
        """Whether the payload codes the image at a smaller size (version 9)."""
        return self.scale16 != 16

    def coded(self) -> "Header":
        """The header of what the payload holds: the image at its coded size (itself unless rescaled)."""
        return replace(self, height=coded_side(self.height, self.scale16), width=coded_side(self.width, self.scale16), scale16=16)

    def uncorrected(self) -> "Header":
        """The header of the version 19-21 string under a 22-24 string's corrections (its head as written: `check_head` reads the lead as 19-21's)."""
        return replace(self, colour=False)


def coded_side(side: int, scale16: int) -> int:
    """A side of an image coded at scale16 / 16 of its size: rounded to the nearest pixel, at least 1."""
    return max(1, (side * scale16 + 8) // 16)


def state_head(header: Header) -> bytes:
    """The header bytes of versions 19-24: lead, quality, the scale byte if rescaled, the side(s)."""
    if not header.level_z or header.legacy or header.long_head or header.z_coding != "context":
        raise ValueError("versions 19 to 21 code z per context under per-level tables, with a short header")
    if header.rescaled and (header.scale16 not in SCALES16 or header.tiled):
        raise ValueError(f"a rescaled image is coded whole at {SCALES16.start}..{SCALES16.stop - 1} sixteenths, got {header.scale16}")
    version = IN_STATE[LEVEL_Z[SHORT[TRIMMED[WORD_RESCALED if header.rescaled else VERSIONS[header.tiled, "context"]]]]]
    version = COLOUR[version] if header.colour else version
    square = ONE_TILE if header.height == header.width == TILE_SIDE else int(header.height == header.width)
    scale = bytes([header.scale16]) if header.rescaled else b""
    sides = b"" if square == ONE_TILE else write_varint(header.height) + (b"" if square else write_varint(header.width))
    return bytes([LEAD_OF[version, square], header.level16]) + scale + sides


def pack(header: Header, words: np.ndarray) -> bytes:
    """header + payload (trimmed bytes, or whole words for `header.legacy` and the z codings before "context") + check byte.

    Versions 19-21 (`header.state_check`): header + trimmed payload; the words must come from a coder started
    from `state_word` (the codec's job: this function cannot check it).
    """
    if not (1 <= header.height <= MAX_SIDE and 1 <= header.width <= MAX_SIDE):
        raise ValueError(f"image sides must be 1..{MAX_SIDE}, got {header.height}x{header.width}")
    if header.state_check:
        return state_head(header) + payload_bytes(words)
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
    square = header.height == header.width
    if header.level_z and (not trimmed or header.long_head):
        raise ValueError("z under per-level tables is written in versions 16 to 18 only: a short header, z per context")
    if trimmed and not header.long_head:  # versions 13-18
        version = LEVEL_Z[SHORT[version]] if header.level_z else SHORT[version]
        lead, sides = bytes([LEAD_OF[version, square]]), write_varint(header.height)
        sides += b"" if square else write_varint(header.width)
    else:
        lead, sides = bytes([MAGIC, version]), write_varint(header.height) + write_varint(header.width)
    body = lead + header.model + bytes([header.level16]) + scale + sides + write_varint(length) + payload
    return body + bytes([check_byte(body)])


def version_of(blob) -> int | None:
    """The format version a byte string's first bytes name (None: not this codec's), without validating the rest."""
    blob = bytes(blob[:2])
    if blob[:1] and blob[0] in LEADS:
        return LEADS[blob[0]][0]
    return blob[1] if len(blob) == 2 and blob[0] == MAGIC and blob[1] in KNOWN_VERSIONS else None


def model_field(blob) -> bytes | None:
    """The 2-byte model identity a byte string's header carries (None: not this codec's byte string, or of versions 19-24, which carry none)."""
    version = version_of(blob)
    start = 1 if version in ONE_BYTE else 2
    if version is None or version in STATE_VERSIONS:
        return None
    return None if len(blob) < start + 2 else bytes(blob[start:start + 2])


def payload_bytes(words: np.ndarray, trimmed: bool = True) -> bytes:
    """The payload as stored: little-endian words, `trimmed` of the last word's zero high bytes (versions 10-15)."""
    payload = np.asarray(words, "<u4").tobytes()
    if not trimmed:
        return payload
    if not payload or not any(payload[-4:]):  # ANS's top word holds its state's leading 1 bit
        raise ValueError("an ANS payload ends in a non-zero word; this one is empty or ends in zeros")
    return payload.rstrip(b"\0")


def unpack(blob, expected_model: bytes, level_z_model: bytes | None = None) -> tuple[Header, np.ndarray]:
    """Validate every field before anything large is allocated; (header, payload words) or CodecError.

    `level_z_model`: the model identity versions 16-18 carry (it covers the per-level z tables too); None: refused.
    """
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise CodecError(f"expected a byte string, got {type(blob).__name__}")
    blob = bytes(blob)
    in_state = bool(blob) and blob[0] in LEADS and LEADS[blob[0]][0] in STATE_VERSIONS
    shortest = MIN_LENGTH_IN_STATE if in_state else MIN_LENGTH
    if len(blob) < shortest:
        raise CodecError(f"byte string of {len(blob)} bytes is too short for this format (at least {shortest})")
    if in_state:
        return _unpack_in_state(blob, *LEADS[blob[0]], level_z_model)
    if blob[0] in LEADS:
        (version, square), pos = LEADS[blob[0]], 1
    elif blob[0] == MAGIC:
        version, square, pos = blob[1], False, 2
        if version not in KNOWN_VERSIONS - set(ONE_BYTE) - set(UNCORRECTED):
            raise CodecError(f"format version {version} after magic 0x{MAGIC:02x}; this decoder reads versions "
                             f"{min(KNOWN_VERSIONS)} to {max(TRIMMED.values())} there")
    else:
        raise CodecError(f"not a cae_helpers byte string (first byte 0x{blob[0]:02x}, expected 0x{MAGIC:02x} or "
                         f"0x{min(LEADS):02x}..0x{max(LEADS):02x})")
    model, level_z = blob[pos:pos + 2], version in LEVEL_Z.values()
    expected = level_z_model if level_z else expected_model
    if expected is None:  # a codec without per-level tables made none of these
        raise OtherModelError(f"made by another model (id {model.hex()}, format version {version}: z under per-level tables, "
                              "which this codec does not have)")
    if model != expected:
        raise OtherModelError(f"made by another model (id {model.hex()}, this codec is {expected.hex()})")
    short = version in ONE_BYTE
    trimmed = short or version in TRIMMED.values()
    base = WORD_OF.get(version, version)  # the word version it trims: 7, 8, 9 or itself
    level16, pos = blob[pos + 2], pos + 3
    scale16, height, width, pos = _read_size(blob, pos, version, square)
    length, pos = read_varint(blob, pos, "length", max_bytes=5 if trimmed else 3)
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
    return Header(model, level16, height, width, tiled, z_coding, scale16, legacy=not trimmed,
                  long_head=not short, level_z=level_z), words


def _read_size(blob: bytes, pos: int, version: int, square: int) -> tuple[int, int, int, int]:
    """(scale16, height, width, next position) from the header fields at `pos`: the scale byte (rescaled versions), the sides."""
    scale16 = 16
    if WORD_OF.get(version, version) == WORD_RESCALED:
        if pos >= len(blob):
            raise CodecError("truncated header: the scale field runs past the end")
        scale16, pos = blob[pos], pos + 1
        if scale16 not in SCALES16:
            raise CodecError(f"malformed header: scale {scale16}/16 (version {version} allows {SCALES16.start}..{SCALES16.stop - 1} sixteenths)")
    if square == ONE_TILE:  # versions 19-21: the lead byte says 32x32
        return scale16, TILE_SIDE, TILE_SIDE, pos
    height, pos = read_varint(blob, pos, "height")
    width, pos = (height, pos) if square else read_varint(blob, pos, "width")
    if (version in ONE_BYTE or version in UNCORRECTED) and not square and width == height:
        raise CodecError("malformed header: a square image's sides stored twice (version 13 onwards stores them once)")
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE) or height * width > MAX_PIXELS:
        raise CodecError(f"image size {height}x{width} is outside what this format allows (sides 1..{MAX_SIDE}, "
                         f"at most {MAX_PIXELS:,} pixels)")
    return scale16, height, width, pos


def _unpack_in_state(blob: bytes, version: int, square: int, level_z_model: bytes | None) -> tuple[Header, np.ndarray]:
    """Versions 19-24: (header, payload words); the check word is the codec's to verify once everything is decoded."""
    if level_z_model is None:  # a codec without per-level tables made none of these
        raise OtherModelError(f"made by another model (format version {version}: z under per-level tables, which this codec "
                              "does not have)")
    level16 = blob[1]
    scale16, height, width, pos = _read_size(blob, 2, version, square)
    data = blob[pos:]
    if not data:
        raise CodecError("truncated: the byte string ends after its header, with no payload")
    if data[-1] == 0:
        raise CodecError("malformed payload: it ends in a zero byte, which this format never writes")
    words = np.frombuffer(data + bytes(-len(data) % 4), "<u4").astype(np.uint32)
    tiled = WORD_OF[version] == VERSIONS[True, "context"]
    return Header(b"", level16, height, width, tiled, "context", scale16, level_z=True, state_check=True, head=blob[:pos],
                  colour=version in UNCORRECTED), words
