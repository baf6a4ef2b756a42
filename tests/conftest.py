"""Shared fixtures: a tiny archive in the official CIFAR-100 python layout, and the real one when set."""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TRAIN_PER_CLASS, TEST_PER_CLASS = 3, 2


def _batch(n_per_class: int, seed: int, label: bytes) -> dict:
    """A pickle dict like the official ones: bytes keys, channel-major uint8 rows."""
    rng = np.random.default_rng(seed)
    fine = np.tile(np.arange(100), n_per_class)
    return {
        b"batch_label": label,
        b"fine_labels": fine.tolist(),
        b"coarse_labels": (fine // 5).tolist(),
        b"data": rng.integers(0, 256, (len(fine), 3072), dtype=np.uint8),
    }


def make_archive(path: Path, files: dict[str, object] | None = None) -> Path:
    """Write a tar.gz holding cifar-100-python/<name> pickles with bytes keys, like the published archive.

    Protocol 4, not 2: the published files come from Python 2, whose protocol-2 strings
    load as bytes; Python 3 writes protocol-2 bytes through `_codecs.encode`, which
    Keras' safe unpickler rightly refuses.
    """
    if files is None:
        files = {
            "meta": {b"fine_label_names": [f"class{i}".encode() for i in range(100)],
                     b"coarse_label_names": [f"super{i}".encode() for i in range(20)]},
            "train": _batch(TRAIN_PER_CLASS, 1, b"training batch 1 of 1"),
            "test": _batch(TEST_PER_CLASS, 2, b"testing batch 1 of 1"),
        }
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in files.items():
            blob = pickle.dumps(obj, protocol=4)
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return path


@pytest.fixture(scope="session")
def tiny_archive(tmp_path_factory) -> Path:
    """A 300-train / 200-test image archive in the official layout."""
    return make_archive(tmp_path_factory.mktemp("cifar") / "cifar-100-python.tar.gz")


@pytest.fixture(scope="session")
def real_archive() -> Path:
    """The real CIFAR-100 archive named by $CIFAR100_PATH; skips when unset."""
    path = os.environ.get("CIFAR100_PATH")
    if not path:
        pytest.skip("CIFAR100_PATH is not set: real-data tests need the CIFAR-100 archive (CI sets it)")
    if not Path(path).exists():
        pytest.fail(f"CIFAR100_PATH={path} does not exist")
    return Path(path)


@pytest.fixture(scope="session")
def real_data(real_archive):
    """The real data set, loaded once per session."""
    from cae_helpers import load_cifar100

    return load_cifar100(real_archive)


@pytest.fixture(scope="session")
def default_codec():
    """The shipped default HyperpriorCodec (every quality), loaded once."""
    from cae_helpers.codec import pretrained_codec

    return pretrained_codec(quality=1).codec


@pytest.fixture(autouse=True)
def _close_figures():
    """Every test starts and ends with no open Matplotlib figure (they are never shown here)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
