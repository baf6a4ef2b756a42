"""The reference recipe: one config dataclass, one `train` (Adam, MSE, early stopping) for the autoencoders."""

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

from ..data import PROTOCOLS, Split
from ..io import atomic_write, save_model, write_json
from ..models import MODEL_NAMES, build_model
from ..optimizers import FusedAdam
from .loop import PRECISIONS, FitSettings, data_parallel, fit_resumable, refuse_other_settings, resolve_precision, set_seed


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
    precision: str = "auto"  # "auto": the faster of mixed_bfloat16 and float32 on this CPU (training.loop.BF16_FASTER)
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
    wall_time_s: float  # this call (this sitting of a resumed run), setup included
    resumed_from: int = 0  # the epoch a checkpoint was resumed at (0: a fresh run)
    train_seconds: float | None = None  # training time of every sitting; None where an earlier one did not record it
    loaded_from: str | None = None  # a finished run's folder it was loaded from, not trained again (see `train`)

    def images_per_s(self, fit_images: int) -> float | None:
        """Training images/s over every sitting where all were timed, else over this sitting's epochs (None: none ran)."""
        if self.train_seconds:
            return fit_images * self.epochs_run / self.train_seconds
        sitting = self.epochs_run - self.resumed_from
        return fit_images * sitting / self.wall_time_s if sitting > 0 else None

    def record(self) -> dict:
        """How the run went, as results files record it (history.json, train's and the notebook's metrics.json)."""
        loaded = {"loaded_finished_run_from": self.loaded_from} if self.loaded_from else {}
        return {"epochs_run": self.epochs_run, "best_epoch": self.best_epoch, "resumed_from_epoch": self.resumed_from,
                "train_wall_time_s": self.wall_time_s, "train_seconds_all_sittings": self.train_seconds, **loaded}

    def summary(self, fit_images: int) -> str:
        """One line: epochs, training time and images/s, with a resumed run's earlier sittings counted."""
        line = f"{self.epochs_run} epochs" + (f" (resumed after epoch {self.resumed_from})" if self.resumed_from else "")
        if self.train_seconds:
            line += f" in {self.train_seconds / 60:.1f} min of training ({self.images_per_s(fit_images):.0f} images/s)"
        elif self.epochs_run > self.resumed_from:  # earlier sittings untimed: this sitting's figures only
            line += (f"; this sitting: {self.epochs_run - self.resumed_from} epochs in {self.wall_time_s / 60:.1f} min "
                     f"({self.images_per_s(fit_images):.0f} images/s; earlier sittings not timed)")
        line += f"; best epoch {self.best_epoch}"
        return line + (f" (the finished run in {self.loaded_from}, loaded, not trained again)" if self.loaded_from else "")


def default_strategy():
    """MirroredStrategy over all GPUs when there are several (TF backend), else None (the default device)."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf.distribute.MirroredStrategy() if len(tf.config.list_physical_devices("GPU")) > 1 else None


def compile_model(autoencoder: keras.Model, learning_rate: float = 1e-3, fused: bool = True) -> keras.Model:
    """Adam + MSE, as the reference; `fused`: Adam's update as one kernel per variable (same maths)."""
    optimizer = FusedAdam(learning_rate) if fused else keras.optimizers.Adam(learning_rate)
    autoencoder.compile(optimizer=optimizer, loss="mse")
    return autoencoder


def train(config: TrainConfig, fit_split: Split, val_split: Split, out_dir: str | os.PathLike | None = None,
          verbose: int | str = "auto", callbacks: list | None = None, strategy=None, retrain: bool = False) -> TrainResult:
    """Train a fresh model on `fit_split`, early-stopping on `val_split`.

    With `out_dir`, every epoch is checkpointed to out_dir/backup and a run started again
    with the same `out_dir` resumes exactly where a killed one stopped; the final model
    (autoencoder.keras), history.json and history.csv go there too. A finished run in
    `out_dir` with the same settings is loaded instead of trained again (one with other
    settings is refused); `retrain=True` trains from scratch and replaces it. `strategy` (a
    tf.distribute strategy) defaults to MirroredStrategy when several GPUs are visible.
    """
    if out_dir is not None and not retrain:
        finished = load_finished_run(config, out_dir, len(fit_split))
        if finished is not None:
            return finished
    set_seed(config.seed, config.deterministic)
    data_parallel(config.batch_size)  # JAX with several devices: keras.distribution.DataParallel
    strategy = strategy if strategy is not None else default_strategy()
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        autoencoder, encoder, decoder = build_model(config.model, latent_dim=config.latent_dim,
                                                    dtype=resolve_precision(config.precision), latent_noise=config.latent_noise)
        compile_model(autoencoder, config.learning_rate)
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=config.keep_best)
    start = time.perf_counter()
    settings = FitSettings(config.epochs, config.batch_size, config.seed)
    history, checkpoint = fit_resumable(autoencoder, stopper, fit_split.images, val_split.images, settings, out_dir, verbose, callbacks,
                                        run_settings=dataclasses.asdict(config))
    wall = time.perf_counter() - start
    val = history.get("val_loss", [])
    resumed, seconds = (checkpoint.resumed_from, checkpoint.seconds) if checkpoint is not None else (0, wall)
    result = TrainResult(autoencoder, encoder, decoder, history, len(val), int(np.argmin(val)) + 1 if val else 0, wall,
                         resumed, seconds)
    if out_dir is not None:
        _write_run(Path(out_dir), config, result, len(fit_split))
    return result


def load_finished_run(config: TrainConfig, out_dir: str | os.PathLike, fit_images: int) -> TrainResult | None:
    """The finished run `train` left in `out_dir`, loaded; None where there is none (or one still resumable).

    Raises SettingsMismatchError (`loop.refuse_other_settings`) if the finished run was made with other settings.
    """
    out = Path(out_dir)
    if (out / "backup" / "state.json").is_file() or not (out / "autoencoder.keras").is_file() \
            or not (out / "history.json").is_file():
        return None
    saved = json.loads((out / "history.json").read_text())
    # runs written before a setting existed hold its default; fit_images is recorded since 2026-12-03
    wanted = dataclasses.asdict(config) | {"fit_images": fit_images}
    defaults = dataclasses.asdict(TrainConfig()) | {"fit_images": fit_images}
    stored = defaults | saved.get("config", {}) | ({"fit_images": saved["fit_images"]} if "fit_images" in saved else {})
    refuse_other_settings({k: stored[k] for k in wanted}, wanted, f"{out} holds a finished run",  # not keep_best etc.: derived
                          "choose another output folder, or pass retrain=True (--overwrite on the command line) to replace it")
    autoencoder, encoder, decoder = load_autoencoder(out / "autoencoder.keras")
    return TrainResult(autoencoder, encoder, decoder, saved["history"], saved["epochs_run"], saved["best_epoch"],
                       saved["train_wall_time_s"], saved.get("resumed_from_epoch", 0),
                       saved.get("train_seconds_all_sittings"), loaded_from=str(out))


def _write_run(out: Path, config: TrainConfig, result: TrainResult, fit_images: int) -> None:
    """The final model, history.json and history.csv; then the backup, no longer needed, goes."""
    save_model(result.autoencoder, out / "autoencoder.keras")
    write_json(out / "history.json", {"config": config.to_dict(), "fit_images": fit_images, "history": result.history,
                                      **result.record()})
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
