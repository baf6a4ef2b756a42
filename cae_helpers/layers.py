"""Custom layers: faster drop-ins for BatchNormalization, UpSampling2D, Conv2D and Conv2DTranspose; GDN, UniformNoise.

Keras 3's BatchNormalization computes moments and the normalisation as separate ops in
float32; on a 2-core CPU under mixed bfloat16 that is about half of each training step
of the reference model. `FusedBatchNormalization` is the same layer (same weights,
config and maths) that calls `tf.compat.v1.nn.fused_batch_norm` on the TensorFlow
backend for the plain case (channels-last, 4-D, no mask, no renorm) and falls back to
Keras' own code everywhere else, so models stay backend-agnostic. `FastConv2D` and
`FastConv2DTranspose` do the same for convolutions in float32 on a CPU (see `conv_grads`).
"""

from __future__ import annotations

import keras
from keras import ops

# a stride-2 Conv2DTranspose to fewer channels stays stock: its phase form (4x the channels, 36 taps for 25) measured
# slower for 3 output channels (7.5 against 5.7 ms a batch of 32, 16x16x128 -> 32x32x3, AMD EPYC Zen 2)
MIN_PHASE_FILTERS = 16


@keras.saving.register_keras_serializable(package="cae_helpers")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """BatchNormalization with TensorFlow's fused kernel on the TF backend (same results to rounding)."""

    def _can_fuse(self, inputs, mask) -> bool:
        return (
            keras.backend.backend() == "tensorflow"
            and mask is None
            and not self.renorm
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and self.scale
            and self.center
        )

    def call(self, inputs, training=None, mask=None):
        if not self._can_fuse(inputs, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = tf.cast(inputs, self.compute_dtype)
        if training and self.trainable:
            y, mean, var = tf.compat.v1.nn.fused_batch_norm(
                x, self.gamma, self.beta, epsilon=self.epsilon, is_training=True, data_format="NHWC")
            # the fused op returns the unbiased (n / (n - 1)) batch variance; Keras keeps the biased one
            n = tf.cast(tf.reduce_prod(tf.shape(x)[:3]), var.dtype)
            var = var * (n - 1.0) / n
            m = self.momentum
            self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
            self.moving_variance.assign(self.moving_variance * m + var * (1.0 - m))
        else:
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x, self.gamma, self.beta, mean=self.moving_mean, variance=self.moving_variance,
                epsilon=self.epsilon, is_training=False, data_format="NHWC")
        return tf.cast(y, self.compute_dtype)


@keras.saving.register_keras_serializable(package="cae_helpers")
class NearestUpSampling2D(keras.layers.UpSampling2D):
    """UpSampling2D (nearest) whose gradient is one average-pool kernel on the TF backend (same maths).

    Keras repeats rows then columns, so TensorFlow's gradient is two reshape-and-sum
    reductions, slow in bfloat16 on CPU (profiled: several per cent of a reference-model step). The
    gradient of a pixel copied into an a x b block is the sum over that block, which is
    the block's average times a*b: oneDNN's pooling kernel. Elsewhere: Keras' own layer.
    """

    def call(self, inputs):
        if keras.backend.backend() != "tensorflow" or self.interpolation != "nearest" or self.data_format != "channels_last":
            return super().call(inputs)
        import tensorflow as tf

        size = tuple(self.size)

        @tf.custom_gradient
        def upsample(x):
            def grad(dy):
                return tf.nn.avg_pool2d(dy, size, size, "VALID") * tf.constant(size[0] * size[1], dy.dtype)

            return super(NearestUpSampling2D, self).call(x), grad

        return upsample(inputs)


@keras.saving.register_keras_serializable(package="cae_helpers")
class UniformNoise(keras.layers.Layer):
    """Adds U(-step/2, step/2) noise in training and nothing at inference: quantisation-aware training.

    Rounding to a grid of width `step` moves each value by at most step/2; training with
    this noise (Ballé et al. 2017) makes the decoder robust to the rounding the codec applies.
    """

    def __init__(self, step: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not step > 0:
            raise ValueError(f"step must be positive, got {step!r}")
        self.step = float(step)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        half = self.step / 2
        noise = keras.random.uniform(keras.ops.shape(inputs), -half, half, dtype=inputs.dtype, seed=self.seed_generator)
        return inputs + noise

    def get_config(self) -> dict:
        return super().get_config() | {"step": self.step, "seed": self.seed}


@keras.saving.register_keras_serializable(package="cae_helpers")
class GDN(keras.layers.Layer):
    """Simplified generalised divisive normalisation (Johnston et al. 2019): x / (beta + gamma |x|).

    `inverse=True` multiplies instead (IGDN, for the synthesis transform). beta and gamma
    are kept positive by clipping at use.
    """

    def __init__(self, inverse: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.inverse = inverse

    def build(self, input_shape):
        c = input_shape[-1]
        self.beta = self.add_weight(shape=(c,), initializer="ones", name="beta")
        self.gamma = self.add_weight(shape=(c, c), initializer=keras.initializers.Identity(0.1), name="gamma")

    def call(self, x):
        beta = ops.maximum(ops.cast(self.beta, x.dtype), 1e-6)
        gamma = ops.maximum(ops.cast(self.gamma, x.dtype), 0.0)
        norm = beta + ops.matmul(ops.abs(x), gamma)
        return x * norm if self.inverse else x / norm

    def get_config(self) -> dict:
        return super().get_config() | {"inverse": self.inverse}


def _fast_conv_ok(layer, inputs) -> bool:
    """Whether a FastConv2D / FastConv2DTranspose call may take the forward-conv path (`conv_grads`)."""
    from .conv_grads import fast_conv_supported

    return (layer.padding == "same" and fast_conv_supported(layer.kernel_size, layer.strides, layer.dilation_rate,
                                                            getattr(layer, "groups", 1), layer.data_format, layer.compute_dtype)
            and len(inputs.shape) == 4)


def _bias_and_activation(layer, outputs):
    """What a Keras convolution layer adds after its convolution: the bias, then the activation."""
    if layer.use_bias:
        outputs = ops.add(outputs, ops.reshape(layer.bias, (1, 1, 1, layer.filters)))
    return outputs if layer.activation is None else layer.activation(outputs)


@keras.saving.register_keras_serializable(package="cae_helpers")
class FastConv2D(keras.layers.Conv2D):
    """Conv2D whose input gradient runs as a forward convolution where TensorFlow's is slow (see `conv_grads`); same weights and maths."""

    def convolution_op(self, inputs, kernel):
        if not _fast_conv_ok(self, inputs):
            return super().convolution_op(inputs, kernel)
        from .conv_grads import conv2d

        return conv2d(inputs, kernel, self.strides[0])


@keras.saving.register_keras_serializable(package="cae_helpers")
class FastConv2DTranspose(keras.layers.Conv2DTranspose):
    """Conv2DTranspose computed as forward convolutions, both passes (see `conv_grads`); same weights and maths.

    Stride 2: one stride-1 convolution to 4x the channels and depth_to_space, except to few output channels, where
    that measured slower; stride 1: the convolution with the flipped kernel."""

    def call(self, inputs):
        stride = self.strides[0]
        if (not _fast_conv_ok(self, inputs) or self.output_padding is not None
                or (stride == 2 and self.filters < MIN_PHASE_FILTERS)):
            return super().call(inputs)
        from .conv_grads import conv2d_transpose

        return _bias_and_activation(self, conv2d_transpose(inputs, self.kernel, stride))


def conv_layers(fast: bool) -> tuple[type, type]:
    """(Conv2D, Conv2DTranspose) classes for a model: the FastConv2D pair, or Keras' own (the codecs' coding builds)."""
    return (FastConv2D, FastConv2DTranspose) if fast else (keras.layers.Conv2D, keras.layers.Conv2DTranspose)
