"""Training: one config dataclass, one `train` that wraps `fit` (Adam, MSE, early stopping)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from .data import PROTOCOLS, Split
from .io import atomic_write, save_model, write_json
from .models import MODEL_NAMES, build_model
from .optimizers import FusedAdam
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
    latent_noise: float = 0.0  # > 0: uniform noise of this width on the code in training (quantisation-aware)

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


def default_strategy():
    """MirroredStrategy over all GPUs when there are several (TF backend), else None (the default device)."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf.distribute.MirroredStrategy() if len(tf.config.list_physical_devices("GPU")) > 1 else None


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and the backend; optionally make TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def make_dataset(images: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0, epoch=None):
    """Batches of (x, x), x float32 in [0, 1]; uint8 stays in memory and is scaled per batch.

    With `shuffle`, epoch e's order is a stateless permutation of (seed, e), e read from
    the tf.Variable `epoch` (see `EpochCounter`) when the epoch's iterator starts: a
    resumed run sees the same batches as an uninterrupted one.
    """
    images = check_uint8_images(images)
    if keras.backend.backend() != "tensorflow":
        x = images.astype(np.float32) / 255.0
        return x, x  # other backends: float arrays, fit() batches and shuffles them
    import tensorflow as tf

    data = tf.constant(images)
    n = len(images)
    if shuffle:
        if epoch is None:
            raise ValueError("shuffle=True needs the epoch tf.Variable that EpochCounter updates")
        order = lambda _: tf.argsort(tf.random.stateless_uniform([n], seed=tf.stack([tf.cast(seed, tf.int64), epoch])))  # noqa: E731
        idx = tf.data.Dataset.from_tensors(0).map(order).unbatch()
    else:
        idx = tf.data.Dataset.range(n)
    scale = lambda i: (tf.cast(tf.gather(data, i), tf.float32) / 255.0,) * 2  # noqa: E731
    # Fixed parallelism with tf.data's autotuner off: with it on, new epochs here often began with
    # seconds of idle CPU (see README "Training speed"). Scaling a batch takes
    # far less than a training step, so two workers and two batches ahead never stall the model.
    options = tf.data.Options()
    options.autotune.enabled = False
    return idx.batch(batch_size).map(scale, num_parallel_calls=2).prefetch(2).with_options(options)


class EpochCounter(keras.callbacks.Callback):
    """Sets a tf.Variable to the current (absolute) epoch before its batches are drawn."""

    def __init__(self, variable):
        super().__init__()
        self.variable = variable

    def on_epoch_begin(self, epoch, logs=None):
        self.variable.assign(epoch)


class ResumableCheckpoint(keras.callbacks.Callback):
    """After every epoch, atomically saves what an exact resume needs; restores it when training begins.

    Saved in `directory`: the weights with the optimizer state, the early-stopping state
    (with its best weights) and the history so far, named by state.json, which is
    replaced last, so a kill at any moment leaves the previous complete state.
    Put it after the EarlyStopping callback it restores.
    """

    def __init__(self, directory: str | os.PathLike, stopper: keras.callbacks.EarlyStopping):
        super().__init__()
        self.directory = Path(directory)
        self.stopper = stopper
        self.history: dict[str, list[float]] = {}
        self.resumed_from = 0

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def on_train_begin(self, logs=None):
        if not self.state_path.is_file():
            return
        state = json.loads(self.state_path.read_text())
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(self.directory / state["weights"])
        s = self.stopper
        s.wait, s.best, s.best_epoch, s.stopped_epoch = state["wait"], state["best"], state["best_epoch"], state["stopped_epoch"]
        if state.get("best_weights"):
            with np.load(self.directory / state["best_weights"]) as f:
                s.best_weights = [f[f"w{i}"] for i in range(len(f.files))]
        for sg, value in zip(_seed_generators(self.model), state.get("seed_states", [])):
            sg.state.assign(np.asarray(value, dtype=sg.state.dtype))
        self.history = state["history"]
        self.resumed_from = state["epoch"]
        # a run that had already stopped early stays stopped
        self.model._initial_epoch = self.params["epochs"] if state["stopped_epoch"] else state["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.directory.mkdir(parents=True, exist_ok=True)
        weights = f"epoch{epoch + 1:04d}.weights.h5"
        atomic_write(self.directory / weights, self.model.save_weights)
        s = self.stopper
        best = None
        if s.best_weights is not None:
            best = f"best{epoch + 1:04d}.npz"
            atomic_write(self.directory / best, lambda tmp: _save_npz(tmp, s.best_weights))
        write_json(self.state_path, {"epoch": epoch + 1, "weights": weights, "best_weights": best, "wait": s.wait,
                                     "best": float(s.best), "best_epoch": s.best_epoch, "stopped_epoch": s.stopped_epoch,
                                     "seed_states": [np.asarray(sg.state.value).tolist() for sg in _seed_generators(self.model)],
                                     "history": self.history})
        for old in self.directory.glob("*"):
            if old.name not in ("state.json", weights, best):
                old.unlink()


def _seed_generators(model: keras.Model) -> list:
    """The model's random-noise generators, whose state save_weights leaves out (a resume must restore it)."""
    return [sg for layer in model._flatten_layers() for sg in getattr(layer, "_seed_generators", [])]


def _save_npz(path: str, arrays: list) -> None:
    with open(path, "wb") as f:  # a file object: np.savez would add ".npz" to a path
        np.savez(f, **{f"w{i}": a for i, a in enumerate(arrays)})


def compile_model(autoencoder: keras.Model, learning_rate: float = 1e-3, fused: bool = True) -> keras.Model:
    """Adam + MSE, as the reference; `fused`: Adam's update as one kernel per variable (same maths)."""
    optimizer = FusedAdam(learning_rate) if fused else keras.optimizers.Adam(learning_rate)
    autoencoder.compile(optimizer=optimizer, loss="mse")
    return autoencoder


def train(config: TrainConfig, fit_split: Split, val_split: Split, out_dir: str | os.PathLike | None = None,
          verbose: int | str = "auto", callbacks: list | None = None, strategy=None) -> TrainResult:
    """Train a fresh model on `fit_split`, early-stopping on `val_split`.

    With `out_dir`, every epoch is checkpointed to out_dir/backup and a run started again
    with the same `out_dir` resumes exactly where a killed one stopped; the final model
    (autoencoder.keras), history.json and history.csv go there too. `strategy` (a
    tf.distribute strategy) defaults to MirroredStrategy when several GPUs are visible.
    """
    set_seed(config.seed, config.deterministic)
    strategy = strategy if strategy is not None else default_strategy()
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        autoencoder, encoder, decoder = build_model(config.model, latent_dim=config.latent_dim,
                                                    dtype=resolve_precision(config.precision), latent_noise=config.latent_noise)
        compile_model(autoencoder, config.learning_rate)
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=config.keep_best)
    start = time.perf_counter()
    history, checkpoint = fit_resumable(autoencoder, stopper, fit_split.images, val_split.images, config.epochs,
                                        config.batch_size, config.seed, out_dir, verbose, callbacks)
    wall = time.perf_counter() - start
    val = history.get("val_loss", [])
    result = TrainResult(autoencoder, encoder, decoder, history, len(val), int(np.argmin(val)) + 1 if val else 0, wall)
    if out_dir is not None:
        _write_run(Path(out_dir), config, result, checkpoint.resumed_from)
    return result


def fit_resumable(model: keras.Model, stopper: keras.callbacks.EarlyStopping, fit_images, val_images, epochs: int,
                  batch_size: int, seed: int, out_dir=None, verbose: int | str = "auto", callbacks: list | None = None,
                  val_batch_size: int | None = None) -> tuple[dict[str, list[float]], ResumableCheckpoint | None]:
    """`model.fit` on (x, x) batches shuffled per (seed, epoch), with `stopper` and, given `out_dir`, exact resume.

    Returns the whole history (earlier processes' epochs included on resume) and the checkpoint callback.
    """
    cbs = [stopper]
    checkpoint = None
    if out_dir is not None:
        checkpoint = ResumableCheckpoint(Path(out_dir) / "backup", stopper)
        cbs.append(checkpoint)
    epoch = None
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        cbs.append(EpochCounter(epoch))
    cbs += list(callbacks or [])
    train_data = make_dataset(fit_images, batch_size, shuffle=True, seed=seed, epoch=epoch)
    val_data = make_dataset(val_images, val_batch_size or batch_size, shuffle=False)
    if isinstance(train_data, tuple):
        hist = model.fit(*train_data, batch_size=batch_size, shuffle=True, epochs=epochs,
                         validation_data=val_data, callbacks=cbs, verbose=verbose)
    else:
        hist = model.fit(train_data, epochs=epochs, validation_data=val_data, callbacks=cbs,
                         shuffle=False, verbose=verbose)  # the dataset shuffles itself, seeded per epoch
    history = checkpoint.history if checkpoint else {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    return history, checkpoint


def _write_run(out: Path, config: TrainConfig, result: TrainResult, resumed_from: int) -> None:
    """The final model, history.json and history.csv; then the backup, no longer needed, goes."""
    save_model(result.autoencoder, out / "autoencoder.keras")
    write_json(out / "history.json", {"config": config.to_dict(), "history": result.history,
                                      "epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
                                      "resumed_from_epoch": resumed_from, "train_wall_time_s": result.wall_time_s})
    keys = list(result.history)
    rows = ["epoch," + ",".join(keys)] + [
        f"{i + 1}," + ",".join(repr(result.history[k][i]) for k in keys) for i in range(result.epochs_run)]
    atomic_write(out / "history.csv", lambda tmp: Path(tmp).write_text("\n".join(rows) + "\n"))
    shutil.rmtree(out / "backup", ignore_errors=True)


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
