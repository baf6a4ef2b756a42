"""Priors: the learned factorised prior and the Gaussian conditional, in Keras 3.

Both give the probability mass of each quantised value's unit bin, which is what the rate
term of the training loss counts (bits = -log2 mass) and what the integer tables the coder
uses are built from (`entropy.tables`). `keras.ops` only, so they run on any backend.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

SCALE_BOUND = 0.11  # smallest Gaussian scale (CompressAI's choice): below it a unit bin holds ~all the mass
LIKELIHOOD_BOUND = 1e-9  # no value costs more than ~30 bits, so one outlier cannot blow up the loss


@keras.saving.register_keras_serializable(package="cae_helpers")
class FactorizedPrior(keras.layers.Layer):
    """A learned univariate density per channel (Ballé et al. 2018, appendix 6.1).

    call(y, training) returns (y_tilde, likelihoods): y plus U(-0.5, 0.5) noise in
    training, rounded y otherwise, and the probability mass of each value's unit bin.
    """

    def __init__(self, filters=(3, 3, 3), init_scale: float = 10.0, likelihood_bound: float = LIKELIHOOD_BOUND, **kwargs):
        super().__init__(**kwargs)
        self.filters = tuple(filters)
        self.init_scale = float(init_scale)
        self.likelihood_bound = float(likelihood_bound)
        self.seed_generator = keras.random.SeedGenerator(0)

    def build(self, input_shape):
        c = input_shape[-1]
        dims = (1,) + self.filters + (1,)
        scale = self.init_scale ** (1 / (len(dims) - 1))
        self.matrices, self.biases, self.factors = [], [], []
        for i in range(len(dims) - 1):
            init = math.log(math.expm1(1 / scale / dims[i + 1]))
            self.matrices.append(self.add_weight(shape=(c, dims[i + 1], dims[i]), initializer=keras.initializers.Constant(init), name=f"matrix{i}"))
            self.biases.append(self.add_weight(shape=(c, dims[i + 1], 1), initializer=keras.initializers.RandomUniform(-0.5, 0.5), name=f"bias{i}"))
            if i < len(dims) - 2:
                self.factors.append(self.add_weight(shape=(c, dims[i + 1], 1), initializer="zeros", name=f"factor{i}"))

    def _logits_cumulative(self, v):
        """Logit of the CDF at v, shaped (C, 1, N)."""
        logits = v
        for i, (m, b) in enumerate(zip(self.matrices, self.biases)):
            logits = ops.matmul(ops.softplus(m), logits) + b
            if i < len(self.factors):
                logits = logits + ops.tanh(self.factors[i]) * ops.tanh(logits)
        return logits

    def likelihood(self, y):
        """Probability mass of [y - 0.5, y + 0.5] under each channel's density; same shape as y."""
        shape = ops.shape(y)
        c = shape[-1]
        v = ops.reshape(ops.moveaxis(y, -1, 0), (c, 1, -1))
        lower, upper = self._logits_cumulative(v - 0.5), self._logits_cumulative(v + 0.5)
        sign = ops.stop_gradient(-ops.sign(lower + upper))  # evaluate in the tail with better precision
        lik = ops.abs(ops.sigmoid(sign * upper) - ops.sigmoid(sign * lower))
        lik = ops.maximum(lik, self.likelihood_bound)
        return ops.moveaxis(ops.reshape(lik, (c,) + tuple(shape[:-1])), 0, -1)

    def call(self, y, training=None):
        if training:
            y_tilde = y + keras.random.uniform(ops.shape(y), -0.5, 0.5, dtype=y.dtype, seed=self.seed_generator)
        else:
            y_tilde = ops.round(y)
        return y_tilde, self.likelihood(y_tilde)

    def pmf_table(self, lo: int, hi: int) -> np.ndarray:
        """(C, hi - lo + 1) probabilities of the integers lo..hi per channel, for the entropy coder."""
        c = self.matrices[0].shape[0]
        grid = np.broadcast_to(np.arange(lo, hi + 1, dtype=np.float32), (c, hi - lo + 1))
        lik = self.likelihood(ops.convert_to_tensor(np.ascontiguousarray(grid.T)[None, None]))  # (1, 1, n, C)
        return np.asarray(ops.convert_to_numpy(lik), np.float64)[0, 0].T

    def get_config(self) -> dict:
        return super().get_config() | {"filters": self.filters, "init_scale": self.init_scale,
                                       "likelihood_bound": self.likelihood_bound}


def lower_bound(x, bound: float):
    """max(x, bound) whose gradient passes through everywhere (a bound must not freeze a parameter)."""
    return x + ops.stop_gradient(ops.maximum(x, bound) - x)


def gaussian_likelihood(y, mean, scale):
    """Mass of the unit bin around y under N(mean, scale^2): Phi((0.5 - |y - mu|) / s) - Phi((-0.5 - |y - mu|) / s).

    Evaluated on the left tail (erfc of positive arguments) for precision; scale is
    bounded below by SCALE_BOUND and the mass by LIKELIHOOD_BOUND. Shapes broadcast.
    """
    v = ops.abs(y - mean)
    s = lower_bound(scale, SCALE_BOUND)
    k = -1.0 / math.sqrt(2.0)  # Phi(t) = erfc(-t / sqrt 2) / 2
    upper = 0.5 * ops.erfc(k * (0.5 - v) / s)
    lower = 0.5 * ops.erfc(k * (-0.5 - v) / s)
    return lower_bound(upper - lower, LIKELIHOOD_BOUND)


def bits(likelihoods, axis=(1, 2, 3)):
    """-log2 of the likelihoods summed over `axis`: the ideal code length in bits, per image."""
    return ops.sum(-ops.log(likelihoods), axis=axis) / math.log(2.0)
