"""FusedAdam: Keras' Adam with TensorFlow's one-kernel update on the TF backend.

Keras 3's Adam updates each variable with about ten separate small ops (casts, powers,
two assign_adds, sqrt, divide, assign_sub); for the reference model on a 2-core CPU
that was several per cent of a training step (profiled). TensorFlow's `ResourceApplyAdam` kernel does the same
update in one op, with the same formula as Keras:

    alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
    var -= alpha * m / (sqrt(v) + epsilon)

Everywhere else (other backends, amsgrad, sparse gradients) it is Keras' own Adam.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="cae_helpers")
class FusedAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam whose per-variable update is one fused TF kernel (same maths)."""

    def update_step(self, gradient, variable, learning_rate):
        """One Adam step for `variable` (a backend variable, as Keras passes it)."""
        if keras.backend.backend() != "tensorflow" or self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        import tensorflow as tf

        if isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        m, v = self._momentums[index].value, self._velocities[index].value
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=m.handle, v=v.handle,
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype))
