"""Probe: training images/s with Keras' own convolutions against the FastConv2D pair (`cae_helpers.conv_grads`).

    CIFAR100_PATH=/path/to/cifar-100-python.tar.gz python tools/conv_grads_probe.py 5000 --passes 3 \
        | tee results/speed/amd-epyc-zen2/conv-grads-probe.log

For each model the training loops use (the reference autoencoder with `train`'s fast path, batch 128; one factorised
codec and the default hyperprior codec with `train-codec`'s batches, batch 32), one epoch of the first N training
images after an untimed warm-up, best of 2 (bench speed's own functions), with the stock convolutions and with the
fast ones, measured in turn `--passes` times (interleaved, so a drift in the machine's speed touches all alike); then
each one's median and the speed-up. The precision is what `--precision auto` picks on this CPU (the forward-conv forms
apply in float32 only, so where it picks bfloat16 both columns run the same ops).
"""

import argparse
import contextlib
import platform
import statistics

from cae_helpers import hyperprior, learned, models
from cae_helpers.bench import speed
from cae_helpers.data import load_cifar100
from cae_helpers.io import versions
from cae_helpers.layers import conv_layers
from cae_helpers.training import resolve_precision

KINDS = ("reference", "factorised", "hyperprior")


@contextlib.contextmanager
def stock_convs():
    """Every model built inside gets Keras' own Conv2D / Conv2DTranspose, whatever its builder asks for."""
    saved = [(m, m.conv_layers) for m in (models, learned, hyperprior)]
    for m, _ in saved:
        m.conv_layers = lambda fast: conv_layers(False)
    try:
        yield
    finally:
        for m, f in saved:
            m.conv_layers = f


def rate(images, kind: str) -> float:
    """Training images/s of one model kind, as bench speed measures it."""
    if kind == "reference":
        return speed.train_throughput(images, fast=True)
    return speed.codec_train_throughput(images, kind)


def main(n: int, passes: int) -> None:
    import warnings

    warnings.filterwarnings("ignore", message="The structure of `inputs`")
    images = load_cifar100().train.images[:n]
    print(f"# {platform.processor() or platform.machine()}, precision {resolve_precision('auto')}, {n} images, "
          f"versions {versions()}", flush=True)
    runs = []
    for p in range(passes):
        print(f"## pass {p + 1} of {passes}", flush=True)
        run = {}
        for kind in KINDS:
            with stock_convs():
                run[(kind, "stock")] = rate(images, kind)
            run[(kind, "fast")] = rate(images, kind)
            print(f"{kind}: stock {run[(kind, 'stock')]:.1f}, fast {run[(kind, 'fast')]:.1f} images/s", flush=True)
        runs.append(run)
    print(f"## medians of {passes} passes")
    med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    for kind in KINDS:
        ups = sorted(r[(kind, "fast")] / r[(kind, "stock")] for r in runs)
        print(f"{kind}: stock {med[(kind, 'stock')]:.1f}, fast {med[(kind, 'fast')]:.1f} images/s, "
              f"{med[(kind, 'fast')] / med[(kind, 'stock')]:.2f}x (per pass {ups[0]:.2f}-{ups[-1]:.2f}x)")
    for conv in ("stock", "fast"):
        print(f"hyperprior / factorised, {conv}: {med[('hyperprior', conv)] / med[('factorised', conv)]:.2f}x")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("images", type=int, nargs="?", default=5000, help="first N CIFAR-100 training images")
    p.add_argument("--passes", type=int, default=3, help="measure everything this many times, interleaved; print medians")
    args = p.parse_args()
    main(args.images, args.passes)
