"""Pack CIFAR-100's training images into npz parts small enough to travel to a GPU machine (under 60 MB each).

    python tools/pack_cifar.py ../shared/data/cifar-100-python.tar.gz .gpu-data

Writes part0.npz, part1.npz, ... (uint8 images, fine and coarse labels, zip-compressed) that
tools/gpu_train.py reads back; the test split is not packed (the GPU run validates on training images).
"""

import sys
from pathlib import Path

import numpy as np

from cae_helpers.data import load_cifar100

PER_PART = 17000  # 17,000 x 3,072 bytes = 52 MB before compression


def main(archive: str, out: str) -> None:
    data = load_cifar100(archive)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    tr = data.train
    for i, start in enumerate(range(0, len(tr), PER_PART)):
        part = slice(start, start + PER_PART)
        path = folder / f"part{i}.npz"
        np.savez_compressed(path, images=tr.images[part], fine=tr.fine[part], coarse=tr.coarse[part])
        print(f"{path}: {len(tr.images[part])} images, {path.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main(*sys.argv[1:3])
