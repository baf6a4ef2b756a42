"""A training run killed part-way resumes from its checkpoint and ends with the same weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from cae_helpers import load_autoencoder

JOB = Path(__file__).with_name("resume_job.py")
ROOT = JOB.parents[1]


def _start(out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.Popen([sys.executable, str(JOB), str(out)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-2000:]


def _kill_after_epoch(out: Path, epoch: int) -> None:
    proc = _start(out)
    state = out / "backup" / "state.json"
    deadline = time.time() + 400
    while time.time() < deadline and proc.poll() is None:
        if state.is_file() and json.loads(state.read_text())["epoch"] >= epoch:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"


def test_killed_run_resumes_to_identical_weights(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    uninterrupted = _start(whole)  # beside the killed run: deterministic ops make the weights independent of timing
    try:
        _kill_after_epoch(killed, 2)
        assert not (killed / "autoencoder.keras").exists()
        first_sitting = json.loads((killed / "backup" / "state.json").read_text())["train_seconds"]
        # a kill in the middle of a write leaves only a temporary file, which resuming ignores
        (killed / "backup" / ".tmp-x1-epoch0009.weights.h5").write_bytes(b"half a file")
        _finish(_start(killed))
        _finish(uninterrupted)
    finally:
        uninterrupted.kill()  # no-op once it has finished

    a, b = (json.loads((d / "history.json").read_text()) for d in (whole, killed))
    assert b["resumed_from_epoch"] >= 2 and a["resumed_from_epoch"] == 0
    # the resumed run's training time counts the killed sitting's too
    assert 0 < first_sitting < b["train_seconds_all_sittings"] and a["train_seconds_all_sittings"] > 0
    assert a["history"] == b["history"] and a["best_epoch"] == b["best_epoch"]
    wa, wb = (load_autoencoder(d / "autoencoder.keras")[0].get_weights() for d in (whole, killed))
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb))
    assert not (killed / "backup").exists()
