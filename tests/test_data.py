"""Data loading, layouts, errors and splits."""

from __future__ import annotations

import hashlib
import pickle
import tarfile

import numpy as np
import pytest

from cae_helpers import DataError, balanced_split, balanced_subset, load_cifar100, protocol_splits, to_float, to_uint8
from conftest import TEST_PER_CLASS, TRAIN_PER_CLASS, make_archive


def test_tiny_archive_loads_in_official_layout(tiny_archive):
    data = load_cifar100(tiny_archive)
    assert data.train.images.shape == (100 * TRAIN_PER_CLASS, 32, 32, 3)
    assert data.test.images.shape == (100 * TEST_PER_CLASS, 32, 32, 3)
    assert data.train.images.dtype == np.uint8
    assert data.fine_names[3] == "class3" and data.coarse_names[19] == "super19"
    assert np.array_equal(data.train.coarse, data.train.fine // 5)
    # channel-major rows (1024 R, 1024 G, 1024 B) become height-width-channel pixels
    with tarfile.open(tiny_archive) as tar:
        raw = pickle.load(tar.extractfile("cifar-100-python/train"), encoding="bytes")[b"data"]
    assert data.train.images[5, 2, 7, 0] == raw[5, 2 * 32 + 7]
    assert data.train.images[5, 2, 7, 2] == raw[5, 2048 + 2 * 32 + 7]


def test_folder_and_env_var(tiny_archive, tmp_path, monkeypatch):
    with tarfile.open(tiny_archive) as tar:
        tar.extractall(tmp_path, filter="data")
    from_parent = load_cifar100(tmp_path)
    from_folder = load_cifar100(tmp_path / "cifar-100-python")
    monkeypatch.setenv("CIFAR100_PATH", str(tiny_archive))
    from_env = load_cifar100()
    for d in (from_folder, from_env):
        assert np.array_equal(d.train.images, from_parent.train.images)
        assert np.array_equal(d.test.fine, from_parent.test.fine)


def test_missing_path_says_how_to_fix(tmp_path):
    with pytest.raises(DataError, match="not found.*CIFAR100_PATH"):
        load_cifar100(tmp_path / "nope.tar.gz")


def test_truncated_archive_names_the_file(tiny_archive, tmp_path):
    bad = tmp_path / "truncated.tar.gz"
    bad.write_bytes(tiny_archive.read_bytes()[: tiny_archive.stat().st_size // 2])
    with pytest.raises(DataError, match="truncated.tar.gz.*corrupt or truncated"):
        load_cifar100(bad)


def test_garbage_file_is_refused(tmp_path):
    bad = tmp_path / "garbage.tar.gz"
    bad.write_bytes(b"this is not an archive" * 100)
    with pytest.raises(DataError, match="garbage.tar.gz"):
        load_cifar100(bad)


def test_archive_without_expected_files(tmp_path):
    bad = make_archive(tmp_path / "other.tar.gz", {"readme": {b"x": 1}})
    with pytest.raises(DataError, match="lacks"):
        load_cifar100(bad)


def test_folder_without_expected_files(tmp_path):
    (tmp_path / "train").write_bytes(b"")
    with pytest.raises(DataError, match="meta, train and test"):
        load_cifar100(tmp_path)


def test_pickle_of_wrong_kind_names_the_file(tmp_path):
    files = {"meta": [1, 2, 3], "train": {b"data": 1}, "test": {b"data": 1}}
    with pytest.raises(DataError, match="meta"):
        load_cifar100(make_archive(tmp_path / "wrongkind.tar.gz", files))


def test_offline_without_path_explains(monkeypatch):
    import keras

    def offline(*args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.delenv("CIFAR100_PATH", raising=False)
    monkeypatch.setattr(keras.datasets.cifar100, "load_data", offline)
    with pytest.raises(DataError, match="Could not download.*CIFAR100_PATH"):
        load_cifar100()


def test_balanced_split_is_balanced_disjoint_and_seeded():
    labels = np.repeat(np.arange(10), 50)
    tr, va = balanced_split(labels, 100, seed=3)
    assert len(va) == 100 and len(tr) == 400
    assert set(tr).isdisjoint(va) and len(set(tr) | set(va)) == 500
    assert np.all(np.bincount(labels[va]) == 10)
    assert np.array_equal(va, balanced_split(labels, 100, seed=3)[1])
    assert not np.array_equal(va, balanced_split(labels, 100, seed=4)[1])
    with pytest.raises(ValueError, match="multiple"):
        balanced_split(labels, 105)


def test_protocols(tiny_archive):
    data = load_cifar100(tiny_archive)
    fit, val = protocol_splits(data.train, data.test, "reference")
    assert fit is data.train and val is data.test
    fit, val = protocol_splits(data.train, data.test, "heldout", val_size=100)
    assert len(fit) == 200 and len(val) == 100
    assert np.all(np.bincount(val.fine, minlength=100) == 1)
    with pytest.raises(ValueError, match="unknown protocol"):
        protocol_splits(data.train, data.test, "test-set")
    sub = balanced_subset(data.train, 2)
    assert len(sub) == 200 and np.all(np.bincount(sub.fine) == 2)


def test_scaling_round_trips_and_checks():
    x = np.arange(256, dtype=np.uint8).repeat(12)[: 32 * 32 * 3].reshape(1, 32, 32, 3)
    f = to_float(x)
    assert f.dtype == np.float32 and f.max() <= 1.0
    assert np.array_equal(to_uint8(f), x)
    with pytest.raises(ValueError, match="uint8"):
        to_float(f)
    with pytest.raises(ValueError, match="floats"):
        to_uint8(x)


# --- the real archive (CI sets CIFAR100_PATH) -------------------------------------------


def test_real_counts_and_balance(real_data):
    assert real_data.train.images.shape == (50000, 32, 32, 3)
    assert real_data.test.images.shape == (10000, 32, 32, 3)
    assert np.all(np.bincount(real_data.train.fine) == 500)
    assert np.all(np.bincount(real_data.test.fine) == 100)
    assert np.all(np.bincount(real_data.train.coarse) == 2500)
    assert real_data.fine_names[19] == "cattle" and real_data.fine_names[49] == "mountain"


def test_real_known_image(real_data):
    # Official train image 0, bos_taurus_s_000507.png (cattle), sits at class 19, rank 0.
    img = real_data.train.images[19]
    assert real_data.train.fine[19] == 19
    assert np.all(img[0, :17] == 255)
    assert img[0, 17:21].tolist() == [[255, 252, 248], [231, 222, 213], [176, 168, 163], [237, 236, 235]]
    assert img.reshape(-1, 3)[-3:, 2].tolist() == [10, 59, 79]


def test_real_pixels_hash(real_data):
    assert hashlib.sha256(real_data.test.images.tobytes()).hexdigest() == (
        "94a0aac5b40d9d28779a4ec4e5cd63aab833736aa10c400b2e1d2055271d8761")


# --- damaged or malformed archives (each a DataError naming the file and the check) ----------

def _tiny_files():
    from conftest import _batch

    return {"meta": {b"fine_label_names": [f"c{i}".encode() for i in range(100)],
                     b"coarse_label_names": [f"s{i}".encode() for i in range(20)]},
            "train": _batch(1, 1, b"train"), "test": _batch(1, 2, b"test")}


def test_a_flipped_or_missing_byte_fails_the_gzip_check(tiny_archive, tmp_path):
    blob = tiny_archive.read_bytes()
    for i, damaged in enumerate((blob[:-1], blob[: len(blob) // 2] + bytes([blob[len(blob) // 2] ^ 1]) + blob[len(blob) // 2 + 1:])):
        (tmp_path / f"d{i}.tar.gz").write_bytes(damaged)
        with pytest.raises(DataError, match=f"d{i}.tar.gz.*(corrupt|truncated)"):
            load_cifar100(tmp_path / f"d{i}.tar.gz")


@pytest.mark.parametrize("change, message", [
    (lambda f: f["train"].update({b"data": f["train"][b"data"].astype(np.float32)}), "pixels are float32"),
    (lambda f: f["train"].update({b"data": f["train"][b"data"].astype(np.int64)}), "pixels are int64"),
    (lambda f: f["test"].update({b"coarse_labels": [-3] + f["test"][b"coarse_labels"][1:]}), "out of range"),
    (lambda f: f["meta"].update({b"fine_label_names": [b"one"]}), "names 1 fine"),
    (lambda f: f["train"].update({b"fine_labels": f["train"][b"fine_labels"][:-1]}), "labels"),
])
def test_malformed_content_is_refused(tmp_path, change, message):
    from conftest import make_archive

    files = _tiny_files()
    change(files)
    with pytest.raises(DataError, match=message):
        load_cifar100(make_archive(tmp_path / "m.tar.gz", files))


def test_a_member_that_is_a_folder_is_refused(tmp_path):
    import io
    import tarfile

    path = tmp_path / "f.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name in ("meta", "test"):
            blob = b"x"
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = 1
            tar.addfile(info, io.BytesIO(blob))
        d = tarfile.TarInfo("cifar-100-python/train")
        d.type = tarfile.DIRTYPE
        tar.addfile(d)
    with pytest.raises(DataError, match="train is not a file"):
        load_cifar100(path)


def test_a_subset_loads_with_a_warning(tiny_archive):
    from cae_helpers.data import DataWarning

    with pytest.warns(DataWarning, match="not the official"):
        load_cifar100(tiny_archive)


def test_real_archive_matches_the_official_content_digest(real_data):
    from cae_helpers.data import OFFICIAL_DIGEST, content_digest

    assert content_digest(real_data) == OFFICIAL_DIGEST
