"""Should `rescale="auto"` with refinement choose the size before refining (as it does) or after? A probe.

    python tools/rescale_refine_probe.py --data ../shared/data/cifar-100-python.tar.gz --per-class 2 > results/rescale-probe/refine.log

`compress(images, q, rescale="auto", refine=N)` chooses each image's size on plain latents and then refines the
chosen copy only. The alternative refines every candidate size and chooses on the refined byte strings: it can
only lower each image's loss (bpp + lambda x 255^2 x MSE), for more refinement time. Printed per quality on CIFAR
test images (N a class): mean bytes, mean PSNR and mean loss of refinement at full size, of the choice made
before refining, and of the choice made after, with the seconds each took (on this machine's cores).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from cae_helpers.codec import PAD_MULTIPLE, shipped_codec
from cae_helpers.data import balanced_subset, load_cifar100
from cae_helpers.entropy import container
from cae_helpers.io import versions
from cae_helpers.metrics import psnr_per_image
from cae_helpers.refine import RefineSettings
from cae_helpers.rescale import AUTO_SCALES16, distinct_grids


def refined_candidates(codec, images: np.ndarray, q: int, steps: int) -> tuple[list[list[bytes]], list[float]]:
    """Per candidate size (`distinct_grids` of `AUTO_SCALES16`): each image's refined byte string, and the seconds taken."""
    code, out, seconds = codec.level16(q), [], []
    for k in distinct_grids(AUTO_SCALES16, *images.shape[1:3], PAD_MULTIPLE):
        start = time.perf_counter()
        header, smalls = codec._rescaled_copies(images, code, k)
        out.append([container.pack(header, w) for w in codec._whole_words(smalls, header, RefineSettings(steps), False)])
        seconds.append(time.perf_counter() - start)
    return out, seconds


def scale(blob: bytes, codec) -> int:
    """The size a byte string was coded at, in sixteenths."""
    return codec.read_header(blob).scale16


def line(name: str, images: np.ndarray, blobs: list[bytes], codec, lmbda: float, seconds: float) -> str:
    """Mean bytes, PSNR and loss of one way of coding."""
    loss = codec._rescaled_losses(images, blobs, lmbda).mean()
    psnr = psnr_per_image(images, codec.decompress(blobs)).mean()
    return f"{name} {np.mean([len(b) for b in blobs]):7.2f} bytes {psnr:6.3f} dB loss {loss:.5f} ({seconds:5.1f} s)"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="cifar-100-python.tar.gz")
    p.add_argument("--per-class", type=int, default=2)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--qualities", type=int, nargs="+", default=[1, 2, 3, 4])
    args = p.parse_args()
    codec = shipped_codec()
    images = balanced_subset(load_cifar100(args.data).test, args.per_class).images
    print(f"# {versions()}")
    for q in args.qualities:
        lmbda = codec.lmbda(codec.level16(q) / 16)
        codec.compress(images[:8], q, rescale="auto", refine=2)  # warm the network passes before timing
        start = time.perf_counter()
        before = codec.compress(images, q, rescale="auto", refine=args.steps)
        t_before = time.perf_counter() - start
        candidates, seconds = refined_candidates(codec, images, q, args.steps)
        costs = np.stack([codec._rescaled_losses(images, c, lmbda) for c in candidates])  # (S, N)
        after = [candidates[c][i] for i, c in enumerate(np.argmin(costs, axis=0))]
        print(f"q{q}: " + "; ".join([line("refined at full size", images, candidates[0], codec, lmbda, seconds[0]),
                                      line("chosen then refined", images, before, codec, lmbda, t_before),
                                      line("refined then chosen", images, after, codec, lmbda, sum(seconds))])
              + f"; sizes differ for {np.mean([scale(a, codec) != scale(b, codec) for a, b in zip(after, before)]):.1%}", flush=True)


if __name__ == "__main__":
    main()
