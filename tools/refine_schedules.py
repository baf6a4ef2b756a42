"""Refinement schedules compared: bpp and PSNR of whole byte strings for each RefineSettings given on the command line.

    SET=cifar-train Q=1.75 python tools/refine_schedules.py steps=200,learning_rate=0.04,learning_rate_end=0.005 steps=100

Each argument is one `cae_helpers.refine.RefineSettings` (fields as name=value, comma-separated; the rest its defaults).
SET: an image set of `tools/refine_sweep.py` (default cifar-train: 256 CIFAR-100 *training* images, $CIFAR100_PATH);
Q: the quality (default 1.75, about 0.5 bpp refined). The last column moves PSNR to 0.5024 bpp along the refined
curve's slope near 0.5 bpp on CIFAR (9.2 dB per bpp, `results/rd-format19-refine-half-bpp`), so settings that end at
different rates compare; it means little elsewhere. Never run on scikit-image's photos (the independent check).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from refine_sweep import images_of  # noqa: E402

from cae_helpers.codec import pretrained_codec  # noqa: E402
from cae_helpers.metrics import mean_psnr  # noqa: E402
from cae_helpers.refine import RefineSettings  # noqa: E402

INTEGER_FIELDS = ("steps", "seed")


def settings_of(spec: str) -> RefineSettings:
    """'steps=200,learning_rate=0.04' -> RefineSettings(steps=200, learning_rate=0.04); 'learning_rate_end=none' for constant."""
    fields = dict(kv.split("=") for kv in spec.split(","))
    return RefineSettings(**{k: None if v == "none" else int(v) if k in INTEGER_FIELDS else float(v) for k, v in fields.items()})


def main() -> None:
    which, quality = os.environ.get("SET", "cifar-train"), float(os.environ.get("Q", "1.75"))
    images = images_of(which)
    codec = pretrained_codec().codec
    for spec in sys.argv[1:]:
        t0 = time.time()
        blobs = codec.compress(images, quality, refine=settings_of(spec))
        seconds = time.time() - t0
        psnr = mean_psnr(images, codec.decompress(blobs))
        bpp = 8 * sum(map(len, blobs)) / images[..., 0].size
        print(f"{which} q{quality} {spec}: {bpp:.4f} bpp {psnr:.3f} dB equiv@0.5024 {psnr + 9.2 * (0.5024 - bpp):.3f} "
              f"{seconds:.0f}s", flush=True)


if __name__ == "__main__":
    main()
