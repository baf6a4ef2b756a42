"""Could the ANS decoder's end state replace the check byte? The probe behind keeping it in byte format 13.

    CIFAR100_PATH=../shared/data/cifar-100-python.tar.gz python tools/endstate_probe.py 20 > results/endstate-probe/probe.log

The default codec codes the first N CIFAR-100 test images (argument, default 20) at qualities 1, 4 and 8; each
byte string is then damaged (its payload's end cut, its start dropped, bytes appended, a byte or a bit changed,
the quality byte or the declared sides changed) and its length field and check byte written again to match, so
that only the decoder's own checks can refuse it: the payload-size floor and the ANS coder's end state
(`codec._check_empty`). Counted: how many of those damaged strings still decoded without an error. Any count
above zero means the check byte is doing work the end state does not.
"""

from __future__ import annotations

import collections
import os
import sys
from dataclasses import replace

import numpy as np

from cae_helpers.codec import shipped_codec
from cae_helpers.data import load_cifar100
from cae_helpers.entropy import container
from cae_helpers.errors import CodecError

CODEC = replace(shipped_codec(), z_level_tables=None)  # writes version 13, as when this probe was run (19 has no check byte)


def resealed(blob: bytes, payload: bytes) -> bytes:
    """blob's header fields before the length, then `payload` with its own length field and a matching check byte."""
    _, words = container.unpack(blob, CODEC.model_id, CODEC.level_model_id)
    old = container.payload_bytes(words)
    head = blob[:len(blob) - 1 - len(old) - len(container.write_varint(len(old)))]
    body = head + container.write_varint(len(payload)) + payload
    return body + bytes([container.check_byte(body)])


def damaged(blob: bytes, rng: np.random.Generator):
    """(kind, damaged byte string with a valid length field and check byte) pairs."""
    header, words = container.unpack(blob, CODEC.model_id, CODEC.level_model_id)
    p = container.payload_bytes(words)
    for k in (1, 2, 3, 4, 8):
        if len(p) > k and p[-k - 1]:  # a payload never ends in a zero byte: the format refuses that before decoding
            yield "end cut", resealed(blob, p[:-k])
        yield "start dropped", resealed(blob, p[k:])
        yield "bytes appended", resealed(blob, p + bytes(rng.integers(1, 256, k, dtype=np.uint8)))
    for _ in range(8):
        q = bytearray(p)
        q[int(rng.integers(len(q)))] ^= int(rng.integers(1, 256))
        if q[-1]:
            yield "byte changed", resealed(blob, bytes(q))
        q = bytearray(p)
        bit = int(rng.integers(8 * len(q)))
        q[bit // 8] ^= 1 << (bit % 8)
        if q[-1]:
            yield "bit flipped", resealed(blob, bytes(q))
    for level16 in rng.choice([v for v in range(0, 113, 4) if v != header.level16], 3, replace=False):
        yield "quality changed", container.pack(replace(header, level16=int(level16)), words)
    for side in (16, 31, 33, 48, 64):
        yield "sides changed", container.pack(replace(header, height=side), words)
        yield "sides changed", container.pack(replace(header, height=side, width=side), words)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    images = load_cifar100(os.environ.get("CIFAR100_PATH")).test.images[:n]
    rng = np.random.default_rng(0)
    print(f"{n} CIFAR-100 test images, default codec; damaged strings that decoded without an error / tried:")
    for quality in (1, 4, 8):
        blobs = CODEC.compress(images, quality)
        tried, decoded = collections.Counter(), collections.Counter()
        for blob in blobs:
            for kind, bad in damaged(blob, rng):
                tried[kind] += 1
                try:
                    CODEC.decompress([bad])
                    decoded[kind] += 1
                except CodecError:
                    pass
        print(f"quality {quality} (mean {np.mean([len(b) for b in blobs]):.1f} bytes): "
              + ", ".join(f"{k} {decoded[k]}/{tried[k]}" for k in tried), flush=True)
    print("'sides changed' includes 31-pixel sides, which pad to the same 32x32 latent grid: the same symbols decode.")


if __name__ == "__main__":
    main()
