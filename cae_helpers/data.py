"""CIFAR-100 loading (offline archive or Keras download), scaling and validation splits."""

from __future__ import annotations

import os
import pickle
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError

IMAGE_SHAPE = (32, 32, 3)  # one CIFAR image: height, width, RGB
ENV_VAR = "CIFAR100_PATH"
ARCHIVE_DIR = "cifar-100-python"
SPLITS = ("train", "test")
PROTOCOLS = ("reference", "heldout")
_HOW_TO = (
    f"Download cifar-100-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
    f"and pass its path (or the extracted folder) as `path=` / --data, or set {ENV_VAR}."
)


@dataclass(frozen=True)
class Split:
    """One split: uint8 images (N, 32, 32, 3) with fine and coarse labels (N,)."""

    images: np.ndarray
    fine: np.ndarray
    coarse: np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, index: np.ndarray) -> "Split":
        """The images and labels at `index`."""
        return Split(self.images[index], self.fine[index], self.coarse[index])


@dataclass(frozen=True)
class Cifar100:
    """The train and test splits, the class names and where they came from."""

    train: Split
    test: Split
    fine_names: tuple[str, ...]
    coarse_names: tuple[str, ...]
    source: str


def load_cifar100(path: str | os.PathLike | None = None) -> Cifar100:
    """Load CIFAR-100 from `path` or $CIFAR100_PATH (archive or folder), else via Keras' download."""
    path = path if path is not None else os.environ.get(ENV_VAR) or None
    if path is None:
        return _load_keras()
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"CIFAR-100 not found at {path}. {_HOW_TO}")
    if path.is_dir():
        return _load_folder(_find_folder(path), source=str(path))
    if not os.access(path, os.R_OK):
        raise DataError(f"{path} exists but cannot be read (permissions). {_HOW_TO}")
    _verify_gzip(path)
    with tempfile.TemporaryDirectory(prefix="cifar100-") as tmp:
        _extract(path, Path(tmp))
        return _load_folder(Path(tmp) / ARCHIVE_DIR, source=str(path))


def _verify_gzip(archive: Path) -> None:
    """Read a gzip archive to its end, so gzip checks its CRC-32 and length: a flipped or missing byte is caught."""
    import gzip

    with open(archive, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            return  # not gzip (a plain tar): nothing to check here
    try:
        with gzip.open(archive, "rb") as g:
            while g.read(1 << 22):
                pass
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{archive} is corrupt or truncated: its gzip check failed ({type(err).__name__}: {err}). {_HOW_TO}") from err


def _find_folder(path: Path) -> Path:
    """The folder holding meta/train/test: `path` itself or its cifar-100-python child."""
    for candidate in (path, path / ARCHIVE_DIR):
        if all((candidate / name).exists() for name in ("meta",) + SPLITS):
            bad = [name for name in ("meta",) + SPLITS if not (candidate / name).is_file()]
            if bad:
                raise DataError(f"{candidate / bad[0]} is not a file: not a CIFAR-100 python folder. {_HOW_TO}")
            return candidate
    raise DataError(
        f"{path} is not a CIFAR-100 python folder: expected the files meta, train and test "
        f"in it or in {path / ARCHIVE_DIR}. {_HOW_TO}"
    )


def _extract(archive: Path, dest: Path) -> None:
    """Extract meta/train/test of the official archive, with errors that name the file."""
    wanted = [f"{ARCHIVE_DIR}/{name}" for name in ("meta",) + SPLITS]
    try:
        with tarfile.open(archive, "r:*") as tar:
            names = set(tar.getnames())
            missing = [w for w in wanted if w not in names]
            if missing:
                raise DataError(f"{archive} lacks {missing}: not the official cifar-100-python archive. {_HOW_TO}")
            not_files = [w for w in wanted if not tar.getmember(w).isfile()]
            if not_files:
                raise DataError(f"{archive}: {not_files[0]} is not a file: not the official cifar-100-python archive. {_HOW_TO}")
            tar.extractall(dest, members=[tar.getmember(w) for w in wanted], filter="data")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise DataError(f"{archive} is corrupt or truncated ({type(err).__name__}: {err}). {_HOW_TO}") from err


def _load_folder(folder: Path, source: str) -> Cifar100:
    """Read the three pickles of an extracted cifar-100-python folder."""
    meta = _unpickle(folder / "meta")
    try:
        fine_names = tuple(_text(n) for n in meta["fine_label_names"])
        coarse_names = tuple(_text(n) for n in meta["coarse_label_names"])
    except (KeyError, TypeError) as err:
        raise DataError(f"{folder / 'meta'} lacks fine_label_names/coarse_label_names: not CIFAR-100 meta") from err
    if len(fine_names) != 100 or len(coarse_names) != 20:
        raise DataError(f"{folder / 'meta'} names {len(fine_names)} fine and {len(coarse_names)} coarse classes; CIFAR-100 has 100 and 20")
    train, test = (_load_split(folder / name) for name in SPLITS)
    data = Cifar100(train, test, fine_names, coarse_names, source)
    _check_official(data)
    return data


def _load_split(fpath: Path) -> Split:
    """One split; Keras' own batch reader parses the fine labels and pixels."""
    from keras.src.datasets.cifar import load_batch

    try:
        data, fine = load_batch(str(fpath), label_key="fine_labels")
        _, coarse = load_batch(str(fpath), label_key="coarse_labels")
    except (pickle.UnpicklingError, EOFError, KeyError, AttributeError, ValueError, TypeError) as err:
        raise DataError(f"{fpath} is not a CIFAR-100 python batch ({type(err).__name__}: {err})") from err
    data = np.asarray(data)
    if data.dtype != np.uint8 or data.ndim != 4 or data.shape[1:] != (3, 32, 32) or len(data) == 0:
        raise DataError(f"{fpath}: pixels are {data.dtype} {data.shape}; CIFAR-100 stores uint8 rows of 3 x 32 x 32")
    images = np.ascontiguousarray(data.transpose(0, 2, 3, 1))
    fine, coarse = np.asarray(fine), np.asarray(coarse)
    if not (np.issubdtype(fine.dtype, np.integer) and np.issubdtype(coarse.dtype, np.integer)):
        raise DataError(f"{fpath}: labels are {fine.dtype}/{coarse.dtype}, not integers")
    fine, coarse = fine.astype(np.int64), coarse.astype(np.int64)
    if not (len(images) == len(fine) == len(coarse)):
        raise DataError(f"{fpath}: {len(images)} images but {len(fine)} fine and {len(coarse)} coarse labels")
    if fine.min() < 0 or fine.max() > 99 or coarse.min() < 0 or coarse.max() > 19:
        raise DataError(f"{fpath}: labels out of range (fine {fine.min()}..{fine.max()}, expected 0..99; "
                        f"coarse {coarse.min()}..{coarse.max()}, expected 0..19)")
    return Split(images, fine, coarse)


def _unpickle(fpath: Path) -> dict:
    """A CIFAR pickle as a dict with str keys, through Keras' restricted unpickler."""
    from keras.src.datasets.npz_utils import RestrictedUnpickler

    try:
        with open(fpath, "rb") as f:
            d = RestrictedUnpickler(f, encoding="bytes").load()
    except Exception as err:  # noqa: BLE001 - any unpickling failure means a bad file
        raise DataError(f"{fpath} is not a CIFAR-100 pickle ({type(err).__name__}: {err})") from err
    if not isinstance(d, dict):
        raise DataError(f"{fpath} holds a {type(d).__name__}, not the dict of a CIFAR-100 pickle")
    return {_text(k): v for k, v in d.items()}


def _text(value: bytes | str) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _load_keras() -> Cifar100:
    """Keras' download and cache; a clear error when offline."""
    import keras

    try:
        (x_tr, y_tr), (x_te, y_te) = keras.datasets.cifar100.load_data(label_mode="fine")
        (_, c_tr), (_, c_te) = keras.datasets.cifar100.load_data(label_mode="coarse")
    except Exception as err:  # noqa: BLE001 - urllib/socket errors vary by platform
        raise DataError(f"Could not download CIFAR-100 with Keras ({type(err).__name__}: {err}). {_HOW_TO}") from err
    train = Split(x_tr, y_tr.ravel().astype(np.int64), c_tr.ravel().astype(np.int64))
    test = Split(x_te, y_te.ravel().astype(np.int64), c_te.ravel().astype(np.int64))
    return Cifar100(train, test, (), (), "keras.datasets.cifar100")


def balanced_split(labels: np.ndarray, val_size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced, seeded split of indices into (train, validation)."""
    labels = np.asarray(labels).ravel()
    classes = np.unique(labels)
    if val_size % len(classes):
        raise ValueError(f"val_size={val_size} is not a multiple of the {len(classes)} classes")
    per_class = val_size // len(classes)
    rng = np.random.default_rng(seed)
    val = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if per_class >= len(idx):
            raise ValueError(f"class {c} has {len(idx)} images, too few for {per_class} validation images")
        val.append(rng.choice(idx, per_class, replace=False))
    val = np.sort(np.concatenate(val))
    train = np.setdiff1d(np.arange(len(labels)), val)
    return train, val


def protocol_splits(train: Split, test: Split, protocol: str, val_size: int = 5000, seed: int = 0) -> tuple[Split, Split]:
    """(fit, validation) splits: "heldout" splits `val_size` images off `train`, "reference" validates on `test`."""
    if protocol == "reference":
        return train, test
    if protocol == "heldout":
        tr, va = balanced_split(train.fine, val_size, seed)
        return train.subset(tr), train.subset(va)
    raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")


def balanced_subset(split: Split, per_class: int, seed: int = 0) -> Split:
    """`per_class` images of every fine class, seeded (smoke runs and quick looks)."""
    _, idx = balanced_split(split.fine, per_class * len(np.unique(split.fine)), seed)
    return split.subset(idx)


def photo_crops(size: int = 32, stride: int = 32) -> tuple[np.ndarray, list[str]]:
    """Non-CIFAR check images: (N, size, size, 3) uint8 crops of scikit-learn's two sample photographs.

    china.jpg and flower.jpg (427x640 each) ship inside scikit-learn, so no download is
    needed; with the defaults, 13 x 20 non-overlapping crops each, 520 in all. Returns the
    crops and the source file names. (scikit-image's sample photos are kept for an
    independent check and are not used here.)
    """
    try:
        from sklearn.datasets import load_sample_images
    except ImportError as err:
        raise DataError("the photo check set needs scikit-learn (pip install scikit-learn)") from err
    sample = load_sample_images()
    crops = []
    for img in sample.images:
        h, w = img.shape[:2]
        crops += [img[i:i + size, j:j + size] for i in range(0, h - size + 1, stride) for j in range(0, w - size + 1, stride)]
    return np.stack(crops).astype(np.uint8), [Path(f).name for f in sample.filenames]


OFFICIAL_COUNTS = {"train": 50000, "test": 10000}
# Order-independent digest of the official 60,000 images with their labels (`content_digest`),
# computed on the archive in ../shared/data, which holds the published images in another order.
OFFICIAL_DIGEST = "8a478321679985a321ce92d905f137db4371315e16972e503aaffd01f328ddb9"


class DataWarning(UserWarning):
    """The data loaded, but it is not the official CIFAR-100 (a subset, or different images)."""


def content_digest(data: Cifar100) -> str:
    """SHA-256 over the sorted per-image digests (pixels + fine + coarse label) of both splits: independent of order."""
    import hashlib

    digests = []
    for name, split in (("train", data.train), ("test", data.test)):
        for img, f, c in zip(split.images, split.fine, split.coarse):
            digests.append(hashlib.sha1(name.encode() + img.tobytes() + bytes([int(f), int(c)])).digest())
    return hashlib.sha256(b"".join(sorted(digests))).hexdigest()


def _check_official(data: Cifar100) -> None:
    """Warn (DataWarning) when the counts or, for full-size data, the content digest differ from the official data set."""
    import warnings

    counts = {"train": len(data.train), "test": len(data.test)}
    if counts != OFFICIAL_COUNTS:
        warnings.warn(f"{data.source}: {counts['train']} training and {counts['test']} test images, not the official "
                      f"{OFFICIAL_COUNTS['train']} and {OFFICIAL_COUNTS['test']}: results are not comparable with published ones",
                      DataWarning, stacklevel=3)
    elif OFFICIAL_DIGEST and content_digest(data) != OFFICIAL_DIGEST:
        warnings.warn(f"{data.source}: the images or labels differ from the official CIFAR-100 (content digest mismatch)",
                      DataWarning, stacklevel=3)
