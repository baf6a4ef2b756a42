"""Encoder-side latent refinement: fewer bytes and higher PSNR from the same decoder, by optimising each image's latents.

The analysis transforms g_a and h_a give latents that are good on average over the training
images, not the best for a given image (the "amortisation gap"; largest on content unlike the
training set, as photographs are for a codec trained on CIFAR). Refinement starts from them and
runs gradient descent on the image's own loss, bpp + lambda * 255^2 * MSE, over the gained
latent y and hyper-latent z, with the decoder fixed, so the byte format and the decoder do not
change. Rounding is relaxed by stochastic Gumbel annealing (Yang et al. 2020, "Improving
inference for neural image compression"): each value moves to its floor or ceiling with a
probability that sharpens to hard rounding as the temperature falls.

Adam is element-wise and the loss a sum over images, so each image's result does not depend on
the others in its batch. The caller keeps the plain latents of any image whose measured loss
refinement did not lower (`better_of`), so refining never makes the objective worse.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from .entropy.priors import bits, gaussian_likelihood
from .entropy.tables import SCALES, bin_mean_offset_table, log_scale_grid

OFFSET_SYMBOLS = 1024  # |k| past this reads k = 1024's offset (the largest |k| of the default codec at quality 8 on 500 images: 147)


@dataclass(frozen=True)
class RefineSettings:
    """How long and how fast to refine: Adam steps on the gained latents, temperature schedule, noise seed."""

    steps: int = 100
    learning_rate: float = 0.04  # in gained-latent units, where one quantisation bin is 1 at every level
    tau_start: float = 0.5
    tau_end: float = 0.01  # the temperature falls exponentially from tau_start to tau_end over the steps
    seed: int = 0
    learning_rate_end: float | None = 0.005  # it falls exponentially to this over the steps (None: constant; 0.02 until 2026-12-04)

    def __post_init__(self) -> None:
        if int(self.steps) < 1:
            raise ValueError(f"refinement steps must be a positive integer, got {self.steps!r}")
        if not (self.learning_rate > 0 and 0 < self.tau_end <= self.tau_start):
            raise ValueError(f"need learning_rate > 0 and 0 < tau_end <= tau_start, got {self}")
        if self.learning_rate_end is not None and not 0 < self.learning_rate_end <= self.learning_rate:
            raise ValueError(f"need 0 < learning_rate_end <= learning_rate, got {self}")

    def tau(self, step: int) -> float:
        """Temperature at a step: tau_start * (tau_end / tau_start) ** (step / (steps - 1))."""
        return _geometric(self.tau_start, self.tau_end, step, self.steps)

    def lr(self, step: int) -> float:
        """Adam's step size at a step: constant, or falling as the temperature does to learning_rate_end."""
        end = self.learning_rate if self.learning_rate_end is None else self.learning_rate_end
        return _geometric(self.learning_rate, end, step, self.steps)


def _geometric(start: float, end: float, step: int, steps: int) -> float:
    """start at step 0, end at step steps - 1, exponential between."""
    return float(start * (end / start) ** (step / max(steps - 1, 1)))


def soft_round(v, tau, noise):
    """Stochastic Gumbel-annealed rounding of v: floor(v) + p, p in (0, 1) near 1 when v is near its ceiling.

    The odds of the ceiling over the floor are atanh(r) - atanh(1 - r) (r = v - floor(v)) over
    tau, plus `noise`: the difference of two Gumbel draws, a standard logistic value of v's shape.
    """
    eps = 1e-5
    f = ops.stop_gradient(ops.floor(v))
    r = v - f
    odds = ops.arctanh(ops.clip(r, eps, 1 - eps)) - ops.arctanh(ops.clip(1 - r, eps, 1 - eps))
    return f + ops.sigmoid(odds / tau + noise)


@functools.cache
def _offset_table() -> np.ndarray:
    """(scales, OFFSET_SYMBOLS + 1) float32: `bin_mean_offsets` of |k| = 0 .. OFFSET_SYMBOLS under each shipped table's scale."""
    return bin_mean_offset_table(OFFSET_SYMBOLS).astype(np.float32)


def decoded_offsets(y, mu, sigma):
    """Where byte format 10's decoder moves each value from its bin's centre (before its weight), no gradient; shapes of y.

    From the hard symbol round(y - mu) and the table index of sigma, as the decoder computes them
    (`tables.scale_indexes`, `tables.bin_mean_offsets`), read off a table of |k| up to OFFSET_SYMBOLS.
    """
    k = ops.round(y - mu)
    first, step = log_scale_grid()  # as tables.scale_indexes, in keras ops
    idx = ops.clip(ops.round((ops.log(ops.maximum(sigma, 1e-12)) - first) / step), 0, len(SCALES) - 1)
    flat = ops.cast(idx, "int32") * (OFFSET_SYMBOLS + 1) + ops.cast(ops.minimum(ops.abs(k), OFFSET_SYMBOLS), "int32")
    return ops.stop_gradient(ops.sign(k) * ops.take(ops.convert_to_tensor(_offset_table().ravel()), flat))


def _loss(model, y, z, tau, noise_y, noise_z, x, gy, gz, lmbda, toward_means):
    """The summed training loss of a batch, the decoder's view with soft rounding: what (y, z) are refined on.

    y (B, H/4, W/4, C) and z (B, H/16, W/16, Nz) gained latents (C: the coded channels); x (B, H, W, 3) the padded images in [0, 1];
    gy, gz (1, 1, 1, C) the level's gains; lmbda a scalar; toward_means the decoder's bin-mean weight at the level (0: the
    centres): the synthesis sees each value where the decoder will put it, the rate its symbol.
    """
    pixels = ops.cast(ops.shape(x)[1] * ops.shape(x)[2], "float32")
    z_hat = soft_round(z, tau, noise_z)
    y_s, noise_s = ops.split(y, model.config.slices, axis=-1), ops.split(noise_y, model.config.slices, axis=-1)
    mu, sigma, y_hat = model.latent_parameters(model.hyper_synthesis(z_hat / gz, training=False), gy,  # the model's own mapping
                                               lambda s, m: soft_round(y_s[s] - m, tau, noise_s[s]) + m)
    rate = bits(gaussian_likelihood(y_hat, mu, sigma)) + bits(model.z_prior.likelihood(z_hat))
    decoded = y_hat + toward_means * decoded_offsets(y, mu, sigma)  # (B, H/4, W/4, C)
    mse = ops.mean(ops.square(x - model.synthesis(decoded / gy, training=False)), axis=(1, 2, 3))
    return ops.sum(rate / pixels + lmbda * 255.0**2 * mse)


_STEPS = weakref.WeakKeyDictionary()  # model -> its compiled step: one trace serves every chunk and level


def _value_and_grad(model):
    """The compiled (loss, (dy, dz)) of `_loss` for `model` on the TensorFlow or JAX backend, made once per model."""
    if model in _STEPS:
        return _STEPS[model]
    ref = weakref.ref(model)  # the step must not keep its model alive (it is the cache's value, the model its key)
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        step = jax.jit(jax.value_and_grad(lambda *a: _loss(ref(), *a), argnums=(0, 1)))
    elif backend == "tensorflow":
        import tensorflow as tf

        @tf.function(reduce_retracing=True)
        def step(y, z, *rest):
            with tf.GradientTape() as tape:
                tape.watch([y, z])
                value = _loss(ref(), y, z, *rest)
            return value, tape.gradient(value, [y, z])
    else:
        raise NotImplementedError(f"latent refinement runs on the tensorflow or jax backend, not {backend!r}")
    _STEPS[model] = step
    return step


class _Adam:
    """Adam (Kingma & Ba) on NumPy float32 arrays: element-wise, so images in one batch stay independent."""

    def __init__(self, params: list[np.ndarray], lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
        self.lr, self.b1, self.b2, self.eps, self.t = lr, b1, b2, eps, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], lr: float | None = None) -> None:
        self.t += 1
        scale = (self.lr if lr is None else lr) * np.sqrt(1 - self.b2**self.t) / (1 - self.b1**self.t)  # bias corrections folded into the step
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m += (1 - self.b1) * (g - m)
            v += (1 - self.b2) * (g * g - v)
            p -= scale * m / (np.sqrt(v) + self.eps)


def refine_latents(model, x: np.ndarray, y: np.ndarray, z: np.ndarray, gains: tuple[np.ndarray, np.ndarray],
                   lmbda: float, settings: RefineSettings = RefineSettings(), tick=None,
                   toward_means: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Refined gained latents (y (B, H/4, W/4, C), z (B, H/16, W/16, Nz), float64) of padded images x (B, H, W, 3) in [0, 1].

    `y`, `z`: the analysis transforms' gained latents to start from; `gains`: (y gain (C,), z gain (Nz,));
    `lmbda`: the level's rate-distortion trade-off; `tick`: called after each step (a progress bar);
    `toward_means`: how far the decoder moves values toward their bins' means (`HyperpriorCodec.bin_mean_weight`).
    """
    fixed = [ops.convert_to_tensor(np.asarray(x, np.float32))]
    fixed += [ops.convert_to_tensor(np.asarray(g, np.float32)[None, None, None, :]) for g in gains]
    fixed += [ops.convert_to_tensor(np.float32(lmbda)), ops.convert_to_tensor(np.float32(toward_means))]
    step = _value_and_grad(model)
    params = [np.array(y, np.float32), np.array(z, np.float32)]
    adam = _Adam(params, settings.learning_rate)
    rng = np.random.default_rng(settings.seed)
    for t in range(settings.steps):
        noise = [rng.logistic(size=p.shape).astype(np.float32) for p in params]
        _, grads = step(*params, np.float32(settings.tau(t)), *noise, *fixed)
        adam.step(params, [np.asarray(ops.convert_to_numpy(g), np.float32) for g in grads], settings.lr(t))
        if tick:
            tick()
    return params[0].astype(np.float64), params[1].astype(np.float64)


def better_of(plain: tuple, refined: tuple, plain_loss: np.ndarray, refined_loss: np.ndarray) -> tuple:
    """Per image, the arrays of `refined` where its measured loss is lower, else those of `plain` (same shapes, first axis images)."""
    keep = refined_loss < plain_loss  # (B,)
    return tuple(np.where(keep.reshape((-1,) + (1,) * (p.ndim - 1)), r, p) for p, r in zip(plain, refined))
