"""Keras 3 autoencoders of the reference notebook, backend-agnostic (layers only).

`build_autoencoder` is the reference "modified" model (64/128/256 filters, Dense(128)
latent, 2,387,843 parameters); `build_initial_autoencoder` is its "initial" model with
the bottleneck really in the data path (the reference wired its decoder around it).
"""

from __future__ import annotations

from typing import Sequence

import keras
from keras import layers

from .data import IMAGE_SHAPE
from .layers import FusedBatchNormalization, NearestUpSampling2D, UniformNoise, conv_layers

MODEL_NAMES = ("reference", "initial")


def _conv_block(x, filters: int, conv, dtype, name: str, fast_layers: bool = True):
    """conv 3x3 same -> BatchNorm -> ReLU, the reference's repeated block.

    BatchNorm is Keras' own layer with TF's fused kernel where available (see layers.py):
    the same maths, about twice the training speed on CPU.
    """
    x = conv(filters, 3, padding="same", dtype=dtype, name=f"{name}_conv")(x)
    bn = FusedBatchNormalization if fast_layers else layers.BatchNormalization
    x = bn(dtype=dtype, name=f"{name}_bn")(x)
    return layers.ReLU(dtype=dtype, name=f"{name}_relu")(x)


def _chain(encoder: keras.Model, decoder: keras.Model, name: str, latent_noise: float = 0.0) -> keras.Model:
    """Autoencoder = decoder(encoder(x)), sharing the two models' weights.

    With `latent_noise` > 0, uniform noise of that width is added to the code in training
    only (quantisation-aware training for a codec with that step); inference is unchanged.
    """
    inputs = keras.Input(shape=encoder.input_shape[1:], name="image")
    code = encoder(inputs)
    if latent_noise:
        code = UniformNoise(latent_noise, dtype="float32", name="quantisation_noise")(code)
    return keras.Model(inputs, decoder(code), name=name)


def _check(filters: Sequence[int], latent_dim: int) -> None:
    if len(filters) != 3:
        raise ValueError(f"filters must list 3 widths (one per 2x downsampling), got {filters!r}")
    if int(latent_dim) < 1:
        raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")


def _encoder(filters, latent_dim, dtype, fast_layers, name) -> tuple[keras.Model, tuple[int, int, int]]:
    """Conv-BN-ReLU-MaxPool per width, Flatten, Dense latent (float32); returns it and the volume shape."""
    inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = inputs
    for i, f in enumerate(filters):
        x = _conv_block(x, f, conv_layers(fast_layers)[0], dtype, f"enc{i + 1}", fast_layers)
        x = layers.MaxPooling2D(2, dtype=dtype, name=f"enc{i + 1}_pool")(x)
    volume = tuple(x.shape[1:])
    x = layers.Flatten(dtype=dtype, name="flatten")(x)
    latent = layers.Dense(latent_dim, dtype="float32", name="latent_space")(x)
    return keras.Model(inputs, latent, name=name), volume


def _decoder_trunk(code, volume, filters, conv, dtype, fast_layers):
    """Dense back to the volume, then conv-BN-ReLU-UpSampling per width in reverse."""
    y = layers.Dense(volume[0] * volume[1] * volume[2], dtype=dtype, name="expand")(code)
    y = layers.Reshape(volume, dtype=dtype, name="reshape")(y)
    up = NearestUpSampling2D if fast_layers else layers.UpSampling2D
    for i, f in enumerate(reversed(filters)):
        y = _conv_block(y, f, conv, dtype, f"dec{i + 1}", fast_layers)
        y = up(2, dtype=dtype, name=f"dec{i + 1}_up")(y)
    return y


def build_autoencoder(
    filters: Sequence[int] = (64, 128, 256),
    latent_dim: int = 128,
    dtype: str | None = None,
    latent_noise: float = 0.0,
    fast_layers: bool = True,
) -> tuple[keras.Model, keras.Model, keras.Model]:
    """Reference "modified" model; returns (autoencoder, encoder, decoder).

    `dtype` is a Keras dtype policy name such as "mixed_bfloat16" (None: the global
    policy); the latent and the output stay float32 so the code size and the
    reconstructions do not depend on it. `latent_noise` > 0 trains for a codec quantising
    the latent with that step. `fast_layers=False` uses Keras' stock BatchNormalization,
    UpSampling2D, Conv2D and Conv2DTranspose instead of the faster drop-ins of layers.py (same maths).
    """
    _check(filters, latent_dim)
    encoder, volume = _encoder(filters, latent_dim, dtype, fast_layers, "encoder")
    code = keras.Input(shape=(latent_dim,), name="code")
    conv_t = conv_layers(fast_layers)[1]
    y = _decoder_trunk(code, volume, filters, conv_t, dtype, fast_layers)
    # the last conv runs in the compute dtype too (in float32 it and its casts were a tenth of a bfloat16 step, profiled);
    # only the sigmoid, which makes the output, is float32
    y = conv_t(3, 3, padding="same", dtype=dtype, name="out_conv")(y)
    out = layers.Activation("sigmoid", dtype="float32", name="reconstruction")(y)
    decoder = keras.Model(code, out, name="decoder")
    return _chain(encoder, decoder, "autoencoder", latent_noise), encoder, decoder


def build_initial_autoencoder(
    filters: Sequence[int] = (64, 32, 16),
    latent_dim: int = 512,
    dtype: str | None = None,
    latent_noise: float = 0.0,
    fast_layers: bool = True,
) -> tuple[keras.Model, keras.Model, keras.Model]:
    """Reference "initial" model, bottleneck in the data path; returns (autoencoder, encoder, decoder).

    Conv2D + UpSampling decoder ending in Conv2D(3) -> BatchNorm -> sigmoid, as the
    reference had. Its default 512-wide latent is the reference's: wider than the
    4x4x16 = 256-value volume before it, so it compresses only through the float32
    code being smaller than 3072 bytes.
    """
    _check(filters, latent_dim)
    encoder, volume = _encoder(filters, latent_dim, dtype, fast_layers, "initial_encoder")
    code = keras.Input(shape=(latent_dim,), name="code")
    conv = conv_layers(fast_layers)[0]
    y = _decoder_trunk(code, volume, filters, conv, dtype, fast_layers)
    y = conv(3, 3, padding="same", dtype=dtype, name="out_conv")(y)
    y = (FusedBatchNormalization if fast_layers else layers.BatchNormalization)(dtype=dtype, name="out_bn")(y)
    out = layers.Activation("sigmoid", dtype="float32", name="reconstruction")(y)
    decoder = keras.Model(code, out, name="initial_decoder")
    return _chain(encoder, decoder, "initial_autoencoder", latent_noise), encoder, decoder


def build_model(name: str = "reference", **kwargs) -> tuple[keras.Model, keras.Model, keras.Model]:
    """Build a model by name: "reference" (modified) or "initial"."""
    builders = {"reference": build_autoencoder, "initial": build_initial_autoencoder}
    if name not in builders:
        raise ValueError(f"unknown model name {name!r}; expected one of {sorted(builders)}")
    return builders[name](**kwargs)
