"""Probe: how much of the shipped codec's latent is predictable from already decoded neighbours (what a context model could use).

    python tools/context_probe.py ../shared/data/cifar-100-python.tar.gz > results/context-probe/probe.log

On 1,000 CIFAR-100 test images (10 per class), at qualities 1, 4 and 7: the share of latent values that carry
bits (sigma > 0.7), then, over those, the normalised residual r = (y - mu) / sigma and how well a linear
least-squares predictor recovers it from (a) the four same-channel spatial neighbours' decoded residuals (what
a checkerboard context sees) and (b) the first quarter of the channels at the same position (what the second
and later slices of a 4-slice channel context see), and how |r| correlates with its neighbours' mean |r|
(a scale context's signal). R2 near 0 means the hyperprior already explains what the neighbours could.
"""

import sys

import numpy as np

from cae_helpers.codec import ZOO, HyperpriorCodec
from cae_helpers.data import balanced_subset, load_cifar100
from cae_helpers.pixels import to_float


def probe(codec: HyperpriorCodec, images: np.ndarray, quality: int) -> str:
    """One line of figures for one quality."""
    level = quality - 1
    y, z = codec.gained_latents(to_float(images), level)
    sym, _, z_sym, mu = codec._quantised(y, z, level)
    sigma = codec.hyper_parameters(z_sym + codec.z_low, level)[1]
    active = sigma > 0.7
    r = np.where(active, (y - mu) / sigma, 0)  # (N, 8, 8, M)
    r_hat = np.where(active, sym / sigma, 0)  # what the decoder knows of each decoded value
    inner = active[:, 1:-1, 1:-1].reshape(-1)
    target = r[:, 1:-1, 1:-1].reshape(-1)[inner]
    nb = np.stack([r_hat[:, :-2, 1:-1], r_hat[:, 2:, 1:-1], r_hat[:, 1:-1, :-2], r_hat[:, 1:-1, 2:]], -1).reshape(-1, 4)[inner]
    coef, *_ = np.linalg.lstsq(nb, target, rcond=None)
    r2_spatial = 1 - np.var(target - nb @ coef) / np.var(target)
    m = r.shape[-1]
    first = np.c_[r_hat[..., :m // 4].reshape(-1, m // 4), np.ones(r[..., 0].size)]
    rest = r[..., m // 4:].reshape(-1, m - m // 4)
    w, *_ = np.linalg.lstsq(first, rest, rcond=None)
    on = active[..., m // 4:].reshape(rest.shape)
    r2_channel = 1 - np.var((rest - first @ w)[on]) / np.var(rest[on])
    corr = np.corrcoef(np.abs(target), np.abs(nb).mean(-1))[0, 1]
    return (f"quality {quality}: values carrying bits {active.mean():.3f}; spatial R2 {r2_spatial:.4f}; "
            f"channel R2 {r2_channel:.4f}; corr(|r|, neighbours' mean |r|) {corr:.3f}")


def main(archive: str) -> None:
    codec = HyperpriorCodec.load(ZOO / "hyperprior")
    images = balanced_subset(load_cifar100(archive).test, 10).images
    import json

    from cae_helpers.io import versions

    print(f"# command: python tools/context_probe.py {archive}")
    print(f"# versions: {json.dumps(versions())}")
    for quality in (1, 4, 7):
        print(probe(codec, images, quality), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
