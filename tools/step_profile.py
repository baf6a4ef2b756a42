"""Where one training step's time goes: TensorFlow's profiler on the default codec and one factorised model.

    pip install tensorboard-plugin-profile   # the profiler's reader (xprof); a profiling-only dependency
    CIFAR100_PATH=../shared/data/cifar-100-python.tar.gz python tools/step_profile.py > results/speed/intel-f6m167/step-profile.log

Per model: batch 32 of CIFAR-100 training images, mixed precision where `auto` picks it, fused Adam (as
`bench speed`); one untimed epoch of --steps steps (tracing), one timed, one profiled. Prints the step time and
each part's and layer's share of the profiled op time (idle excluded). The profiler adds its own cost, and a
shared machine (steal time) stretches every op: read the shares, not the speeds.
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import tempfile
import time
from collections import Counter

import keras
import numpy as np


def build(kind: str):
    """A compiled model of `kind` ("hyperprior": the default codec's architecture; "factorised": lambda 0.01)."""
    from cae_helpers.codec import DEFAULT_MODEL, ZOO
    from cae_helpers.hyperprior import build_hyperprior, load_config
    from cae_helpers.learned import build_rd_model
    from cae_helpers.optimizers import FusedAdam
    from cae_helpers.training import resolve_precision

    keras.utils.set_random_seed(0)
    dtype = resolve_precision("auto")
    # training=True: the output convolutions compute as train-codec runs them (the recorded output_precision)
    model = (build_hyperprior(load_config(ZOO / DEFAULT_MODEL), dtype=dtype, training=True) if kind == "hyperprior"
             else build_rd_model(0.01, dtype=dtype, training=True))
    model.compile(optimizer=FusedAdam(3e-4, global_clipnorm=100.0))
    return model


def op_rows(logdir: str) -> list[dict]:
    """The profiled ops (type, name, self time in microseconds), idle excluded."""
    from xprof.convert import raw_to_tool_data

    data, _ = raw_to_tool_data.xspace_to_tool_data(glob.glob(f"{logdir}/plugins/profile/*/*.xplane.pb"), "framework_op_stats", {})
    table = json.loads(data)[0]
    cols = [c["id"] for c in table["cols"]]
    rows = [dict(zip(cols, [c["v"] if c else None for c in r["c"]])) for r in table["rows"]]
    return [r for r in rows if r["type"] != "IDLE"]


def shares(rows: list[dict]) -> tuple[Counter, Counter]:
    """Self time by part (analysis, synthesis, hyper_analysis, ...) and by layer, as fractions of the total."""
    total = sum(r["total_self_time"] for r in rows)
    parts, layers = Counter(), Counter()
    for r in rows:
        m = re.search(r"model_\d+/(\w+?)_\d+/(?:(\w+?)_\d+/)?", r["operation"])  # .../<model>_1/<part>_1/<layer>_1/...
        part, layer = (m.group(1), f"{m.group(1)}/{m.group(2) or r['type']}") if m else ("other", f"other: {r['type']}")
        parts[part] += r["total_self_time"] / total
        layers[layer] += r["total_self_time"] / total
    return parts, layers


def profile(kind: str, x: np.ndarray, steps: int) -> None:
    """Print one model's step time and the shares of its parts and top layers."""
    import tensorflow as tf

    model = build(kind)
    data = tf.data.Dataset.from_tensors((x, x)).repeat(steps)
    model.fit(data, epochs=1, verbose=0)  # tracing
    start = time.perf_counter()
    model.fit(data, epochs=1, verbose=0)
    print(f"## {kind}: {(time.perf_counter() - start) / steps * 1000:.1f} ms a step of {len(x)} images", flush=True)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        model.fit(data, epochs=1, verbose=0)
        tf.profiler.experimental.stop()
        parts, layers = shares(op_rows(logdir))
    print("by part: " + ", ".join(f"{k} {v:.1%}" for k, v in parts.most_common()))
    for name, share in layers.most_common(16):
        print(f"  {share:6.1%}  {name}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    p.add_argument("--steps", type=int, default=40, help="steps per epoch (default 40)")
    args = p.parse_args()
    from cae_helpers.data import load_cifar100
    from cae_helpers.io import versions
    from cae_helpers.pixels import to_float

    x = to_float(load_cifar100(args.data).train.images[:32])
    print(f"# command: python tools/step_profile.py --steps {args.steps}; versions: {json.dumps(versions())}")
    for kind in ("hyperprior", "factorised"):
        profile(kind, x, args.steps)


if __name__ == "__main__":
    main()
