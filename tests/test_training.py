"""Training wrapper: config checks, outputs on disk, weight choice, determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cae_helpers import Split, TrainConfig, train
from cae_helpers.training import resolve_precision
from cae_helpers.training.reference import TrainResult


def _split(n, seed):
    rng = np.random.default_rng(seed)
    fine = np.arange(n) % 100
    return Split(rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), fine, fine // 5)


@pytest.fixture(scope="module")
def splits():
    return _split(256, 0), _split(64, 1)


def test_config_defaults_are_the_reference_recipe():
    c = TrainConfig()
    assert (c.epochs, c.batch_size, c.learning_rate, c.patience, c.latent_dim) == (50, 128, 1e-3, 5, 128)
    assert c.protocol == "reference" and c.keep_best is False
    assert TrainConfig(protocol="heldout").keep_best is True
    assert TrainConfig(protocol="reference", restore_best=True).keep_best is True


@pytest.mark.parametrize("kwargs, match", [({"protocol": "test"}, "protocol"), ({"model": "vae"}, "model"),
                                           ({"precision": "fp8"}, "precision"), ({"epochs": 0}, "epochs")])
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_precision_auto_follows_the_cpu(monkeypatch):
    from cae_helpers.training import loop

    assert resolve_precision("float32") == "float32" and resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    for kind, expected in (("amx", "mixed_bfloat16"), ("avx512_bf16", "mixed_bfloat16"), (None, "float32")):
        monkeypatch.setattr(loop, "cpu_bf16_kind", lambda k=kind: k)
        assert resolve_precision("auto") == expected
    monkeypatch.setitem(loop.BF16_FASTER, "avx512_bf16", False)  # where measurement says float32 is faster
    monkeypatch.setattr(loop, "cpu_bf16_kind", lambda: "avx512_bf16")
    assert resolve_precision("auto") == "float32"


def test_train_writes_history_model_and_restores_best(splits, tmp_path):
    fit, val = splits
    cfg = TrainConfig(epochs=3, batch_size=64, protocol="heldout", precision="float32", patience=5)
    res = train(cfg, fit, val, tmp_path, verbose=0)
    assert res.epochs_run == 3 and len(res.history["loss"]) == 3
    assert 1 <= res.best_epoch <= 3
    saved = json.loads((tmp_path / "history.json").read_text())
    assert saved["config"]["keep_best"] is True and saved["history"]["val_loss"] == res.history["val_loss"]
    assert res.resumed_from == 0 and 0 < res.train_seconds <= res.wall_time_s == saved["train_wall_time_s"]
    assert (tmp_path / "autoencoder.keras").is_file() and (tmp_path / "history.csv").is_file()
    assert not (tmp_path / "backup").exists()  # the resumable checkpoint goes once the run is finished
    # the weights kept are the best epoch's: their validation loss is the minimum seen
    x = val.images.astype(np.float32) / 255
    val_loss = float(np.mean((res.autoencoder.predict(x, verbose=0) - x) ** 2))
    assert val_loss == pytest.approx(min(res.history["val_loss"]), rel=1e-3)


def _result(resumed_from, train_seconds, wall=60.0):
    return TrainResult(None, None, None, {}, 10, 7, wall, resumed_from, train_seconds)


def test_train_summary_counts_every_sitting_and_says_when_it_cannot():
    assert _result(0, 120.0).summary(600) == "10 epochs in 2.0 min of training (50 images/s); best epoch 7"
    assert _result(4, 300.0).summary(600) == "10 epochs (resumed after epoch 4) in 5.0 min of training (20 images/s); best epoch 7"
    # a checkpoint from before the time was kept: only this sitting's 6 epochs in its 60 s are figures
    untimed = _result(4, None)
    assert untimed.images_per_s(600) == pytest.approx(60.0)
    assert _result(10, None).images_per_s(600) is None  # a finished, untimed run resumed: no epoch ran, no figure
    assert untimed.summary(600) == ("10 epochs (resumed after epoch 4); this sitting: 6 epochs in 1.0 min "
                                    "(60 images/s; earlier sittings not timed); best epoch 7")


def test_same_seed_same_weights(splits):
    fit, val = splits
    cfg = TrainConfig(epochs=1, batch_size=64, precision="float32", seed=7, deterministic=True)
    a = train(cfg, fit, val, verbose=0).autoencoder.get_weights()
    b = train(cfg, fit, val, verbose=0).autoencoder.get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
