"""What every hyperprior variant's real bytes must do (channel context, fewer coded channels): decode to the model's
rounded output at the model's rate, and refuse every truncation."""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers.codec import HyperpriorCodec
from cae_helpers.errors import CodecError
from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior

from tiny import TINY, as_legacy, random_images


@pytest.fixture(scope="module", params=["context", "coded"])
def codec(request):
    """A tiny 4-slice context codec with non-zero context networks, or one coding 5 of its 8 latent channels."""
    import keras

    keras.utils.set_random_seed(0)
    if request.param == "coded":
        return HyperpriorCodec.from_model(build_hyperprior(HyperpriorConfig(**TINY, coded_channels=5)))
    model = build_hyperprior(HyperpriorConfig(**TINY, context_slices=4))
    rng = np.random.default_rng(1)
    for net in model.context:
        net.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in net.get_weights()])
    return HyperpriorCodec.from_model(model)


@pytest.mark.parametrize("quality", [1, 2.5])
def test_round_trip_equals_the_models_rounded_path(codec, quality):
    images = random_images()
    blobs = codec.compress(images, quality, rounding=0)  # each value to the nearest integer, as the model's path rounds
    out = codec.decompress(as_legacy(codec, blobs))  # decoded at the bins' centres, as the model's path rounds
    x_hat, bits, _ = codec.model(images.astype(np.float32) / 255, levels=np.full(len(images), quality - 1, np.float32))
    expected = np.clip(np.rint(np.asarray(x_hat) * 255), 0, 255)
    assert out.dtype == np.uint8 and out.shape == images.shape
    assert np.mean(np.abs(out.astype(float) - expected) > 1) < 0.01
    real_bits = np.array([8 * len(b) for b in blobs])
    assert np.all(real_bits < np.asarray(bits) + 8 * 8 + 64 + 0.05 * np.asarray(bits))


def test_every_truncation_is_refused(codec):
    blob = codec.compress(random_images(1), 2)[0]
    for cut in range(len(blob)):
        with pytest.raises(CodecError):
            codec.decompress([blob[:cut]])
