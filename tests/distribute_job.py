"""Train under MirroredStrategy over two logical CPU devices: python tests/distribute_job.py."""

import json

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import numpy as np  # noqa: E402

from cae_helpers import Split, TrainConfig, train  # noqa: E402

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
rng = np.random.default_rng(0)
images = rng.integers(0, 256, (256, 32, 32, 3), dtype=np.uint8)
labels = np.arange(256) % 100
split = Split(images, labels, labels // 5)
result = train(TrainConfig(epochs=2, batch_size=64), split, split, verbose=0, strategy=strategy)
print(json.dumps({"replicas": strategy.num_replicas_in_sync, "history": result.history}))
