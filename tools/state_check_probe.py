"""Probe: what byte format 19's check word under the ANS state costs, and how often a damaged string gets past it.

    CIFAR100_PATH=/path/to/cifar-100-python.tar.gz python tools/state_check_probe.py > results/state-check/probe.log
    CIFAR100_PATH=... python tools/state_check_probe.py --damage-only > results/state-check/damage-2byte.log  # (2) only

(1) Cost: the default codec's payloads of every 10th CIFAR-100 test image (1,000) at qualities 1, 1.375, 4
and 8, coded from an empty ANS coder (as versions 16-18) and from a check word of 8, 16, 20, 24 and 32 bits
(random words with that top bit set); the mean extra payload bytes (trimmed as stored) per image.
(2) Damage: the first 300 of those images coded in version 19 at qualities 1, 4 and 8, each string damaged
in eight ways (its last 1, 2 or 3 bytes cut, one byte appended, one random payload bit flipped, one random
payload byte replaced, its quality byte moved one step, its payload swapped for the same image's at the next
quality; another image's payload under the same header is that image's valid string, not damage); counted:
how many damaged strings still decode without an error (the format's promise: about 1 in 65,535 or fewer).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from cae_helpers.codec import shipped_codec
from cae_helpers.data import load_cifar100
from cae_helpers.entropy import container
from cae_helpers.errors import CodecError
from cae_helpers.io import versions


def payload_bytes(words) -> int:
    """Bytes of ANS words as stored: the last word's zero high bytes trimmed."""
    return len(np.asarray(words, "<u4").tobytes().rstrip(b"\0"))


def cost(codec, images: np.ndarray) -> None:
    """Mean extra payload bytes of starting the ANS coder from a check word of k bits instead of empty."""
    import constriction

    rng = np.random.default_rng(1)
    for quality in (1, 1.375, 4, 8):
        code = codec.level16(quality)
        y_sym, y_idx, z_sym = codec._symbols(images, code / 16)

        def run(bits: int | None) -> np.ndarray:
            make = (lambda: constriction.stream.stack.AnsCoder()) if bits is None else \
                (lambda: constriction.stream.stack.AnsCoder(np.array([rng.integers(2 ** (bits - 1), 2 ** bits)], np.uint32)))
            coders = [make() for _ in range(len(images))]
            for i, coder in enumerate(coders):
                codec._push_strips(coder, lambda a, b: (y_sym[i:i + 1, a:b], y_idx[i:i + 1, a:b]), y_sym.shape[1:])  # noqa: B023
            codec._z_writer(code).push_each(coders, z_sym)
            return np.array([payload_bytes(c.get_compressed()) for c in coders])

        base = run(None)
        extras = {bits: run(bits) - base for bits in (8, 16, 20, 24, 32)}
        print(f"quality {quality}: empty coder {base.mean():.3f} payload bytes; extra with a check word of "
              + ", ".join(f"{b} bits {e.mean():+.3f} (max {e.max():+d})" for b, e in extras.items()), flush=True)


def damaged(blob: bytes, other: bytes, rng) -> dict[str, bytes]:
    """Eight damaged copies of a version-19 string of a 32x32 image (header: lead, quality; the side too before 2026-12-04); `other`: the image at another quality."""
    head = 2 if container.LEADS[blob[0]][1] == container.ONE_TILE else 3
    flip, spot = rng.integers(head, len(blob)), rng.integers(head, len(blob))
    bit = bytearray(blob)
    bit[flip] ^= 1 << int(rng.integers(8))
    byte = bytearray(blob)
    byte[spot] = (byte[spot] + int(rng.integers(1, 256))) % 256
    quality = bytearray(blob)
    quality[1] = quality[1] + 1 if quality[1] < 112 else quality[1] - 1
    return {"cut 1": blob[:-1], "cut 2": blob[:-2], "cut 3": blob[:-3], "appended": blob + bytes([rng.integers(1, 256)]),
            "bit flipped": bytes(bit), "byte replaced": bytes(byte), "quality moved": bytes(quality), "payload of another quality": blob[:head] + other[head:]}


def damage(codec, images: np.ndarray) -> None:
    """Count the damaged strings that still decode without an error, per kind of damage and quality."""
    rng = np.random.default_rng(2)
    total = passed = 0
    for quality in (1, 4, 8):
        blobs = codec.compress(images, quality, colour=False)  # versions 19-21, as when this probe was run
        others = codec.compress(images, quality + 1 if quality < 8 else 7, colour=False)
        assert {container.version_of(b) for b in blobs} == {container.IN_STATE[container.LEVEL_Z[container.VERSION]]}
        counts: dict[str, int] = {}
        for blob, other in zip(blobs, others):
            for kind, bad in damaged(blob, other, rng).items():
                try:
                    codec.decompress([bad])
                    ok = True
                except CodecError:
                    ok = False
                counts[kind] = counts.get(kind, 0) + ok
        n = len(blobs) * len(counts)
        total, passed = total + n, passed + sum(counts.values())
        print(f"quality {quality}: {sum(counts.values())} of {n} damaged strings decoded without an error ({json.dumps(counts)})", flush=True)
    print(f"in all: {passed} of {total}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--damage-only", action="store_true", help="only (2), the damaged strings; skip (1), the cost")
    args = p.parse_args()  # before loading anything: a mistyped option fails at once
    codec = shipped_codec()
    images = load_cifar100().test.images[::10]  # 1,000, 10 per class
    print(f"# command: CIFAR100_PATH=... python tools/state_check_probe.py{' --damage-only' if args.damage_only else ''}; "
          "default codec; every 10th CIFAR-100 test image")
    if not args.damage_only:
        cost(codec, images)
    damage(codec, images[:300])
    print(f"# versions: {json.dumps(versions())}")


if __name__ == "__main__":
    main()
