"""10,000 seeded mutations per codec on every run: no truncation, extension or prefix drop ever decodes.

Kinds: cut the end (any length, and whole 32-bit words), drop a prefix, append bytes, flip 1-3 bits,
replace the payload with random bytes behind a valid header. Cuts, drops and appends must raise
CodecError; flips and random payloads must raise CodecError or decode to a well-formed image.
"""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers.errors import CodecError

N = 10_000
MUST_RAISE = ("cut", "cut_words", "drop", "append")


def _mutate(blob: bytes, rng: np.random.Generator, header: int) -> tuple[str, bytes]:
    kind = ("cut", "cut_words", "drop", "append", "flip", "random")[rng.integers(6)]
    n = len(blob)
    if kind == "cut":
        return kind, blob[: rng.integers(0, n)]
    if kind == "cut_words":
        return kind, blob[: max(0, n - 4 * int(rng.integers(1, max(2, (n - header) // 4 + 1))))]
    if kind == "drop":
        return kind, blob[rng.integers(1, n):]
    if kind == "append":
        return kind, blob + rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8).tobytes()
    b = bytearray(blob)
    if kind == "flip":
        for _ in range(int(rng.integers(1, 4))):
            pos = int(rng.integers(0, n))
            b[pos] ^= 1 << int(rng.integers(0, 8))
        return kind, bytes(b)
    b[header:] = rng.integers(0, 256, n - header, dtype=np.uint8).tobytes()
    return kind, bytes(b)


def _run(blobs: list[bytes], decode, shape, header: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    counts = {"raised": 0, "decoded": 0}
    for _ in range(N):
        kind, b = _mutate(blobs[int(rng.integers(len(blobs)))], rng, header)
        if b in blobs:
            continue  # a flip pair that cancelled out: not a mutation
        try:
            out = decode(b)
        except CodecError:
            counts["raised"] += 1
            continue
        assert kind not in MUST_RAISE, f"a '{kind}' mutation decoded silently"
        # a flip that passed the check byte decodes to a well-formed image of the size the header declares
        assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[-1] == 3 and (kind != "random" or out.shape == shape)
        counts["decoded"] += 1
    assert counts["raised"] > 0.9 * N  # the check byte alone catches ~255/256 of the rest
    return counts


def _images(n=4):
    return np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def test_reference_latent_coder():
    from cae_helpers import build_autoencoder
    from cae_helpers.entropy.coder import compress, decompress, fit_codec

    _, enc, dec = build_autoencoder(filters=(4, 8, 8), latent_dim=16)
    codec = fit_codec(enc, dec, _images(32), step=0.05)
    _run(compress(_images(), codec), lambda b: decompress([b], codec)[0], (32, 32, 3), 6, seed=1)


def test_factorised_learned_codec():
    from cae_helpers.entropy.coder import codec_from_prior, compress, decompress
    from cae_helpers.entropy.priors import FactorizedPrior
    from cae_helpers.learned import build_transforms

    analysis, synthesis = build_transforms(filters=8, latent_channels=4)
    prior = FactorizedPrior()
    prior(np.zeros((1, 8, 8, 4), np.float32))
    codec = codec_from_prior(analysis, synthesis, prior, lo=-40, hi=40)
    _run(compress(_images(), codec), lambda b: decompress([b], codec)[0], (32, 32, 3), 6, seed=2)


@pytest.mark.parametrize("shape,tiles", [((32, 32), None), ((33, 65), False), ((33, 65), True)])
def test_hyperprior_codec(shape, tiles):
    import keras

    from cae_helpers.codec import HyperpriorCodec
    from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior

    keras.utils.set_random_seed(0)
    cfg = HyperpriorConfig(filters=8, latent_channels=8, hyper_filters=8, hyper_channels=4, lambdas=(0.001, 0.01), precision="float32")
    codec = HyperpriorCodec.from_model(build_hyperprior(cfg))
    images = np.random.default_rng(1).integers(0, 256, (3,) + shape + (3,), dtype=np.uint8)
    header = 6 if shape[0] == shape[1] else 7  # version 13/14: lead, model id 2, quality, side(s), length (one byte each here)
    _run(codec.compress(images, 2, tiles=tiles), codec.decompress_image, shape + (3,), header, seed=3)
