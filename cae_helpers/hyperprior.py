"""A variable-rate mean-scale hyperprior codec (Minnen et al. 2018 without context) in Keras 3.

    x (B, H, W, 3) in [0, 1]
    y = g_a(x)                      (B, H/4, W/4, M)   analysis transform, GDN
    y_g = y * gain[level]           per-channel gain unit (Cui et al. 2021): one model, K rates
    z = h_a(y_g) * zgain[level]     (B, H/16, W/16, Nz) hyper-latent, coded under a factorised prior
    mu, sigma = h_s(z_hat / zgain) * gain[level]        mean and scale of each y_g value
    y_hat = round(y_g - mu) + mu    what the decoder sees (the coder sends round(y_g - mu))
    x_hat = g_s(y_hat / gain)       synthesis transform, inverse GDN

With `coded_channels` C < M only y's first C channels are coded (mu, sigma, y_hat and g_s's
input have C channels); h_a still reads all M gained channels, so the other M - C are encoder-side
features of the side information only (a pruned codec keeps its source's hyper-analysis exactly).

With `context_slices` S > 1 (channel-wise context, Minnen & Singh 2020), y's channels are
coded in S slices; slice s's (mu, log sigma) from h_s get a residual from a small network
that sees them and the already decoded slices' y_hat / gain (3x3 then 1x1 convolution, the
last one starting at zero, so a model warm-started from one without context starts equal to it).

Training loss per image: bpp + lambda[level] * 255^2 * MSE (times a level weight with
`level_weight_power`), each image of a batch at a level drawn uniformly from the K levels; the
rate counts y_g + U(-0.5, 0.5) under N(mu, sigma) convolved with a unit box, and z + noise
under the factorised prior; the decoders see hard rounding with a straight-through gradient
("mixed" quantisation). Fractional levels
interpolate the gains exponentially, so any rate between the shipped levels is reachable.

With `tune_encoder` (a start from a saved codec) only g_a and h_a train, on `coded_path`: what the coder sends
and decodes (hard rounding, bits at the rounded values, values moved toward their bins' means), the decoder fixed.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from .entropy.priors import FactorizedPrior, bits, gaussian_likelihood
from .layers import GDN, conv_layers

DEFAULT_LAMBDAS = tuple(float(f"{v:.3g}") for v in np.geomspace(0.0005, 0.8, 8))  # ~0.25 to ~5 bpp
OUTPUT_PRECISIONS = ("compute", "float32")  # see HyperpriorConfig.output_precision
MULTIPLE = 16  # g_a and h_a each halve twice: image sides must be multiples of 16 (the codec pads)


def large_patch_problem(value: int) -> str | None:
    """Why `value` is no training patch side (None: it is one): 0 (off) or a multiple of 32 from 64 up."""
    if value and (value % 32 or value < 64):
        return f"must be 0 (off) or a multiple of 32 from 64 up (mosaics of 32x32 images), got {value!r}"
    return None


@dataclass
class HyperpriorConfig:
    """Architecture and training settings of the variable-rate hyperprior codec."""

    filters: int = 128  # N: width of g_a / g_s
    latent_channels: int = 128  # M: channels of y
    hyper_filters: int = 96  # width of h_a / h_s
    hyper_channels: int = 64  # Nz: channels of z (2x2 positions for a 32x32 image)
    hyper_kernel: int = 3  # kernel of h_a's first and h_s's last convolution (3: Minnen 2018; 1: a cheaper hyper path)
    context_slices: int = 0  # S > 1: y coded in S channel slices, each conditioned on the ones before (0 or 1: none)
    coded_channels: int = 0  # C < M: only y's first C channels are coded and decoded; all M feed h_a (0: C = M)
    lambdas: tuple = DEFAULT_LAMBDAS  # one per quality level, lowest rate first
    epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 3e-4
    decay_at: float = 0.9  # fraction of the steps after which the learning rate drops tenfold
    clip_norm: float = 100.0  # global gradient-norm clip (tames rare GDN spikes)
    augment: float = 0.5  # share of training images replaced by a crop of themselves upscaled 1-4x (smooth content)
    max_zoom: float = 4.0
    large_patch: int = 0  # > 0: every other batch is made of large_patch-pixel patches (mosaics, upscaled crops)
    # training draws each image's level uniformly from [0, K - 1] (lambda and gains log-linear between the levels)
    # instead of from the K integers, so fractional qualities are trained rather than only interpolated
    continuous_levels: bool = False
    # each image's loss times (lambda / lambda_mid)^-p, normalised to mean 1 over the levels: the loss of a high level
    # (about 7 at the top, 0.5 at the bottom) no longer drowns the low levels' gradients (0: every level weighs 1)
    level_weight_power: float = 0.0
    # train only the encoder (g_a, h_a) of init_from's codec on the loss of what the coder really sends and decodes:
    # hard rounding, bits at the rounded values, the synthesis on values moved toward their bins' means, gradients
    # through the rounding from a soft round (`soft_ste_round`); the decoder's weights stay as they are
    tune_encoder: bool = False
    # residual blocks added to g_a before its output convolution (two 3x3 convolutions at H/4 x W/4 x N, the second
    # starting at zero, so a block starts as the identity): encoder capacity that neither the decoder nor the bytes see
    encoder_blocks: int = 0
    # residual blocks added to g_s before its output convolution (two 3x3 convolutions at H/2 x W/2 x N, the second
    # starting at zero): decoder capacity at the same bytes, trained on the coded path with tune_blocks_only
    decoder_blocks: int = 0
    # with tune_encoder: train only the encoder or decoder blocks init_from's codec lacks; every weight it has stays as it is
    tune_blocks_only: bool = False
    init_from: str = ""  # a saved codec folder whose weights the training starts from ("": random)
    init_partial: bool = False  # init_from may differ in architecture: copy what fits (see transfer_weights)
    passes: int = 1  # passes over the training images per epoch (fewer, longer epochs on a fast GPU)
    val_size: int = 5000
    seed: int = 0
    precision: str = "auto"
    # in training, the four output convolutions (y, x_hat, z, h_s's means and scales) give float32 under any policy;
    # "compute": computed in the policy's 16-bit type, then cast (about 1.2x the training images/s on a CPU with
    # AMX, same validation loss); "float32": computed in float32 (runs recorded before this setting). Coding
    # always computes them in float32 (the decoder's means and scale indices must not depend on the encoder's policy).
    output_precision: str = "compute"

    def __post_init__(self) -> None:
        self.lambdas = tuple(float(v) for v in self.lambdas)
        if len(self.lambdas) < 1 or any(not v > 0 for v in self.lambdas) or list(self.lambdas) != sorted(self.lambdas):
            raise ValueError(f"lambdas must be positive and increasing, got {self.lambdas!r}")
        for name in ("filters", "latent_channels", "hyper_filters", "hyper_channels", "hyper_kernel", "epochs", "batch_size",
                     "passes"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not 0 <= self.coded_channels <= self.latent_channels:
            raise ValueError(f"coded_channels must be 0 (all) or at most latent_channels ({self.latent_channels}), "
                             f"got {self.coded_channels!r}")
        if self.context_slices < 0 or (self.context_slices > 1 and self.coded % self.context_slices):
            raise ValueError(f"context_slices must be 0 (none) or divide the coded channels ({self.coded}), "
                             f"got {self.context_slices!r}")
        if not 0 <= self.level_weight_power <= 1:
            raise ValueError(f"level_weight_power must be in [0, 1], got {self.level_weight_power!r}")
        if not 0 <= self.augment <= 1:
            raise ValueError(f"augment must be in [0, 1], got {self.augment!r}")
        if not 0 < self.decay_at <= 1:
            raise ValueError(f"decay_at must be in (0, 1], got {self.decay_at!r}")
        if self.tune_encoder and (not self.init_from or self.init_partial or self.context_slices > 1):
            raise ValueError("tune_encoder trains the encoder of a whole saved codec without context: it needs init_from, "
                             "not init_partial or context_slices")
        for name in ("encoder_blocks", "decoder_blocks"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 (none) or a positive integer, got {getattr(self, name)!r}")
        if self.tune_blocks_only and not (self.tune_encoder and (self.encoder_blocks or self.decoder_blocks)):
            raise ValueError("tune_blocks_only trains the blocks init_from's codec lacks: it needs tune_encoder and "
                             "encoder_blocks or decoder_blocks")
        if self.init_partial and not self.init_from:
            raise ValueError("init_partial says how to start from init_from: it needs init_from")
        if self.output_precision not in OUTPUT_PRECISIONS:
            raise ValueError(f"output_precision must be one of {OUTPUT_PRECISIONS}, got {self.output_precision!r}")
        if large_patch_problem(self.large_patch):
            raise ValueError(f"large_patch {large_patch_problem(self.large_patch)}")

    @property
    def levels(self) -> int:
        return len(self.lambdas)

    @property
    def coded(self) -> int:
        """Channels of y that are coded and decoded (C); the other M - C only inform the hyper-analysis."""
        return self.coded_channels or self.latent_channels

    @property
    def slices(self) -> int:
        """Channel slices of y coded one after another (1: no context)."""
        return max(1, self.context_slices)


def interpolate_levels(table, levels):
    """Rows of `table` (K, ...) at float levels (B,), clipped to [0, K - 1], linear between neighbours: (B, ...)."""
    k = table.shape[0]
    levels = ops.clip(ops.cast(levels, "float32"), 0.0, k - 1.0)
    lo = ops.cast(ops.floor(levels), "int32")
    hi = ops.minimum(lo + 1, k - 1)
    t = ops.reshape(levels - ops.cast(lo, "float32"), (-1,) + (1,) * (len(table.shape) - 1))  # (B, 1, ...)
    return (1.0 - t) * ops.take(table, lo, axis=0) + t * ops.take(table, hi, axis=0)


@keras.saving.register_keras_serializable(package="cae_helpers")
class GainUnits(keras.layers.Layer):
    """A learned positive gain per level and channel; fractional levels interpolate log-gains linearly."""

    def __init__(self, init_log_gains, **kwargs):
        super().__init__(**kwargs)
        self.init_log_gains = np.asarray(init_log_gains, np.float32).tolist()  # (K,) or (K, C)

    def build(self, input_shape):
        channels = input_shape[-1]
        init = np.asarray(self.init_log_gains, np.float32)
        init = np.broadcast_to(init.reshape(len(init), -1), (len(init), channels))
        self.log_gains = self.add_weight(shape=init.shape, initializer=keras.initializers.Constant(init), name="log_gains")

    def gains(self, levels):
        """(B, C) gains for float levels (B,) in [0, K - 1]."""
        return ops.exp(interpolate_levels(self.log_gains, levels))

    def call(self, x, levels):
        return x * self.gains(levels)[:, None, None, :]

    def get_config(self) -> dict:
        return super().get_config() | {"init_log_gains": self.init_log_gains}


def mean_scale(params, gain):
    """(mu, sigma) of the gained latent from h_s's output (B, h, w, 2M) and the y gain (broadcasting to (B, h, w, M))."""
    mu, log_sigma = ops.split(params, 2, axis=-1)
    return mu * gain, ops.exp(ops.clip(log_sigma, -10.0, 10.0)) * gain


def ste_round(x):
    """round(x) forward, identity gradient backward."""
    return x + ops.stop_gradient(ops.round(x) - x)


SOFT_ROUND_ALPHA = 3.0  # sharpness of soft_ste_round's backward pass (Agustsson & Theis 2020's soft round)


def soft_ste_round(x, alpha: float = SOFT_ROUND_ALPHA):
    """round(x) forward; backward the gradient of a soft round, s(x) = m + tanh(alpha r) / (2 tanh(alpha / 2)) with
    m = floor(x) + 1/2, r = x - m: mean slope 1 over a bin like the straight-through estimator's, but steeper at the
    bins' edges than at their centres, so a shifted mean moves the rounded value (straight-through: round(y - mu) + mu
    gives mu no gradient)."""
    m = ops.stop_gradient(ops.floor(x)) + 0.5
    soft = m + ops.tanh(alpha * (x - m)) / (2.0 * np.tanh(alpha / 2.0))
    return soft + ops.stop_gradient(ops.round(x) - soft)


def build_transforms(c: HyperpriorConfig, dtype: str | None = None, fast_outputs: bool = False,
                     fast_convs: bool = False) -> dict[str, keras.Model]:
    """g_a, g_s, h_a, h_s as fully convolutional Keras models (any image size that is a multiple of 16).

    `dtype`: the layers' dtype policy (for example "mixed_bfloat16"); the outputs y, x_hat, z and
    the hyper-parameters are always float32, computed in float32 unless `fast_outputs` (training only).
    `fast_convs` (training only): convolutions whose slow passes run as forward ones (`layers.FastConv2D`).
    """
    conv, conv_t = conv_layers(fast_convs)

    def out(cls, *args, name, **kw):
        """An output convolution with a float32 result: computed in float32, or in `dtype` and cast after."""
        if not fast_outputs or dtype in (None, "float32"):
            return cls(*args, name=name, dtype="float32", **kw)
        conv, cast = cls(*args, name=name, dtype=dtype, **kw), layers.Activation("linear", dtype="float32", name=f"{name}_cast")
        return lambda t: cast(conv(t))

    n, m, hn, nz, k = c.filters, c.latent_channels, c.hyper_filters, c.hyper_channels, c.hyper_kernel
    coded = c.coded
    x = inp = keras.Input((None, None, 3), name="image")
    for i in range(2):
        x = conv(n, 5, strides=2, padding="same", name=f"ga{i}", dtype=dtype)(x)
        x = GDN(name=f"ga_gdn{i}", dtype=dtype)(x)

    def residual_blocks(t, count: int, prefix: str):
        """(B, h, w, N) -> the same through `count` blocks t + conv(relu(conv(t))), each the identity at its start."""
        for b in range(count):
            r = conv(n, 3, padding="same", activation="relu", name=f"{prefix}{b}_0", dtype=dtype)(t)
            r = conv(n, 3, padding="same", kernel_initializer="zeros", name=f"{prefix}{b}_1", dtype=dtype)(r)
            t = layers.Add(name=f"{prefix}{b}", dtype=dtype)([t, r])
        return t

    x = residual_blocks(x, c.encoder_blocks, "ga_res")  # (B, H/4, W/4, N)
    # y and x_hat are float32 tensors under any policy (rounding and the loss need full precision); see `out`
    g_a = keras.Model(inp, out(conv, m, 3, padding="same", name="ga_out")(x), name="analysis")

    y = inp = keras.Input((None, None, coded), name="y_hat")
    y = conv(n, 3, padding="same", name="gs_in", dtype=dtype)(y)
    y = GDN(inverse=True, name="gs_igdn0", dtype=dtype)(y)
    y = conv_t(n, 5, strides=2, padding="same", name="gs0", dtype=dtype)(y)
    y = GDN(inverse=True, name="gs_igdn1", dtype=dtype)(y)
    y = residual_blocks(y, c.decoder_blocks, "gs_res")  # (B, H/2, W/2, N)
    g_s = keras.Model(inp, out(conv_t, 3, 5, strides=2, padding="same", name="gs_out")(y), name="synthesis")

    h = inp = keras.Input((None, None, m), name="y_gained")
    h = conv(hn, k, padding="same", activation="relu", name="ha0", dtype=dtype)(h)
    h = conv(hn, 5, strides=2, padding="same", activation="relu", name="ha1", dtype=dtype)(h)
    h_a = keras.Model(inp, out(conv, nz, 5, strides=2, padding="same", name="ha_out")(h), name="hyper_analysis")

    h = inp = keras.Input((None, None, nz), name="z_hat")
    h = conv_t(hn, 5, strides=2, padding="same", activation="relu", name="hs0", dtype=dtype)(h)
    h = conv_t(hn * 3 // 2, 5, strides=2, padding="same", activation="relu", name="hs1", dtype=dtype)(h)
    h_s = keras.Model(inp, out(conv, 2 * coded, k, padding="same", name="hs_out")(h), name="hyper_synthesis")
    return {"analysis": g_a, "synthesis": g_s, "hyper_analysis": h_a, "hyper_synthesis": h_s}


def build_context(c: HyperpriorConfig, dtype: str | None = None) -> list[keras.Model]:
    """One network per slice after the first: [slice params (2C), earlier slices' y_hat / gain (sC)] -> params residual (2C).

    C / S channels a slice (C: the coded channels); the last convolution starts at zero (the residual is 0 at first).
    """
    width = c.coded // c.slices
    nets = []
    for s in range(1, c.slices):
        inp = keras.Input((None, None, 2 * width + s * width), name=f"context_in{s}")
        h = layers.Conv2D(2 * width, 3, padding="same", activation="relu", name=f"cc{s}_0", dtype=dtype)(inp)
        out = layers.Conv2D(2 * width, 1, kernel_initializer="zeros", name=f"cc{s}_1", dtype="float32")(h)
        nets.append(keras.Model(inp, out, name=f"context{s}"))
    return nets


class HyperpriorModel(keras.Model):
    """The four transforms, the gains and the hyper-latent prior, trained on bpp + lambda * 255^2 * MSE."""

    def __init__(self, config: HyperpriorConfig, transforms_dtype: str | None = None, fast_outputs: bool = False,
                 fast_convs: bool = False, **kwargs):
        # the model's own maths (gains, likelihoods, loss) is float32; the transforms run in `transforms_dtype`
        super().__init__(dtype="float32", **kwargs)
        self.config = config
        t = build_transforms(config, transforms_dtype, fast_outputs, fast_convs)
        self.analysis, self.synthesis = t["analysis"], t["synthesis"]
        self.hyper_analysis, self.hyper_synthesis = t["hyper_analysis"], t["hyper_synthesis"]
        self.context = build_context(config, transforms_dtype)
        # start each level's quantisation step near the high-rate optimum, step^2 ~ 1 / lambda
        log_l = np.log(np.asarray(config.lambdas, np.float64))
        centred = log_l - log_l.mean()
        self.y_gain = GainUnits(0.5 * centred, name="y_gain", dtype="float32")
        self.z_gain = GainUnits(0.25 * centred, name="z_gain", dtype="float32")
        self.z_prior = FactorizedPrior(name="z_prior", dtype="float32")
        self.z_prior.build((None, None, None, config.hyper_channels))  # used through .likelihood, not called
        self.lambdas = np.asarray(config.lambdas, np.float32)
        # `call` takes the coded path once `training.codec.freeze_decoder` has set these (a tune_encoder run; a saved
        # codec loads with the usual path); toward_means: the decoder's bin-mean weight per level
        self.use_coded_path = False
        self.toward_means = np.zeros(config.levels, np.float32)
        # level weights' constants, once: lambda_mid and the mean of (lambda / lambda_mid)^-p over a fine grid of levels
        self.lambda_mid = float(np.exp(log_l.mean()))
        grid_log_l = np.interp(np.linspace(0, config.levels - 1, 1001), np.arange(config.levels), log_l)
        self.level_weight_mean = float(np.mean(np.exp(-config.level_weight_power * (grid_log_l - log_l.mean()))))
        self.level_seed = keras.random.SeedGenerator(config.seed + 1)
        self.noise_seed = keras.random.SeedGenerator(config.seed + 2)
        self.bpp_tracker = keras.metrics.Mean(name="bpp")
        self.mse_tracker = keras.metrics.Mean(name="mse")

    def draw_levels(self, batch: int, training: bool):
        """Training: a uniform random level per image (integer, or real in [0, K - 1] with `continuous_levels`);
        otherwise image i gets level i mod K (a fixed mix, the same for every run)."""
        k = self.config.levels
        if training and self.config.continuous_levels:
            return keras.random.uniform((batch,), 0.0, k - 1.0, seed=self.level_seed)
        if training:
            return ops.cast(keras.random.randint((batch,), 0, k, seed=self.level_seed), "float32")
        return ops.cast(ops.arange(batch) % k, "float32")

    def lambdas_at(self, levels):
        """(B,) lambdas for float levels (B,): log-linear between the integer levels' lambdas, as the gains are."""
        return ops.exp(interpolate_levels(ops.log(ops.convert_to_tensor(self.lambdas)), levels))

    def level_weights(self, levels):
        """(B,) loss weights for float levels (B,): (lambda / lambda_mid)^-p over their mean on a fine grid of levels (1 when p = 0)."""
        p = self.config.level_weight_power
        if not p:
            return ops.ones_like(ops.cast(levels, "float32"))
        return ops.power(self.lambdas_at(levels) / self.lambda_mid, -p) / self.level_weight_mean

    def _noise(self, x):
        return keras.random.uniform(ops.shape(x), -0.5, 0.5, dtype=x.dtype, seed=self.noise_seed)

    def latent_parameters(self, params, gain, quantise):
        """(mu, sigma, y_hat) of the gained latent, slice by slice, from h_s's output params (B, h, w, 2M).

        gain (B, 1, 1, M) or (1, 1, 1, M); quantise(s, mu_s) -> y_hat_s: how slice s is rounded
        given its mean (training: straight-through; refinement: soft). Without context one slice.
        """
        k = self.config.slices
        mus, log_sigmas = (ops.split(p, k, axis=-1) for p in ops.split(params, 2, axis=-1))
        gains = ops.split(gain, k, axis=-1)
        mu, sigma, y_hat, seen = [], [], [], []
        for s in range(k):
            p = ops.concatenate([mus[s], log_sigmas[s]], axis=-1)  # (B, h, w, 2C)
            if s:
                p = p + self.context[s - 1](ops.concatenate([p] + seen, axis=-1))
            m, sg = mean_scale(p, gains[s])
            mu.append(m)
            sigma.append(sg)
            y_hat.append(quantise(s, m))
            seen.append(y_hat[-1] / gains[s])
        join = (lambda t: t[0]) if k == 1 else (lambda t: ops.concatenate(t, axis=-1))
        return join(mu), join(sigma), join(y_hat)

    def call(self, x, training=False, levels=None):
        """(x_hat, bits per image, levels); x (B, H, W, 3) in [0, 1], H and W multiples of 16."""
        if levels is None:
            levels = self.draw_levels(ops.shape(x)[0], bool(training))
        if self.use_coded_path:
            return self.coded_path(x, levels)
        y_g = self.y_gain(self.analysis(x), levels)  # (B, H/4, W/4, M)
        z_g = self.z_gain(self.hyper_analysis(y_g), levels)  # (B, H/16, W/16, Nz)
        y_g = y_g[..., :self.config.coded]  # (B, H/4, W/4, C): what is coded
        if training:
            z_hat = ste_round(z_g)
            lik_z = self.z_prior.likelihood(z_g + self._noise(z_g))
        else:
            z_hat = ops.round(z_g)
            lik_z = self.z_prior.likelihood(z_hat)
        gain = self.y_gain.gains(levels)[:, None, None, :self.config.coded]
        params = self.hyper_synthesis(z_hat / self.z_gain.gains(levels)[:, None, None, :])
        y_s = ops.split(y_g, self.config.slices, axis=-1)
        rnd = ste_round if training else ops.round
        mu, sigma, y_hat = self.latent_parameters(params, gain, lambda s, m: rnd(y_s[s] - m) + m)
        lik_y = gaussian_likelihood(y_g + self._noise(y_g) if training else y_hat, mu, sigma)
        x_hat = self.synthesis(y_hat / gain)
        return x_hat, bits(lik_y) + bits(lik_z), levels

    def coded_path(self, x, levels):
        """(x_hat, bits per image, levels) as the coder sends and decodes x: z and y - mu rounded, bits at the rounded
        values, the synthesis on values moved toward their bins' means; soft-round gradients through the rounding."""
        from .refine import decoded_offsets

        c = self.config.coded
        y_g = self.y_gain(self.analysis(x), levels)  # (B, H/4, W/4, M)
        z_g = self.z_gain(self.hyper_analysis(y_g), levels)  # (B, H/16, W/16, Nz)
        z_hat = soft_ste_round(z_g)
        y_g = y_g[..., :c]  # (B, H/4, W/4, C)
        gain = self.y_gain.gains(levels)[:, None, None, :c]
        params = self.hyper_synthesis(z_hat / self.z_gain.gains(levels)[:, None, None, :])
        mu, sigma, y_hat = self.latent_parameters(params, gain, lambda s, m: soft_ste_round(y_g - m) + m)
        # bits at the rounded values, their gradient from the noisy values' bits (training's rate proxy): the rate of
        # rounded values is flat between bin edges, and a soft round's gradient of it pushed the rate up in a probe
        hard = bits(gaussian_likelihood(y_hat, mu, sigma)) + bits(self.z_prior.likelihood(z_hat))
        noisy = bits(gaussian_likelihood(y_g + self._noise(y_g), mu, sigma)) + bits(self.z_prior.likelihood(z_g + self._noise(z_g)))
        image_bits = noisy + ops.stop_gradient(hard - noisy)
        weight = interpolate_levels(ops.convert_to_tensor(self.toward_means), levels)[:, None, None, None]  # (B, 1, 1, 1)
        decoded = y_hat + weight * decoded_offsets(y_g, mu, sigma)
        return self.synthesis(decoded / gain), image_bits, levels

    def decoder_parts(self) -> list[keras.layers.Layer]:
        """The parts a decoder uses: what `tune_encoder` leaves as they are."""
        return [self.synthesis, self.hyper_synthesis, self.y_gain, self.z_gain, self.z_prior] + list(self.context)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        x_hat, image_bits, levels = y_pred
        h, w = ops.shape(x_hat)[1], ops.shape(x_hat)[2]
        bpp = image_bits / ops.cast(h * w, "float32")  # (B,)
        mse = ops.mean(ops.square(ops.cast(y, x_hat.dtype) - x_hat), axis=(1, 2, 3))  # (B,)
        lmbda = self.lambdas_at(levels)  # (B,)
        self.bpp_tracker.update_state(ops.mean(bpp))
        self.mse_tracker.update_state(ops.mean(mse))
        return ops.mean(self.level_weights(levels) * (bpp + lmbda * 255.0**2 * mse))

    @property
    def metrics(self):
        return [self.bpp_tracker, self.mse_tracker] + super().metrics

    def parts(self) -> dict[str, keras.layers.Layer]:
        """Every part that holds weights, by name (the order weights are saved in)."""
        parts = {"analysis": self.analysis, "synthesis": self.synthesis, "hyper_analysis": self.hyper_analysis,
                 "hyper_synthesis": self.hyper_synthesis, "y_gain": self.y_gain, "z_gain": self.z_gain, "z_prior": self.z_prior}
        return parts | {net.name: net for net in self.context}


def build_hyperprior(config: HyperpriorConfig | None = None, dtype: str | None = None,
                     training: bool = False) -> HyperpriorModel:
    """A built model (every weight created), ready to compile; `dtype`: the transforms' policy (None: float32).

    `training`: for a training run, whose output convolutions then compute as `config.output_precision` says
    (never for coding: bytes made so would not decode on a float32 model), and whose convolutions' slow passes run
    as forward ones (`layers.FastConv2D`; coding keeps Keras' own, so decoded pixels do not move by a rounding).
    """
    config = config or HyperpriorConfig()
    model = HyperpriorModel(config, transforms_dtype=dtype, fast_outputs=training and config.output_precision == "compute",
                            fast_convs=training)
    model(np.zeros((1, 32, 32, 3), np.float32), levels=np.zeros((1,), np.float32))
    return model


def save_hyperprior(model: HyperpriorModel, directory, info: dict | None = None) -> None:
    """weights.npz (float16 by part: what ships is what is measured) and config.json."""
    from .io import atomic_write, write_json

    directory = Path(directory)
    arrays = {f"{name}/{i}": np.asarray(w, np.float16) for name, part in model.parts().items()
              for i, w in enumerate(part.get_weights())}

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

    atomic_write(directory / "weights.npz", write)
    write_json(directory / "config.json", {"config": dataclasses.asdict(model.config), **(info or {})})


ARCHITECTURE = ("filters", "latent_channels", "coded_channels", "hyper_filters", "hyper_channels", "hyper_kernel", "context_slices",
                "lambdas")


def copy_weights(model: HyperpriorModel, directory) -> None:
    """Start `model` from the codec saved in `directory` (same architecture and number of levels).

    `model` may have more encoder or decoder blocks than the saved codec: its transforms' layers are copied by name, and
    the blocks the saved codec lacks keep their start (the identity), so the model starts as exactly the saved codec.
    """
    start = load_hyperprior(directory)
    differ = [f"{k}: {getattr(start.config, k)!r} there, {getattr(model.config, k)!r} here"
              for k in ARCHITECTURE if getattr(start.config, k) != getattr(model.config, k)]
    differ += [f"{k}: {getattr(start.config, k)} there, {getattr(model.config, k)} here"
               for k in ("encoder_blocks", "decoder_blocks") if getattr(start.config, k) > getattr(model.config, k)]
    if differ:
        raise ValueError(f"{directory} holds another architecture ({'; '.join(differ)}); "
                         "init_partial copies only the parts that fit")
    for name, part in model.parts().items():
        if name in ("analysis", "synthesis"):
            for layer in start.parts()[name].layers:
                part.get_layer(layer.name).set_weights(layer.get_weights())
        else:
            part.set_weights(start.parts()[name].get_weights())


def new_blocks(model: HyperpriorModel, directory) -> list[keras.layers.Layer]:
    """The layers of `model`'s encoder and decoder blocks that the codec saved in `directory` lacks (from its config)."""
    start = load_config(directory)
    have = {"ga_res": start.encoder_blocks, "gs_res": start.decoder_blocks}
    found = []
    for layer in model.analysis.layers + model.synthesis.layers:
        block = re.fullmatch(r"(g[as]_res)(\d+)(_\d+)?", layer.name)  # ga_res1_0, ga_res1_1, ga_res1 (the sum): block 1
        if block and int(block[2]) >= have[block[1]]:
            found.append(layer)
    return found


def transfer_weights(model: HyperpriorModel, directory) -> dict[str, list[str]]:
    """Start `model` from what fits of another architecture's codec; {"copied": [...], "fresh": [...]} by part.

    A part is copied when every weight has the same shape there and here (g_a and g_s, typically,
    when only the hyper path or the lambdas changed). Gain units with the same channels but other
    lambdas are interpolated in log-lambda (linearly, extended past the ends along the end
    segments), so a new level starts near the rate the old model gave at its lambda.
    """
    start = load_hyperprior(directory)
    mine, theirs = model.parts(), start.parts()
    report = {"copied": [], "fresh": []}
    for name, part in mine.items():
        if name not in theirs:  # a context network the start lacks: fresh
            report["fresh"].append(name)
            continue
        old = theirs[name].get_weights()
        if [w.shape for w in old] == [w.shape for w in part.get_weights()] and (
                not isinstance(part, GainUnits) or start.config.lambdas == model.config.lambdas):
            part.set_weights(old)
        elif isinstance(part, GainUnits) and old[0].shape[1:] == tuple(part.log_gains.shape[1:]):
            part.set_weights([_gains_at(old[0], start.config.lambdas, model.config.lambdas)])
        else:
            report["fresh"].append(name)
            continue
        report["copied"].append(name)
    return report


def _gains_at(log_gains: np.ndarray, lambdas_from, lambdas_to) -> np.ndarray:
    """(K_from, C) log-gains at lambdas_from -> (K_to, C) at lambdas_to, piecewise linear in log-lambda."""
    src, dst = np.log(np.asarray(lambdas_from, np.float64)), np.log(np.asarray(lambdas_to, np.float64))
    if len(src) == 1:
        return np.repeat(log_gains, len(dst), axis=0).astype(np.float32)
    seg = np.clip(np.searchsorted(src, dst) - 1, 0, len(src) - 2)  # the segment each new lambda falls in (or beyond)
    t = ((dst - src[seg]) / (src[seg + 1] - src[seg]))[:, None]
    return ((1 - t) * log_gains[seg] + t * log_gains[seg + 1]).astype(np.float32)


def load_config(directory) -> HyperpriorConfig:
    """The architecture and training settings of a codec saved by `save_hyperprior` (its config.json)."""
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: not a codec saved by save_hyperprior")
    return HyperpriorConfig(**json.loads(path.read_text())["config"])


def load_hyperprior(directory) -> HyperpriorModel:
    """A model saved by `save_hyperprior`, built in float32 (no network needed)."""
    directory = Path(directory)
    if not (directory / "weights.npz").is_file():
        raise FileNotFoundError(f"{directory / 'weights.npz'} is missing: not a codec saved by save_hyperprior")
    model = build_hyperprior(load_config(directory))
    with np.load(directory / "weights.npz") as f:
        for name, part in model.parts().items():
            n = len(part.get_weights())
            keys = [f"{name}/{i}" for i in range(n)]
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise ValueError(f"{directory / 'weights.npz'} lacks {missing[0]}: it does not match config.json")
            part.set_weights([f[k].astype(np.float32) for k in keys])
    return model
