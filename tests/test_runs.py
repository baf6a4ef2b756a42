"""Runs that clash or find a damaged checkpoint: a lock per output folder, settings checked on resume, clear errors."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from cae_helpers import Split, TrainConfig, train
from cae_helpers.errors import CheckpointError, RunLockedError, SettingsMismatchError
from cae_helpers.training.loop import RunLock

CFG = dict(epochs=2, batch_size=64, precision="float32", protocol="heldout", patience=5)


@pytest.fixture(scope="module")
def splits():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (256, 32, 32, 3), dtype=np.uint8)
    fine = np.arange(256) % 100
    return Split(images[:192], fine[:192], fine[:192] // 5), Split(images[192:], fine[192:], fine[192:] // 5)


class Killed(Exception):
    pass


class KillAtSecondEpoch(keras.callbacks.Callback):
    """Stands in for a kill: the first epoch is checkpointed, then the process 'dies'."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise Killed


def _partial_run(splits, out, **changes):
    fit, val = splits
    with pytest.raises(Killed):
        train(TrainConfig(**(CFG | changes)), fit, val, out, verbose=0, callbacks=[KillAtSecondEpoch()])
    assert (out / "backup" / "state.json").is_file() and not (out / ".lock").exists()


def test_a_second_run_on_the_same_folder_is_refused(splits, tmp_path):
    fit, val = splits
    with RunLock(tmp_path):
        with pytest.raises(RunLockedError, match="in use by process"):
            train(TrainConfig(**CFG), fit, val, tmp_path, verbose=0)
    assert not (tmp_path / ".lock").exists()


def test_a_stale_lock_is_taken_over(splits, tmp_path):
    (tmp_path / ".lock").write_text(json.dumps({"pid": 2**22 + 12345, "host": __import__("socket").gethostname(), "since": "x"}))
    fit, val = splits
    assert train(TrainConfig(**CFG), fit, val, tmp_path, verbose=0).epochs_run == 2


def test_resuming_with_other_settings_is_refused(splits, tmp_path):
    _partial_run(splits, tmp_path)
    fit, val = splits
    with pytest.raises(SettingsMismatchError, match="learning_rate"):
        train(TrainConfig(**(CFG | {"learning_rate": 0.01})), fit, val, tmp_path, verbose=0)


@pytest.mark.parametrize("damage", ["state", "weights"])
def test_a_damaged_checkpoint_names_the_folder_and_the_ways_out(splits, tmp_path, damage):
    _partial_run(splits, tmp_path)
    backup = tmp_path / "backup"
    if damage == "state":
        (backup / "state.json").write_text("{")
    else:
        weights = next(backup.glob("epoch*.weights.h5"))
        weights.write_bytes(weights.read_bytes()[:100])
    fit, val = splits
    with pytest.raises(CheckpointError, match="damaged.*--fresh"):
        train(TrainConfig(**CFG), fit, val, tmp_path, verbose=0)


def test_cli_fresh_moves_the_old_checkpoint_aside(tiny_archive, tmp_path, capsys):
    from cae_helpers.cli import main

    out = tmp_path / "run"
    (out / "backup").mkdir(parents=True)
    (out / "backup" / "state.json").write_text("{")  # damaged: without --fresh the run would stop with a message
    args = ["train", "--data", str(tiny_archive), "--out", str(out), "--smoke", "2", "--epochs", "1", "--precision", "float32"]
    assert main(args) == 2 and "damaged" in capsys.readouterr().err
    assert main(args + ["--fresh"]) == 0
    assert len(list(out.glob("backup-old-*"))) == 1 and (out / "metrics.json").is_file()


def test_a_finished_run_is_loaded_not_trained_again(splits, tmp_path):
    fit, val = splits
    first = train(TrainConfig(**CFG), fit, val, tmp_path, verbose=0)
    saved = (tmp_path / "autoencoder.keras").stat().st_mtime_ns, (tmp_path / "history.json").read_text()
    again = train(TrainConfig(**CFG), fit, val, tmp_path, verbose=0, callbacks=[KillAtSecondEpoch()])  # no epoch runs
    assert again.loaded_from == str(tmp_path) and "loaded, not trained again" in again.summary(len(fit))
    assert again.record()["loaded_finished_run_from"] == str(tmp_path) and "loaded_finished_run_from" not in first.record()
    assert (again.epochs_run, again.best_epoch, again.history) == (first.epochs_run, first.best_epoch, first.history)
    assert ((tmp_path / "autoencoder.keras").stat().st_mtime_ns, (tmp_path / "history.json").read_text()) == saved
    x = val.images[:8].astype("float32") / 255
    np.testing.assert_array_equal(again.autoencoder.predict(x, verbose=0), first.autoencoder.predict(x, verbose=0))


def test_a_finished_run_with_other_settings_is_refused_unless_retrained(splits, tmp_path):
    fit, val = splits
    train(TrainConfig(**CFG), fit, val, tmp_path, verbose=0)
    saved = (tmp_path / "history.json").read_text()
    with pytest.raises(SettingsMismatchError, match="finished run.*epochs: 2 there, 1 now.*retrain=True"):
        train(TrainConfig(**(CFG | {"epochs": 1})), fit, val, tmp_path, verbose=0)
    with pytest.raises(SettingsMismatchError, match="fit_images: 192 there, 128 now"):
        train(TrainConfig(**CFG), Split(fit.images[:128], fit.fine[:128], fit.coarse[:128]), val, tmp_path, verbose=0)
    assert (tmp_path / "history.json").read_text() == saved
    redone = train(TrainConfig(**(CFG | {"epochs": 1})), fit, val, tmp_path, verbose=0, retrain=True)
    assert redone.loaded_from is None and json.loads((tmp_path / "history.json").read_text())["epochs_run"] == 1
