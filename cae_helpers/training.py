"""Training: one config dataclass, one `train` that wraps `fit` (Adam, MSE, early stopping)."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from .data import PROTOCOLS, Split
from .io import save_model, write_json
from .models import MODEL_NAMES, build_model
from .validation import check_uint8_images

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


@dataclass
class TrainConfig:
    """Everything that defines a training run; defaults are the reference recipe."""

    model: str = "reference"
    latent_dim: int = 128
    epochs: int = 50
    batch_size: int = 128
    learning_rate: float = 1e-3
    patience: int = 5
    protocol: str = "reference"  # "reference": validate on test, keep last weights; "heldout": see below
    val_size: int = 5000  # heldout: class-balanced validation images split off the training set
    restore_best: bool | None = None  # None: the protocol's choice (reference: False, heldout: True)
    seed: int = 0
    precision: str = "auto"  # "auto": mixed_bfloat16 on CPUs with AMX/AVX-512 BF16, else float32
    deterministic: bool = False  # TF op determinism (slower); seeds are always set

    def __post_init__(self) -> None:
        if self.model not in MODEL_NAMES:
            raise ValueError(f"unknown model {self.model!r}; expected one of {MODEL_NAMES}")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {self.protocol!r}; expected one of {PROTOCOLS}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; expected one of {PRECISIONS}")
        for name in ("latent_dim", "epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")

    @property
    def keep_best(self) -> bool:
        """Whether the best-validation weights are restored at the end."""
        return self.protocol == "heldout" if self.restore_best is None else self.restore_best

    def to_dict(self) -> dict:
        """Plain dict, with the resolved precision and weight choice."""
        return dataclasses.asdict(self) | {"keep_best": self.keep_best, "resolved_precision": resolve_precision(self.precision)}


@dataclass
class TrainResult:
    """The trained models, the per-epoch history and how the run went."""

    autoencoder: keras.Model
    encoder: keras.Model
    decoder: keras.Model
    history: dict[str, list[float]]
    epochs_run: int
    best_epoch: int
    wall_time_s: float


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def resolve_precision(precision: str = "auto") -> str:
    """The dtype policy "auto" stands for on this machine."""
    if precision != "auto":
        return precision
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return "mixed_float16"
    return "mixed_bfloat16" if _cpu_has_bf16() else "float32"


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and the backend; optionally make TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def make_dataset(images: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0):
    """Batches of (x, x), x float32 in [0, 1]; uint8 stays in memory and is scaled per batch."""
    images = check_uint8_images(images)
    if keras.backend.backend() != "tensorflow":
        x = images.astype(np.float32) / 255.0
        return x, x  # other backends: float arrays, fit() batches and shuffles them
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(images)
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    scale = lambda b: (tf.cast(b, tf.float32) / 255.0,) * 2  # noqa: E731
    return ds.batch(batch_size).map(scale, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def compile_model(autoencoder: keras.Model, learning_rate: float = 1e-3) -> keras.Model:
    """Adam + MSE, as the reference."""
    autoencoder.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return autoencoder


def train(config: TrainConfig, fit_split: Split, val_split: Split, out_dir: str | os.PathLike | None = None, verbose: int | str = "auto") -> TrainResult:
    """Train a fresh model on `fit_split`, early-stopping on `val_split`; checkpoints and history go to `out_dir`."""
    set_seed(config.seed, config.deterministic)
    autoencoder, encoder, decoder = build_model(config.model, latent_dim=config.latent_dim, dtype=resolve_precision(config.precision))
    compile_model(autoencoder, config.learning_rate)
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=config.keep_best)
    callbacks = [stopper]
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        callbacks += [
            keras.callbacks.BackupAndRestore(str(out / "backup")),  # resume a killed run where it stopped
            keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        ]
    train_ds = make_dataset(fit_split.images, config.batch_size, shuffle=True, seed=config.seed)
    val_ds = make_dataset(val_split.images, config.batch_size, shuffle=False)
    start = time.perf_counter()
    if isinstance(train_ds, tuple):
        hist = autoencoder.fit(*train_ds, batch_size=config.batch_size, shuffle=True, epochs=config.epochs,
                               validation_data=val_ds, callbacks=callbacks, verbose=verbose)
    else:
        hist = autoencoder.fit(train_ds, epochs=config.epochs, validation_data=val_ds, callbacks=callbacks,
                               shuffle=False, verbose=verbose)  # the dataset shuffles itself, seeded
    wall = time.perf_counter() - start
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    val = history.get("val_loss", [])
    result = TrainResult(autoencoder, encoder, decoder, history, len(val), int(np.argmin(val)) + 1 if val else 0, wall)
    if out_dir is not None:
        save_model(autoencoder, Path(out_dir) / "autoencoder.keras")
        write_json(Path(out_dir) / "history.json", {"config": config.to_dict(), "history": history,
                                                    "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
                                                    "train_wall_time_s": wall})
    return result


def load_autoencoder(path: str | os.PathLike) -> tuple[keras.Model, keras.Model, keras.Model]:
    """Load a saved autoencoder and return it with its encoder and decoder sub-models."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    model = keras.models.load_model(path)
    subs = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if len(subs) != 2:
        raise ValueError(f"{path} is not an encoder+decoder autoencoder saved by cae_helpers")
    return model, subs[0], subs[1]


def load_history(path: str | os.PathLike) -> dict:
    """The history.json written by `train`."""
    return json.loads(Path(path).read_text())
