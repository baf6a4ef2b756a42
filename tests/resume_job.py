"""A small training run for the kill-and-resume test: python tests/resume_job.py OUT_DIR."""

import sys

import numpy as np

from cae_helpers import Split, TrainConfig, train

rng = np.random.default_rng(0)
images = rng.integers(0, 256, (512, 32, 32, 3), dtype=np.uint8)
fine = np.arange(512) % 100
fit, val = Split(images[:384], fine[:384], fine[:384] // 5), Split(images[384:], fine[384:], fine[384:] // 5)
config = TrainConfig(epochs=8, batch_size=64, precision="float32", seed=3, deterministic=True, protocol="heldout", patience=3)
train(config, fit, val, sys.argv[1], verbose=0)
