"""Probe: can the shipped codec go below quality 1 by extrapolating its gains? (It cannot usefully: see the log.)

    CIFAR100_PATH=/path/to/cifar-100-python.tar.gz python tools/low_rate_probe.py 1,0.75,0.5,0.25,0,-0.5,-1

Codes the first 500 CIFAR-100 test images through real bytes at each quality, with the per-channel log-gains
extrapolated linearly past the lowest trained level (quality 1). The shipped codec refuses qualities below 1, so
this script patches two things in its own process only: the gains (extrapolated instead of clamped) and the
header's quality byte (stored as a signed byte so negative levels fit). Prints bpp of whole byte strings and mean
PSNR (uint8) per quality.
"""

import dataclasses
import os
import pickle
import sys
import tarfile

import numpy as np

from cae_helpers.codec import HyperpriorCodec, pretrained_codec
from cae_helpers.entropy import container
from cae_helpers.metrics import mean_psnr


def extrapolated_gains(self, level: float) -> tuple[np.ndarray, np.ndarray]:
    """(y gain, z gain): log-linear through the two nearest trained levels, also outside the trained range."""
    out = []
    for log_g in self._log_gains:
        lo = min(max(int(np.floor(level)), 0), len(log_g) - 2)
        t = level - lo
        out.append(np.exp((1 - t) * log_g[lo] + t * log_g[lo + 1]))
    return out[0], out[1]


def signed_quality_byte() -> None:
    """Let the header carry levels below 0: the quality byte as a two's-complement signed byte."""
    pack, unpack = container.pack, container.unpack
    container.pack = lambda h, words: pack(dataclasses.replace(h, level16=h.level16 & 0xFF), words)

    def unpack_signed(blob, model):
        h, words = unpack(blob, model)
        return dataclasses.replace(h, level16=h.level16 - 256 if h.level16 >= 128 else h.level16), words

    container.unpack = unpack_signed


def main() -> None:
    HyperpriorCodec.gains = extrapolated_gains
    HyperpriorCodec.level16 = lambda self, q: int(round((q - 1) * 16))
    signed_quality_byte()
    with tarfile.open(os.environ["CIFAR100_PATH"]) as t:
        d = pickle.load(t.extractfile("cifar-100-python/test"), encoding="bytes")
    images = np.ascontiguousarray(d[b"data"][:500].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    codec = pretrained_codec(1).codec
    for q in (float(a) for a in sys.argv[1].split(",")):
        blobs = codec.compress(images, q)
        psnr = mean_psnr(images, codec.decompress(blobs))
        bpp = 8 * np.mean([len(b) for b in blobs]) / 1024
        print(f"quality {q}: {bpp:.4f} bpp {psnr:.3f} dB", flush=True)


if __name__ == "__main__":
    main()
