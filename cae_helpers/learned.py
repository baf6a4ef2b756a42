"""A learned, rate-distortion-optimised codec (Ballé et al. 2017/2018 style) in Keras 3.

Analysis transform (strided convolutions with GDN) -> spatial latent -> factorised prior
(a learned density per channel) -> synthesis transform (transposed convolutions with
inverse GDN). Training minimises  bits per pixel + lambda * 255^2 * MSE  with additive
uniform noise standing in for rounding; at coding time the latent is rounded and coded
by `cae_helpers.codec` under the prior's probability tables. Keras layers and
`keras.ops` only, so it trains on any backend (JAX on a GPU, TensorFlow on this CPU).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import ops

from .data import IMAGE_SHAPE
from .entropy.priors import FactorizedPrior
from .layers import GDN, conv_layers

def build_transforms(filters: int = 128, latent_channels: int = 128, downsamples: int = 2,
                     dtype: str | None = None, fast_convs: bool = False) -> tuple[keras.Model, keras.Model]:
    """(analysis, synthesis): 5x5 stride-2 convolutions with GDN, then a 3x3 convolution to the latent.

    32x32x3 <-> (32 / 2^downsamples)^2 x latent_channels; the synthesis mirrors the analysis
    (3x3 convolution, inverse GDN, 5x5 stride-2 transposed convolutions). `dtype`: the hidden
    layers' policy (for example "mixed_bfloat16"). `fast_convs` (training only): convolutions whose slow passes
    run as forward ones (`layers.FastConv2D`).
    """
    conv, conv_t = conv_layers(fast_convs)
    if not 1 <= downsamples <= 5:
        raise ValueError(f"downsamples must be 1..5 for 32x32 images, got {downsamples}")
    x = inputs = keras.Input(IMAGE_SHAPE, name="image")
    for i in range(downsamples):
        x = conv(filters, 5, strides=2, padding="same", name=f"analysis{i}", dtype=dtype)(x)
        x = GDN(name=f"gdn{i}", dtype=dtype)(x)
    # the latent and the image stay float32 under mixed precision: bfloat16 cannot even hold
    # the integers of a wide latent, and the loss needs the output's full precision
    y = conv(latent_channels, 3, padding="same", dtype="float32", name="latent")(x)
    analysis = keras.Model(inputs, y, name="analysis")

    z = code = keras.Input(y.shape[1:], name="latent")
    z = conv(filters, 3, padding="same", name="synthesis_in", dtype=dtype)(z)
    for i in range(downsamples - 1):
        z = GDN(inverse=True, name=f"igdn{i}", dtype=dtype)(z)
        z = conv_t(filters, 5, strides=2, padding="same", name=f"synthesis{i}", dtype=dtype)(z)
    z = GDN(inverse=True, name=f"igdn{downsamples - 1}", dtype=dtype)(z)
    z = conv_t(3, 5, strides=2, padding="same", dtype="float32", name=f"synthesis{downsamples - 1}")(z)
    synthesis = keras.Model(code, z, name="synthesis")
    return analysis, synthesis


class RateDistortionModel(keras.Model):
    """Trains analysis, prior and synthesis on  bpp + lmbda * 255^2 * MSE  (images in [0, 1])."""

    def __init__(self, analysis: keras.Model, synthesis: keras.Model, prior: FactorizedPrior, lmbda: float, **kwargs):
        super().__init__(**kwargs)
        self.analysis, self.synthesis, self.prior, self.lmbda = analysis, synthesis, prior, float(lmbda)
        self.bpp_tracker = keras.metrics.Mean(name="bpp")
        self.mse_tracker = keras.metrics.Mean(name="mse")

    def call(self, x, training=False):
        y_tilde, lik = self.prior(self.analysis(x), training=training)
        bits = ops.sum(-ops.log(lik), axis=(1, 2, 3)) / math.log(2.0)
        return self.synthesis(y_tilde), bits

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        x_hat, bits = y_pred
        bpp = ops.mean(bits) / (IMAGE_SHAPE[0] * IMAGE_SHAPE[1])
        mse = ops.mean(ops.square(ops.cast(y, x_hat.dtype) - x_hat))
        self.bpp_tracker.update_state(bpp)
        self.mse_tracker.update_state(mse)
        return bpp + self.lmbda * 255.0**2 * mse

    @property
    def metrics(self):
        return [self.bpp_tracker, self.mse_tracker] + super().metrics


@dataclass
class RDConfig:
    """Architecture, lambda and training settings of one learned codec."""

    lmbda: float = 0.01
    filters: int = 128
    latent_channels: int = 128
    downsamples: int = 2
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 3e-4
    decay_at: float = 0.8  # fraction of the steps after which the learning rate drops tenfold
    clip_norm: float = 100.0  # global gradient-norm clip: typical norms are 40-90; it tames rare spikes (GDN)
    val_size: int = 5000  # class-balanced validation images split off the training set
    seed: int = 0
    precision: str = "auto"
    init_from: str | None = None  # a saved codec folder whose weights start the training (warm start)

    def __post_init__(self) -> None:
        if not self.lmbda > 0:
            raise ValueError(f"lmbda must be positive, got {self.lmbda!r}")
        for name in ("filters", "latent_channels", "epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not 0 < self.decay_at <= 1:
            raise ValueError(f"decay_at must be in (0, 1], got {self.decay_at!r}")


def build_rd_model(lmbda: float, filters: int = 128, latent_channels: int = 128, downsamples: int = 2,
                   dtype: str | None = None, training: bool = False) -> RateDistortionModel:
    """A rate-distortion model ready to compile (call `.compile(optimizer=...)`, then `fit(x, x)`).

    `training`: its convolutions' slow passes run as forward ones (`layers.FastConv2D`; coding keeps Keras' own).
    """
    analysis, synthesis = build_transforms(filters, latent_channels, downsamples, dtype, fast_convs=training)
    prior = FactorizedPrior(name="prior", dtype="float32")  # probabilities need float32 under any policy
    model = RateDistortionModel(analysis, synthesis, prior, lmbda)
    model(np.zeros((1,) + IMAGE_SHAPE, np.float32))  # build every part
    return model


def save_learned(model: RateDistortionModel, config: RDConfig, directory, info: dict | None = None) -> None:
    """weights.npz (float16: half the bytes, and what ships is what is measured) and config.json."""
    from .io import atomic_write, write_json

    directory = Path(directory)
    weights = model.analysis.get_weights() + model.synthesis.get_weights() + model.prior.get_weights()

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, *[np.asarray(w, np.float16) for w in weights])

    atomic_write(directory / "weights.npz", write)
    write_json(directory / "config.json", {"config": dataclasses.asdict(config), **(info or {})})


def load_learned(directory) -> tuple[RateDistortionModel, RDConfig]:
    """A codec saved by `save_learned`, built in float32 (no network needed)."""
    directory = Path(directory)
    for name in ("weights.npz", "config.json"):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"{directory / name} is missing: not a learned codec saved by save_learned")
    config = RDConfig(**json.loads((directory / "config.json").read_text())["config"])
    model = build_rd_model(config.lmbda, config.filters, config.latent_channels, config.downsamples)
    with np.load(directory / "weights.npz") as f:
        arrays = [f[f"arr_{i}"].astype(np.float32) for i in range(len(f.files))]
    parts = (model.analysis, model.synthesis, model.prior)
    expected = sum(len(p.weights) for p in parts)
    if len(arrays) != expected:
        raise ValueError(f"{directory / 'weights.npz'} holds {len(arrays)} arrays; the architecture in config.json needs {expected}")
    for part in parts:
        n = len(part.weights)
        part.set_weights(arrays[:n])
        arrays = arrays[n:]
    return model, config
