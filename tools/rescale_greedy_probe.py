"""Would a cheaper `rescale="auto"` choose the same sizes? A probe, nothing built from it.

    python tools/rescale_greedy_probe.py --data ../shared/data/cifar-100-python.tar.gz --per-class 10 > results/rescale-probe/greedy.log

`auto` codes and decodes every image at 1, 3/4 and 1/2 of each side and keeps the least loss (bpp + lambda x
255^2 x MSE). The greedy variant would code 1/2 only for the images where 3/4 beat full size. Printed per quality,
on CIFAR test images (10 a class) and on scikit-learn's two photographs (never scikit-image's): how many images
the greedy variant would code at 1/2, how many of its choices differ from `auto`'s, and the loss that costs.
"""

from __future__ import annotations

import argparse

import numpy as np

from cae_helpers.bench.photos import sample_photos
from cae_helpers.codec import shipped_codec
from cae_helpers.data import balanced_subset, load_cifar100
from cae_helpers.io import versions
from cae_helpers.rescale import AUTO_SCALES16


def losses(codec, images: np.ndarray, q: int) -> np.ndarray:
    """(3, N): each image's loss at full size, 3/4 and 1/2 (`AUTO_SCALES16`), as `auto` measures it."""
    code, lmbda = codec.level16(q), codec.lmbda(codec.level16(q) / 16)
    return np.stack([codec._rescaled_losses(images, codec._rescaled_candidate(images, code, k, False)[2], lmbda)
                     for k in AUTO_SCALES16])


def report(name: str, costs: np.ndarray, q: int) -> None:
    """One line: the greedy choice against the full choice at quality q, from per-candidate losses (3, N)."""
    full = np.argmin(costs, axis=0)
    second = costs[1] < costs[0]  # 3/4 beat full size: only these would try 1/2
    greedy = np.where(second, full, 0)  # where 1/2 is tried all three were, so the choice is auto's
    differ = greedy != full
    extra = costs[greedy, np.arange(costs.shape[1])] - costs[full, np.arange(costs.shape[1])]
    print(f"{name:<10} q{q}: 1/2 tried for {second.mean():6.1%}, choices differ for {differ.sum():4d} of {len(full)} "
          f"({differ.mean():5.1%}), mean loss +{extra.mean():.5f} (auto's mean loss {costs.min(axis=0).mean():.4f})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="cifar-100-python.tar.gz")
    p.add_argument("--per-class", type=int, default=10)
    args = p.parse_args()
    codec = shipped_codec()
    cifar = balanced_subset(load_cifar100(args.data).test, args.per_class).images
    photos = sample_photos("sklearn")
    print(f"# {versions()}")
    for q in range(1, codec.levels + 1):
        report("CIFAR", losses(codec, cifar, q), q)
        costs = np.concatenate([losses(codec, im[None], q) for im in photos.values()], axis=1)
        report("photos", costs, q)


if __name__ == "__main__":
    main()
