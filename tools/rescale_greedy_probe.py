"""Would a cheaper `rescale="auto"` choose the same sizes? A probe of two rules.

    python tools/rescale_greedy_probe.py --data ../shared/data/cifar-100-python.tar.gz --per-class 10 > results/rescale-probe/greedy.log
    python tools/rescale_greedy_probe.py --data ../shared/data/cifar-100-python.tar.gz --per-class 10 --rule padded > results/rescale-probe/padded.log

`auto` used to code and decode every image at 1, 3/4 and 1/2 of each side and keep the least loss (bpp + lambda
x 255^2 x MSE). `--rule greedy` (not built): code 1/2 only for the images where 3/4 beat full size. `--rule
padded` (built in the nineteenth session, `rescale.distinct_grids`): skip 3/4 where its copy pads to full size's
latent grid (32x32 images). Printed per quality, on CIFAR test images (10 a class), on scikit-learn's two
photographs (never scikit-image's) and, for `padded`, on the 32x32 photo crops: how many choices the rule
changes, the loss that costs, and for `padded` the share of each size among the full choice and the share of the
candidates' coding time the rule saves. The losses are measured with every size tried, whatever the codec skips.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cae_helpers.bench.photos import sample_photos
from cae_helpers.codec import PAD_MULTIPLE, shipped_codec
from cae_helpers.data import balanced_subset, load_cifar100, photo_crops
from cae_helpers.io import versions
from cae_helpers.rescale import AUTO_SCALES16, distinct_grids


def timed_losses(codec, images: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    """(3, N) each image's loss at full size, 3/4 and 1/2 (`AUTO_SCALES16`), as `auto` measures it; (3,) seconds per size."""
    code, lmbda = codec.level16(q), codec.lmbda(codec.level16(q) / 16)
    costs, seconds = [], []
    for k in AUTO_SCALES16:
        start = time.perf_counter()
        costs.append(codec._rescaled_losses(images, codec._rescaled_candidate(images, code, k, False)[2], lmbda))
        seconds.append(time.perf_counter() - start)
    return np.stack(costs), np.array(seconds)


def losses(codec, images: np.ndarray, q: int) -> np.ndarray:
    """(3, N): each image's loss at full size, 3/4 and 1/2 (`AUTO_SCALES16`), as `auto` measures it."""
    return timed_losses(codec, images, q)[0]


def report_padded(name: str, costs: np.ndarray, seconds: np.ndarray, sides: tuple[int, int], q: int) -> None:
    """One line: the choice without the sizes `distinct_grids` skips for images of `sides`, against every size's."""
    full = np.argmin(costs, axis=0)
    kept = [AUTO_SCALES16.index(k) for k in distinct_grids(AUTO_SCALES16, *sides, PAD_MULTIPLE)]
    rule = np.array(kept)[np.argmin(costs[kept], axis=0)]
    extra = costs[rule, np.arange(costs.shape[1])] - costs[full, np.arange(costs.shape[1])]
    shares = " / ".join(f"{np.mean(full == i):6.1%}" for i in range(len(AUTO_SCALES16)))
    print(f"{name:<10} q{q}: chosen full / 3/4 / 1/2 {shares}; skipping {len(AUTO_SCALES16) - len(kept)} size(s) changes "
          f"{np.sum(rule != full):4d} of {len(full)} ({np.mean(rule != full):5.1%}), mean loss +{extra.mean():.5f} "
          f"(of {costs.min(axis=0).mean():.4f}), saves {1 - seconds[kept].sum() / seconds.sum():5.1%} of the candidates' time")


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
    p.add_argument("--rule", choices=("greedy", "padded"), default="greedy")
    args = p.parse_args()
    codec = shipped_codec()
    cifar = balanced_subset(load_cifar100(args.data).test, args.per_class).images
    photos = sample_photos("sklearn")
    print(f"# {versions()}")
    for q in range(1, codec.levels + 1):
        if args.rule == "greedy":
            report("CIFAR", losses(codec, cifar, q), q)
            report("photos", np.concatenate([losses(codec, im[None], q) for im in photos.values()], axis=1), q)
            continue
        codec.compress(cifar[:64], q, rescale="auto")  # warm the network passes of every size before timing
        for name, images in (("CIFAR", cifar), ("crops", photo_crops()[0])):
            report_padded(name, *timed_losses(codec, images, q), images.shape[1:3], q)
        for name, image in photos.items():
            report_padded(name[:10], *timed_losses(codec, image[None], q), image.shape[:2], q)


if __name__ == "__main__":
    main()
