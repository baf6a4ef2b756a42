"""Training commands restart themselves with TensorFlow's oneDNN kernels where TensorFlow leaves them off."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cae_helpers.cli import TRAINING_COMMANDS, onednn_restart_wanted

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", TRAINING_COMMANDS)
def test_training_commands_restart_only_without_a_choice_or_onednn(command):
    facts = dict(command=command, environ={}, backend="tensorflow", onednn=False, gpu=False)
    assert onednn_restart_wanted(**facts) == (os.name == "posix")
    assert not onednn_restart_wanted(**facts | {"environ": {"TF_ENABLE_ONEDNN_OPTS": "0"}})  # the user's choice
    assert not onednn_restart_wanted(**facts | {"environ": {"TF_ENABLE_ONEDNN_OPTS": "1"}})  # also the restarted process
    assert not onednn_restart_wanted(**facts | {"onednn": True})  # TensorFlow turned them on already (AVX-512, AMX)
    assert not onednn_restart_wanted(**facts | {"backend": "jax"})
    assert not onednn_restart_wanted(**facts | {"gpu": True})


@pytest.mark.parametrize("command", ["compress", "decompress", "evaluate", "export-codec", "bench"])
def test_coding_and_measuring_commands_never_restart(command):
    assert not onednn_restart_wanted(command, {}, "tensorflow", False, False)


def _env() -> dict:
    """This environment without a oneDNN choice, on TensorFlow."""
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    return env | {"KERAS_BACKEND": "tensorflow", "PYTHONPATH": str(ROOT)}


def _onednn_by_default() -> bool:
    """Whether TensorFlow turns oneDNN's kernels on by itself on this CPU (a fresh process, no choice made)."""
    probe = "from tensorflow.python.util import _pywrap_util_port as p; print(p.IsMklEnabled())"
    done = subprocess.run([sys.executable, "-c", probe], env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip() == "True"


def _train_codec(archive: Path, out: Path, extra: list[str]) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "cae_helpers", "train-codec", "--data", str(archive), "--out", str(out),
            "--filters", "8", "--latent-channels", "8", "--hyper-filters", "8", "--hyper-channels", "4",
            "--lambdas", "0.001,0.01", "--batch-size", "16", "--precision", "float32", *extra]
    done = subprocess.run(args, env=_env(), capture_output=True, text=True, timeout=600, cwd=out.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64") or os.name != "posix",
                    reason="TensorFlow's oneDNN kernels: x86 builds; the restart: POSIX only")
def test_train_codec_trains_with_onednn_and_resumes_exactly(tiny_archive, tmp_path):
    """`python -m cae_helpers train-codec` runs with oneDNN on (restarted if TensorFlow left it off), and a
    time-limited sitting resumed ends where one straight run does: oneDNN's kernels do not cost exact resumption."""
    straight = _train_codec(tiny_archive, tmp_path / "straight", ["--epochs", "2"])
    _train_codec(tiny_archive, tmp_path / "resumed", ["--epochs", "2", "--time-limit", "0.00001"])  # stops after epoch 1
    _train_codec(tiny_archive, tmp_path / "resumed", ["--epochs", "2"])
    sittings = [s for d in ("straight", "resumed") for s in json.loads((tmp_path / d / "sittings.json").read_text())]
    assert len(sittings) == 3 and all(s["versions"]["tensorflow_onednn"] == "True" for s in sittings)
    assert ("restarting with TF_ENABLE_ONEDNN_OPTS=1" in straight.stderr) == (not _onednn_by_default())
    a, b = (json.loads((tmp_path / d / "history.json").read_text()) for d in ("straight", "resumed"))
    assert b["resumed_from_epoch"] == 1 and b["epochs_done"] == 2 and b["finished"]
    drop_times = lambda h: {k: v for k, v in h.items() if k != "epoch_time_s"}  # noqa: E731
    assert drop_times(a["history"]) == drop_times(b["history"])
    with np.load(tmp_path / "straight" / "weights.npz") as fa, np.load(tmp_path / "resumed" / "weights.npz") as fb:
        assert fa.files == fb.files
        for k in fa.files:
            np.testing.assert_array_equal(fa[k], fb[k])
