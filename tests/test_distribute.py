"""Training runs unchanged under tf.distribute.MirroredStrategy (two logical CPU devices)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

JOB = Path(__file__).with_name("distribute_job.py")


def test_mirrored_strategy_on_two_logical_cpus():
    env = dict(os.environ, PYTHONPATH=str(JOB.parents[1]), TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, str(JOB)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2
    assert len(out["history"]["loss"]) == 2 and all(math.isfinite(v) for v in out["history"]["val_loss"])
