"""A/B: the same `train-codec` run with Keras' own convolutions and with the FastConv2D pair (same seed and batches).

    CIFAR100_PATH=/path/to/cifar-100-python.tar.gz python tools/conv_grads_ab.py runs/conv-ab --epochs 2 -- \
        --init-from cae_helpers/zoo/hyperprior-continuous --coded-channels 40 --continuous-levels --large-patch 64 \
        --learning-rate 3e-5 --decay-at 1

Runs `python -m cae_helpers train-codec --out OUT/stock --epochs E` with every convolution Keras' own, then the same
into OUT/fast as the command line trains today (arguments after `--` go to both); each run's history.json
holds its losses and each epoch's wall time; printed side by side (the validation loss as train-codec computes it, in
the run's precision, float32 on a CPU without 16-bit units).
"""

import argparse
import json
import os
import sys
from pathlib import Path

from conv_grads_probe import stock_convs

from cae_helpers import cli


def train(out: Path, epochs: int, extra: list[str]) -> dict:
    """One train-codec run (skipped if OUT already holds a finished one); its history."""
    argv = ["train-codec", "--data", os.environ["CIFAR100_PATH"], "--out", str(out), "--epochs", str(epochs)] + extra
    if not (out / "history.json").exists():
        cli.main(argv)
    return json.loads((out / "history.json").read_text())


def main(out: Path, epochs: int, extra: list[str]) -> None:
    with stock_convs():
        stock = train(out / "stock", epochs, extra)
    fast = train(out / "fast", epochs, extra)
    for name, run in (("stock", stock), ("fast", fast)):
        h = run["history"]
        print(f"{name}: val_loss per epoch {[round(v, 4) for v in h['val_loss']]} (best epoch {run['best_epoch']}), "
              f"s per epoch {[round(t) for t in h['epoch_time_s']]}, {run['steps_done']} steps")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="folder for the two runs (OUT/stock, OUT/fast)")
    p.add_argument("--epochs", type=int, default=3)
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args = p.parse_args(argv[:cut])  # what follows "--" goes to train-codec as it is
    main(args.out, args.epochs, argv[cut + 1:])
