"""FusedAdam takes the same steps as Keras' Adam and saves like it."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cae_helpers.optimizers import FusedAdam


def _trained_weights(optimizer, steps: int = 5) -> list[np.ndarray]:
    """A small conv model's weights after `steps` full-batch updates from a fixed start."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    model.compile(optimizer=optimizer, loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 8, 8, 3), dtype=np.float32), rng.random((16, 2), dtype=np.float32)
    model.fit(x, y, batch_size=16, epochs=steps, shuffle=False, verbose=0)
    return model.get_weights()


@pytest.mark.parametrize("kwargs", [{}, {"global_clipnorm": 0.01}])
def test_same_steps_as_keras_adam(kwargs):
    schedule = lambda: keras.optimizers.schedules.PiecewiseConstantDecay([2], [3e-2, 3e-3])  # noqa: E731
    ours = _trained_weights(FusedAdam(schedule(), **kwargs))
    theirs = _trained_weights(keras.optimizers.Adam(schedule(), **kwargs))
    start = _trained_weights(keras.optimizers.SGD(0.0))
    for a, b, w0 in zip(ours, theirs, start):
        assert not np.allclose(a, w0)  # the weights did move
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_saved_model_restores_the_optimizer(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=FusedAdam(5e-4, beta_2=0.99), loss="mse")
    model.fit(np.ones((4, 3), np.float32), np.zeros((4, 1), np.float32), verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.optimizer, FusedAdam)
    assert loaded.optimizer.beta_2 == pytest.approx(0.99)
    assert float(loaded.optimizer.learning_rate) == pytest.approx(5e-4)
    assert int(loaded.optimizer.iterations) == 1
