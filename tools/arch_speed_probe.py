"""Probe: training images/s of hyperprior variants beside one factorised model (same batches as bench speed).

    CIFAR100_PATH=/path/to/cifar-100-python.tar.gz python tools/arch_speed_probe.py 4000 > results/speed/amd-epyc/arch-probe.log
    CIFAR100_PATH=... python tools/arch_speed_probe.py 4000 shipped latent_channels=64,hyper_channels=32   # chosen variants
    CIFAR100_PATH=... python tools/arch_speed_probe.py 4000 shipped coded_channels=40 --passes 3   # interleaved, medians
    CIFAR100_PATH=... python tools/arch_speed_probe.py 4000 output_precision=float32 coded_channels=40 --passes 3

Each variant is a HyperpriorConfig override ("name key=value ..."), over the default codec's recorded config
(whose output_precision is the default, "compute", unless overridden); batch 32, mixed precision where `auto`
picks it, best of 2 timed epochs of the first N training images after an untimed warm-up, no validation.
Prints one line per variant with its forward multiply-adds per 32x32 image (counted from the layers' shapes).
With --passes P the factorised model and the variants are measured in turn P times (interleaved, so a drift in
the machine's speed touches all of them alike), then each one's median and its ratio to the factorised model's.
"""

import argparse
import json
import statistics

import numpy as np

from cae_helpers import hyperprior
from cae_helpers.codec import DEFAULT_MODEL, ZOO
from cae_helpers.bench import speed
from cae_helpers.data import load_cifar100

VARIANTS = {
    "shipped": {},
    "hyper_kernel=1": {"hyper_kernel": 1},
    "hyper_kernel=1 hyper_channels=32": {"hyper_kernel": 1, "hyper_channels": 32},
    "hyper_kernel=1 hyper_channels=32 hyper_filters=64": {"hyper_kernel": 1, "hyper_channels": 32, "hyper_filters": 64},
}


def forward_macs(model) -> int:
    """Multiply-adds of the four transforms' convolutions for one 32x32 image (GDN's 1x1 included)."""
    total = 0
    for part in (model.analysis, model.synthesis, model.hyper_analysis, model.hyper_synthesis):
        for layer in part.layers:
            if layer.weights:
                total += _layer_macs(part, layer)
    return total


def _layer_macs(part, layer) -> int:
    """One layer's multiply-adds, its input and output sizes read off a probe model at 32x32 image size."""
    import keras

    kernel = next((w.shape for w in layer.weights if len(w.shape) >= 2), None)
    if kernel is None:  # no kernel (a bias-only layer): no multiply-adds to count
        return 0
    probe = keras.Model(part.inputs, [layer.input, layer.output])
    size = {"analysis": 32, "synthesis": 8, "hyper_analysis": 8, "hyper_synthesis": 2}[part.name]
    channels = part.inputs[0].shape[-1]
    inp, out = probe(np.zeros((1, size, size, channels), np.float32))
    if len(kernel) == 4:
        kh, kw = kernel[0], kernel[1]
        cin, cout = inp.shape[-1], out.shape[-1]
        positions = inp.shape[1] * inp.shape[2] if "Transpose" in type(layer).__name__ else out.shape[1] * out.shape[2]
        return int(positions * kh * kw * cin * cout)
    return int(out.shape[1] * out.shape[2] * kernel[0] * kernel[1])  # GDN: a 1x1 convolution over channels


def parse_variant(text: str) -> dict:
    """"shipped" or "key=value,key=value" (integers, or words such as output_precision=float32) -> a HyperpriorConfig override."""
    if text == "shipped":
        return {}
    return {k: int(v) if v.isdigit() else v for k, v in (item.split("=") for item in text.split(","))}


def one_pass(images: np.ndarray, variants: dict) -> dict[str, float]:
    """Training images/s of the factorised model, then of each variant; printed as measured."""
    rates = {"factorised": speed.codec_train_throughput(images, "factorised")}
    print(f"factorised: {rates['factorised']:.0f} images/s", flush=True)
    original = hyperprior.HyperpriorConfig
    recorded = json.loads((ZOO / DEFAULT_MODEL / "config.json").read_text())["config"]
    for name, override in variants.items():
        # the override wins over the default codec's recorded config, which bench speed loads through this name
        hyperprior.HyperpriorConfig = lambda **kw: original(**(kw | override))
        try:
            macs = forward_macs(hyperprior.build_hyperprior(original(**(recorded | override))))
            rates[name] = speed.codec_train_throughput(images, "hyperprior")
        finally:
            hyperprior.HyperpriorConfig = original
        print(f"{name}: {rates[name]:.0f} images/s, {macs / 1e6:.1f} M multiply-adds forward", flush=True)
    return rates


def main(n: int, variants: dict, passes: int = 1) -> None:
    import warnings

    warnings.filterwarnings("ignore", message="The structure of `inputs`")
    images = load_cifar100().train.images[:n]
    runs = []
    for p in range(passes):
        if passes > 1:
            print(f"## pass {p + 1} of {passes}", flush=True)
        runs.append(one_pass(images, variants))
    if passes > 1:
        medians = {name: statistics.median(r[name] for r in runs) for name in runs[0]}
        print(f"## medians of {passes} passes")
        for name, rate in medians.items():
            ratios = sorted(r[name] / r["factorised"] for r in runs)
            print(f"{name}: {rate:.0f} images/s, {rate / medians['factorised']:.2f}x the factorised model's "
                  f"(per pass {ratios[0]:.2f}-{ratios[-1]:.2f}x)")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("images", type=int, nargs="?", default=5000, help="first N CIFAR-100 training images")
    p.add_argument("variants", nargs="*", help='"shipped" or key=value,key=value HyperpriorConfig overrides (default: a set)')
    p.add_argument("--passes", type=int, default=1, help="measure everything this many times, interleaved; print medians")
    args = p.parse_args()
    main(args.images, {v: parse_variant(v) for v in args.variants} or VARIANTS, args.passes)
