"""How refinement's settings were chosen: bpp and PSNR of the shipped codec per quality, refinement steps and learning rate.

    python tools/refine_sweep.py cifar 1,5,8 0,100 0.02,0.05,0.1     # 128 CIFAR-100 test images ($CIFAR100_PATH)
    python tools/refine_sweep.py cifar-train 1.75 100,200 0.02,0.04  # 256 CIFAR-100 training images (tune here, not on test)
    python tools/refine_sweep.py photos 1,5 100,200 0.01,0.02        # 256x256 crops of scikit-learn's two photographs
    python tools/refine_sweep.py photos-full 1,5 0,25,50 0.02,0.05   # scikit-learn's two photographs, whole (640x427)

Arguments: image set, qualities, steps (0: no refinement), learning rates (each held constant over the steps, as
these logs were made; `tools/refine_schedules.py` tries falling ones). Never run on scikit-image's photos
(the independent check). Prints one line per setting: bpp of whole byte strings, mean PSNR (uint8), seconds.
"""

import os
import pickle
import sys
import tarfile
import time

import numpy as np

from cae_helpers.bench.photos import sample_photos
from cae_helpers.codec import pretrained_codec
from cae_helpers.metrics import mean_psnr
from cae_helpers.refine import RefineSettings


def images_of(which: str) -> np.ndarray:
    """128 CIFAR-100 test or 256 training images, the top-left 256x256 of scikit-learn's china.jpg and flower.jpg, or both whole."""
    if which in ("cifar", "cifar-train"):
        member, count = ("test", 128) if which == "cifar" else ("train", 256)
        with tarfile.open(os.environ["CIFAR100_PATH"]) as t:
            d = pickle.load(t.extractfile(f"cifar-100-python/{member}"), encoding="bytes")
        return np.ascontiguousarray(d[b"data"][:count].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    if which == "photos-full":
        return np.stack(list(sample_photos("sklearn").values()))  # both 427x640
    if which != "photos":
        raise SystemExit(f"image set must be cifar, cifar-train, photos or photos-full, got {which!r}")
    return np.stack([im[:256, :256] for im in sample_photos("sklearn").values()])


def main() -> None:
    which, qualities, steps, lrs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    images = images_of(which)
    for q in (float(a) for a in qualities.split(",")):
        codec = pretrained_codec().codec
        for s in (int(a) for a in steps.split(",")):
            for lr in ([float(a) for a in lrs.split(",")] if s else [0.0]):
                t0 = time.time()
                blobs = codec.compress(images, q, refine=RefineSettings(steps=s, learning_rate=lr, learning_rate_end=None) if s else 0)
                seconds = time.time() - t0
                psnr = mean_psnr(images, codec.decompress(blobs))
                bpp = 8 * sum(map(len, blobs)) / images[..., 0].size
                print(f"{which} q{q} steps {s} lr {lr}: {bpp:.4f} bpp {psnr:.3f} dB {seconds:.0f}s",
                      flush=True)


if __name__ == "__main__":
    main()
