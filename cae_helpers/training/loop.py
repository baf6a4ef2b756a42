"""The generic training loop: seeded, exactly resumable `fit` on (x, x) batches, with optional augmentation.

`fit_resumable(model, stopper, fit_images, val_images, FitSettings(...), out_dir)` serves
both recipes (`training.reference`, `training.codec`): epoch e's batch order (and its
augmentation) is a stateless function of (seed, e), and `ResumableCheckpoint` saves after
every epoch what an exact resume needs.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from ..errors import CheckpointError, RunLockedError, SettingsMismatchError
from ..io import atomic_write, write_json
from ..pixels import to_float
from ..validation import check_uint8_images

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


@dataclass
class FitSettings:
    """How `fit_resumable` feeds a model: epochs, batches, seed and augmentation."""

    epochs: int
    batch_size: int
    seed: int = 0
    val_batch_size: int | None = None  # None: batch_size
    augment: float = 0.0  # share of training images replaced by a random crop of themselves upscaled 1..max_zoom
    max_zoom: float = 4.0
    large_patch: int = 0  # > 0: every other training batch is made of large_patch x large_patch patches (NumPy batches)
    workers: int = 1  # threads preparing NumPy batches ahead of the model
    passes: int = 1  # passes over the training images per epoch (NumPy batches)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "workers", "passes"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not 0 <= self.augment <= 1:
            raise ValueError(f"augment must be in [0, 1], got {self.augment!r}")
        if not self.max_zoom >= 1:
            raise ValueError(f"max_zoom must be at least 1, got {self.max_zoom!r}")
        if self.large_patch < 0:
            raise ValueError(f"large_patch must be 0 (off) or a patch side, got {self.large_patch!r}")


def cpu_bf16_kind() -> str | None:
    """How this CPU does bfloat16 matrix maths: "amx" (Intel AMX tiles), "avx512_bf16" (dot products only), or None."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return None
    return "amx" if "amx_bf16" in flags else "avx512_bf16" if "avx512_bf16" in flags else None


# Is mixed bfloat16 faster than float32 for training on this kind of CPU? Measured with `bench speed`
# (the fast path per precision, 2 cores): Intel Xeon with AMX 1,090 vs 369 images/s (reference model; the
# float32 figure is stock layers); AMD EPYC with AVX-512 BF16 only 585 vs 358 (reference model) and
# 306 vs 221 (hyperprior codec). Without either, bfloat16 is emulated and slower.
BF16_FASTER = {"amx": True, "avx512_bf16": True}


def resolve_precision(precision: str = "auto") -> str:
    """The dtype policy "auto" stands for on this machine."""
    if precision != "auto":
        return precision
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return "mixed_float16"
    elif keras.backend.backend() == "jax":
        import jax

        if jax.devices()[0].platform == "gpu":
            return "mixed_bfloat16"  # Ampere and later: bfloat16 at full speed, no loss scaling needed
    return "mixed_bfloat16" if BF16_FASTER.get(cpu_bf16_kind(), False) else "float32"


def init_multihost() -> bool:
    """Join a multi-host JAX job when CAE_COORDINATOR (host:port), CAE_NUM_PROCESSES and CAE_PROCESS_ID are set.

    Every host runs the same command with its own CAE_PROCESS_ID (0 .. N-1); process 0's host is
    the coordinator. Keras' `keras.distribution.initialize` does the rest. Returns whether it joined.
    """
    address = os.environ.get("CAE_COORDINATOR")
    if not address:
        return False
    if keras.backend.backend() != "jax":
        raise RuntimeError("CAE_COORDINATOR is set: multi-host training needs KERAS_BACKEND=jax")
    import jax

    # CPU devices all-reduce over TCP with gloo (GPUs use NCCL whatever this says); set before JAX starts its backends
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    keras.distribution.initialize(job_addresses=address, num_processes=int(os.environ["CAE_NUM_PROCESSES"]),
                                  process_id=int(os.environ["CAE_PROCESS_ID"]))
    return True


def data_parallel(batch_size: int):
    """On JAX with several devices (GPUs, or CPU devices from XLA_FLAGS), split each batch across them.

    Uses Keras' own `keras.distribution.DataParallel` (weights replicated, gradients all-reduced);
    returns it, or None on one device or another backend. Across hosts, call
    `keras.distribution.initialize(...)` first (see README, "Past one machine").
    """
    if keras.backend.backend() != "jax":
        return None
    devices = keras.distribution.list_devices()
    if len(devices) < 2:
        return None
    if batch_size % len(devices):
        raise ValueError(f"batch size {batch_size} does not split evenly over {len(devices)} devices")
    distribution = keras.distribution.DataParallel(devices=devices)
    if _process_shard()[1] > 1:
        distribution.auto_shard_dataset = False  # ArrayBatches hands each process its part of every batch
    keras.distribution.set_distribution(distribution)
    return distribution


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and the backend; optionally make TF ops deterministic."""
    keras.utils.set_random_seed(seed)
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def make_dataset(images: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0, epoch=None,
                 augment: float = 0.0, max_zoom: float = 4.0, large_patch: int = 0, workers: int = 1, passes: int = 1):
    """Batches of (x, x), x float32 in [0, 1]; uint8 stays in memory and is scaled per batch.

    With `shuffle`, epoch e's order is a stateless permutation of (seed, e), e read from
    the tf.Variable `epoch` (see `EpochCounter`) when the epoch's iterator starts: a
    resumed run sees the same batches as an uninterrupted one. `augment` > 0 (TensorFlow
    backend, shuffled data): see `zoom_and_flip`, seeded by (seed, epoch, batch).
    """
    images = check_uint8_images(images)
    if keras.backend.backend() != "tensorflow" or (shuffle and (large_patch or passes > 1)):  # NumPy batches (see ArrayBatches)
        return ArrayBatches(images, batch_size, shuffle, seed, augment, max_zoom, shard=_process_shard(),
                            large_patch=large_patch if shuffle else 0, workers=workers, passes=passes)
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

    def to_unit(i):  # (B,) indices -> (B, 32, 32, 3) float32 in [0, 1]: pixels.to_float, in the tf.data graph
        return tf.cast(tf.gather(data, i), tf.float32) / 255.0

    def plain(i):
        return to_unit(i), to_unit(i)

    def augmented(k, i):  # batch k of the epoch, augmented under its own stateless seed (seed, epoch, k)
        x = zoom_and_flip(to_unit(i), tf.stack([tf.cast(seed, tf.int64), epoch * 1_000_000 + k]), augment, max_zoom)
        return x, x

    batches, scale = idx.batch(batch_size), plain
    if augment and shuffle:
        batches, scale = batches.enumerate(), augmented
    # Fixed parallelism with tf.data's autotuner off: with it on, new epochs here often began with
    # seconds of idle CPU (see README "Training speed"). Scaling a batch takes
    # far less than a training step, so two workers and two batches ahead never stall the model.
    options = tf.data.Options()
    options.autotune.enabled = False
    return batches.map(scale, num_parallel_calls=2).prefetch(2).with_options(options)


def zoom_and_flip(x, seed, share: float, max_zoom: float):
    """Random horizontal flips, and for `share` of the images a random square crop upscaled back to full size.

    x: float32 (B, H, W, 3) in [0, 1]; the crop's side is 1 / zoom of the image's, zoom
    log-uniform in [1, max_zoom], upscaled bilinearly (smooth content, as photographs
    are at their native resolution) and rounded to 1/255 steps like a real 8-bit image.
    seed: an int64 pair; the same seed gives the same batch.
    """
    import tensorflow as tf

    shape = tf.shape(x)
    b = shape[0]
    s = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
    zoomed = tf.random.stateless_uniform([b], s[0]) < share
    zoom = tf.where(zoomed, tf.exp(tf.random.stateless_uniform([b], s[1]) * tf.math.log(float(max_zoom))), 1.0)
    side = 1.0 / zoom  # (B,) crop side as a fraction of the image
    top = tf.random.stateless_uniform([b], s[2]) * (1.0 - side)
    left = tf.random.stateless_uniform([b], s[3]) * (1.0 - side)
    flip = tf.random.stateless_uniform([b], s[4]) < 0.5
    x1, x2 = tf.where(flip, left + side, left), tf.where(flip, left, left + side)  # x1 > x2 mirrors the crop
    boxes = tf.stack([top, x1, top + side, x2], axis=1)
    out = tf.image.crop_and_resize(x, boxes, tf.range(b), shape[1:3], method="bilinear")
    return tf.round(tf.clip_by_value(out, 0.0, 1.0) * 255.0) / 255.0


def zoom_and_flip_numpy(x: np.ndarray, rng: np.random.Generator, share: float, max_zoom: float) -> np.ndarray:
    """`zoom_and_flip` in NumPy (for backends without tf.data): same sampling grid as tf.image.crop_and_resize."""
    b, h, w, _ = x.shape
    zoomed = rng.random(b) < share
    zoom = np.where(zoomed, np.exp(rng.random(b) * np.log(max_zoom)), 1.0)
    side = 1.0 / zoom  # (B,)
    top, left = rng.random(b) * (1 - side), rng.random(b) * (1 - side)
    flip = rng.random(b) < 0.5
    out = crop_resize_numpy(x, top, left, side, flip)
    return (np.round(np.clip(out, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)  # a real 8-bit image, as in tf.data


def crop_resize_numpy(x: np.ndarray, top: np.ndarray, left: np.ndarray, side: np.ndarray, flip: np.ndarray,
                      out_size: int | None = None) -> np.ndarray:
    """Bilinear square crops (top, left, side as fractions; (B,) each) resized to `out_size` (default: the input's), mirrored where `flip`."""
    b, h, w, _ = x.shape
    rows = _interpolation(top, side, h, out_size or h)  # (B, P, h)
    cols = _interpolation(left, side, w, out_size or w)  # (B, P, w)
    cols = np.where(flip[:, None, None], cols[:, ::-1], cols)
    # separable bilinear resampling as two batched matrix products (far faster than gathers)
    p = rows.shape[1]
    out = rows @ x.astype(np.float32).reshape(b, h, w * 3)  # (B, P, w*3)
    out = out.reshape(b, p, w, 3).transpose(0, 2, 1, 3).reshape(b, w, p * 3)  # (B, w, P*3)
    out = cols @ out  # (B, Q, P*3)
    return np.ascontiguousarray(out.reshape(b, -1, p, 3).transpose(0, 2, 1, 3))  # (B, P, Q, 3)


def _interpolation(start: np.ndarray, side: np.ndarray, n: int, size: int) -> np.ndarray:
    """(B, size, n) bilinear weights: output i reads source position (start + i / (size - 1) * side) * (n - 1)."""
    pos = (start[:, None] + np.linspace(0, 1, size)[None] * side[:, None]) * (n - 1)  # (B, size)
    lo = np.clip(np.floor(pos), 0, n - 1).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = (pos - lo).astype(np.float32)
    weights = np.zeros((len(start), size, n), np.float32)
    bi, ii = np.arange(len(start))[:, None], np.arange(size)[None]
    weights[bi, ii, lo] = 1 - frac
    weights[bi, ii, hi] += frac  # each (b, i) once: where hi == lo (the last row) the weights sum to 1
    return weights


def mosaic_patches(x: np.ndarray, rng: np.random.Generator, patch: int, share: float, max_zoom: float) -> np.ndarray:
    """(B, s, s, 3) images -> (B / c^2, patch, patch, 3) patches, c = patch / s: larger inputs made of small images.

    Each patch is, with probability `share`, one image's crop upscaled to the patch (zoom log-uniform in
    [c, max(c, max_zoom)]: smooth content with real neighbours everywhere), else a c x c mosaic of the
    group's images, each zoomed and flipped as in `zoom_and_flip_numpy` (busy content, with edges).
    """
    b, s = x.shape[0], x.shape[1]
    c = patch // s
    if patch % s or c < 2:
        raise ValueError(f"patch side {patch} must be a multiple (at least 2x) of the images' side {s}")
    n = b // (c * c)
    if n < 1:
        raise ValueError(f"a batch of {b} images cannot fill one {patch}x{patch} patch ({c * c} images each)")
    cells = zoom_and_flip_numpy(x[:n * c * c], rng, share, max_zoom).reshape(n, c, c, s, s, 3)
    out = cells.transpose(0, 1, 3, 2, 4, 5).reshape(n, patch, patch, 3)  # (n, c*s, c*s, 3) mosaics
    zoomed = rng.random(n) < share
    lo, hi = np.log(c), np.log(max(c, max_zoom))
    side = c / np.exp(lo + rng.random(n) * (hi - lo))  # crop side as a fraction of the image, <= 1
    top, left = rng.random(n) * (1 - side), rng.random(n) * (1 - side)
    big = crop_resize_numpy(x[:n * c * c:c * c], top, left, side, rng.random(n) < 0.5, out_size=patch)
    big = np.round(np.clip(big, 0.0, 1.0) * 255.0) / 255.0  # a real 8-bit image
    out[zoomed] = big[zoomed]
    return out.astype(np.float32)


class ArrayBatches(keras.utils.PyDataset):
    """(x, x) batches from uint8 images in NumPy, for any backend: the order of epoch e is a permutation of
    (seed, e) and batch k's augmentation is seeded by (seed, e, k), so a resumed run sees the same batches.

    With `large_patch` P, every odd batch turns its images into P x P patches (`mosaic_patches`):
    the same pixels per step, but inputs larger than the images. With `passes` > 1 an epoch goes
    over the images that many times (fewer epoch ends: on a fast GPU each costs a validation and a
    checkpoint). `EpochCounter(dataset.set_epoch)` tells it the epoch before its batches are drawn.
    """

    def __init__(self, images: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0, augment: float = 0.0,
                 max_zoom: float = 4.0, shard: tuple[int, int] = (0, 1), large_patch: int = 0, workers: int = 1,
                 passes: int = 1):
        super().__init__(workers=workers, use_multiprocessing=False)
        self.images, self.batch_size, self.shuffle, self.seed = images, int(batch_size), shuffle, int(seed)
        self.augment, self.max_zoom, self.large_patch = float(augment), float(max_zoom), int(large_patch)
        self.passes = int(passes) if shuffle else 1
        self.shard = shard  # (this process, processes): each takes its contiguous part of every global batch
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        n = len(self.images)
        if not self.shuffle:
            self.order = np.arange(n)
        elif self.passes == 1:
            self.order = np.random.default_rng([self.seed, self.epoch]).permutation(n)
        else:  # an epoch of several passes: one permutation per pass, end to end
            self.order = np.concatenate([np.random.default_rng([self.seed, self.epoch, p]).permutation(n) for p in range(self.passes)])

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def __getitem__(self, k: int):
        x = to_float(self.images[self.order[k * self.batch_size:(k + 1) * self.batch_size]])
        rng = np.random.default_rng([self.seed, self.epoch, k])
        if self.large_patch and self.shuffle and k % 2 and len(x) >= (self.large_patch // x.shape[1]) ** 2:
            x = mosaic_patches(x, rng, self.large_patch, self.augment, self.max_zoom)
        elif self.augment and self.shuffle:
            x = zoom_and_flip_numpy(x, rng, self.augment, self.max_zoom)
        i, n = self.shard
        if n > 1:
            if len(x) % n:
                raise ValueError(f"a batch of {len(x)} images does not split evenly over {n} processes")
            x = x[i * len(x) // n:(i + 1) * len(x) // n]
        return x, x


def _process_shard() -> tuple[int, int]:
    """(this process's index, number of processes) of a multi-host JAX job; (0, 1) otherwise."""
    if keras.backend.backend() != "jax":
        return 0, 1
    import jax

    return jax.process_index(), jax.process_count()


class EpochCounter(keras.callbacks.Callback):
    """Tells the data the current (absolute) epoch before its batches are drawn: a tf.Variable or a setter."""

    def __init__(self, target):
        super().__init__()
        self.set = target.assign if hasattr(target, "assign") else target

    def on_epoch_begin(self, epoch, logs=None):
        self.set(epoch)


class RunLock:
    """An output folder's lock: a second run on the same folder is refused, naming the holder.

    The lock file holds the holder's pid, host and start time; a lock left by a process
    that no longer runs (on this host) is taken over.
    """

    def __init__(self, directory: str | os.PathLike):
        self.path = Path(directory) / ".lock"

    def __enter__(self):
        import socket
        import time

        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                holder = self._holder()
                if holder and _alive(holder):
                    raise RunLockedError(f"{self.path.parent} is in use by process {holder['pid']} on {holder['host']} "
                                         f"(since {holder['since']}): wait for it, or choose another output folder") from None
                self.path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            return self
        raise RunLockedError(f"could not lock {self.path.parent}")

    def _holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)


def _alive(holder: dict) -> bool:
    import socket

    if holder.get("host") != socket.gethostname():
        return True  # another machine's process: cannot tell, so assume it runs
    try:
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, TypeError):
        return True
    return True


class ResumableCheckpoint(keras.callbacks.Callback):
    """After every epoch, atomically saves what an exact resume needs; restores it when training begins.

    Saved in `directory`: the weights with the optimizer state, the early-stopping state
    (with its best weights) and the history so far, named by state.json, which is
    replaced last, so a kill at any moment leaves the previous complete state.
    Put it after the EarlyStopping callback it restores. `seconds` adds up the training time of
    every sitting to the last saved epoch (None when a checkpoint from before it was recorded was
    resumed), so a resumed run reports its whole time, not only its last sitting's.
    """

    def __init__(self, directory: str | os.PathLike, stopper: keras.callbacks.EarlyStopping):
        super().__init__()
        self.directory = Path(directory)
        self.stopper = stopper
        self.history: dict[str, list[float]] = {}
        self.resumed_from = 0
        self.seconds: float | None = 0.0  # training time of all sittings up to the last saved epoch
        self._earlier: float | None = 0.0  # ... of the sittings before this one
        self._sitting_start = 0.0

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def on_train_begin(self, logs=None):
        self._sitting_start = time.perf_counter()
        if not self.state_path.is_file():
            return
        try:
            self._restore()
        except Exception as err:  # noqa: BLE001 - JSON, HDF5, npz and shape errors all mean the same to the user
            raise CheckpointError(
                f"the checkpoint in {self.directory} is damaged ({type(err).__name__}: {err}). Either start over "
                f"(--fresh on the command line moves it aside; or delete {self.directory}), or put back an intact copy "
                "of that folder (state.json and the files it names) and run the same command again") from err

    def _restore(self) -> None:
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
        self._earlier = self.seconds = state.get("train_seconds")  # absent from checkpoints written before it was kept
        # a run that had already stopped early stays stopped
        self.model._initial_epoch = self.params["epochs"] if state["stopped_epoch"] else state["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if self._earlier is not None:
            self.seconds = self._earlier + time.perf_counter() - self._sitting_start
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
                                     "train_seconds": self.seconds, "history": self.history})
        for old in [*self.directory.glob("epoch*.weights.h5"), *self.directory.glob("best*.npz")]:
            if old.name not in (weights, best):  # earlier epochs' files; settings.json and state.json stay
                old.unlink()


def _seed_generators(model: keras.Model) -> list:
    """The model's random-noise generators, whose state save_weights leaves out (a resume must restore it)."""
    return [sg for layer in model._flatten_layers() for sg in getattr(layer, "_seed_generators", [])]


def _save_npz(path: str, arrays: list) -> None:
    with open(path, "wb") as f:  # a file object: np.savez would add ".npz" to a path
        np.savez(f, **{f"w{i}": a for i, a in enumerate(arrays)})


def fit_resumable(model: keras.Model, stopper: keras.callbacks.EarlyStopping, fit_images, val_images, settings: FitSettings,
                  out_dir=None, verbose: int | str = "auto", callbacks: list | None = None, run_settings: dict | None = None
                  ) -> tuple[dict[str, list[float]], ResumableCheckpoint | None]:
    """`model.fit` on (x, x) batches shuffled per (seed, epoch), with `stopper` and, given `out_dir`, exact resume.

    `run_settings` (the recipe's config as a dict) is checked against a checkpoint's before resuming it.

    Returns the whole history (earlier processes' epochs included on resume) and the checkpoint callback.
    """
    cbs = list(callbacks or []) + [stopper]  # callbacks first: what they add to the logs is checkpointed too
    checkpoint = None
    if out_dir is not None:
        if run_settings is not None:
            check_resume_settings(Path(out_dir) / "backup", run_settings | {"fit_images": len(fit_images)})
        checkpoint = ResumableCheckpoint(Path(out_dir) / "backup", stopper)
        cbs.append(checkpoint)
    epoch = None
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        cbs.append(EpochCounter(epoch))
    f = settings
    lock = RunLock(out_dir) if out_dir is not None else None
    train_data = make_dataset(fit_images, f.batch_size, shuffle=True, seed=f.seed, epoch=epoch, augment=f.augment, max_zoom=f.max_zoom,
                              large_patch=f.large_patch, workers=f.workers, passes=f.passes)
    val_data = make_dataset(val_images, f.val_batch_size or f.batch_size, shuffle=False)
    if isinstance(train_data, ArrayBatches):
        cbs.append(EpochCounter(train_data.set_epoch))
    with lock if lock is not None else contextlib.nullcontext():
        hist = model.fit(train_data, epochs=f.epochs, validation_data=val_data, callbacks=cbs,
                         shuffle=False, verbose=verbose)  # the dataset shuffles itself, seeded per epoch
    history = checkpoint.history if checkpoint else {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    return history, checkpoint




class ProgressLog(keras.callbacks.Callback):
    """One flushed line per epoch: metrics, seconds per epoch and the time left for the whole run.

    Adds the epoch's wall time to the logs as `epoch_time_s` (put it before the checkpoint).
    """

    def __init__(self, total_epochs: int, stream=None):
        super().__init__()
        self.total_epochs = int(total_epochs)
        self.stream = stream
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        import time

        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        import sys
        import time

        self.times.append(time.perf_counter() - self._start)
        if logs is not None:
            logs["epoch_time_s"] = self.times[-1]  # recorded in the history: a resumed run's total time adds up
        per_epoch = sum(self.times) / len(self.times)
        left = (self.total_epochs - epoch - 1) * per_epoch
        values = " ".join(f"{k} {v:.5g}" for k, v in (logs or {}).items() if k != "epoch_time_s")
        print(f"epoch {epoch + 1}/{self.total_epochs}: {values} | {self.times[-1]:.0f} s/epoch, "
              f"about {left / 3600:.1f} h left", file=self.stream or sys.stdout, flush=True)


class TimeLimit(keras.callbacks.Callback):
    """Stops training at the end of the first epoch that ends past `seconds` (the run resumes later)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = float(seconds)

    def on_train_begin(self, logs=None):
        import time

        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        import time

        if time.perf_counter() - self._start > self.seconds:
            self.model.stop_training = True


def check_resume_settings(backup: str | os.PathLike, settings: dict) -> None:
    """Record a run's settings beside its checkpoint; refuse to resume a checkpoint made with other settings."""
    path = Path(backup) / "settings.json"
    settings = json.loads(json.dumps(settings))  # tuples -> lists, as they come back from the file
    if (Path(backup) / "state.json").is_file() and path.is_file():
        refuse_other_settings(json.loads(path.read_text()), settings, f"{backup} holds a run",
                              "use the same settings to resume, --fresh to start over (the old run is moved aside), or another output folder")
    write_json(path, settings)


def refuse_other_settings(saved: dict, wanted: dict, what: str, ways_out: str) -> None:
    """SettingsMismatchError naming every setting that differs between `saved` (what `what` holds) and `wanted`."""
    changed = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
    if changed:
        diffs = ", ".join(f"{k}: {saved.get(k)!r} there, {wanted.get(k)!r} now" for k in changed)
        raise SettingsMismatchError(f"{what} with other settings ({diffs}); {ways_out}")
