"""Pack a class-balanced part of CIFAR-100's training split small enough to travel, and unpack it.

The device machine (a GPU lent for minutes) gets the working tree and at most 64 MiB in all, and
CIFAR-100's training split is 154 MB of pixels. `pack` writes N images per class as one lossless
WebP mosaic (about 55 % of the raw bytes) with their labels and the official `meta` file;
`unpack` turns that back into a cifar-100-python folder (official pickle layout) that
`--data` accepts. A subset is not the official data set: the loader warns, as it should.

    python tools/cifar_pack.py pack --data ../shared/data/cifar-100-python.tar.gz --per-class 170 --out .devdata
    python tools/cifar_pack.py unpack .devdata --out /tmp/cifar-100-python
"""

from __future__ import annotations

import argparse
import pickle
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

COLUMNS = 100  # images per mosaic row


def _mosaic(images: np.ndarray) -> np.ndarray:
    """(N, 32, 32, 3) -> (rows * 32, COLUMNS * 32, 3); the last row padded with black."""
    rows = -(-len(images) // COLUMNS)
    padded = np.zeros((rows * COLUMNS, 32, 32, 3), np.uint8)
    padded[:len(images)] = images
    return padded.reshape(rows, COLUMNS, 32, 32, 3).transpose(0, 2, 1, 3, 4).reshape(rows * 32, COLUMNS * 32, 3)


def _tiles(mosaic: np.ndarray, count: int) -> np.ndarray:
    """The inverse of `_mosaic`: the first `count` images."""
    rows = mosaic.shape[0] // 32
    return mosaic.reshape(rows, 32, COLUMNS, 32, 3).transpose(0, 2, 1, 3, 4).reshape(-1, 32, 32, 3)[:count]


def pack(data: str, per_class: int, test_images: int, out: Path) -> None:
    """Write train.webp / test.webp (lossless), labels.npz and meta into `out`."""
    from cae_helpers.data import balanced_subset, load_cifar100

    cifar = load_cifar100(data)
    train = balanced_subset(cifar.train, per_class)
    test = balanced_subset(cifar.test, max(1, test_images // 100))
    out.mkdir(parents=True, exist_ok=True)
    for name, split in (("train", train), ("test", test)):
        Image.fromarray(_mosaic(split.images)).save(out / f"{name}.webp", lossless=True, quality=100, method=4)
        back = _tiles(np.asarray(Image.open(out / f"{name}.webp").convert("RGB")), len(split.images))
        if not np.array_equal(back, split.images):
            raise RuntimeError(f"{name}.webp does not decode to the images it was made from")
    np.savez_compressed(out / "labels.npz", train_fine=train.fine, train_coarse=train.coarse,
                        test_fine=test.fine, test_coarse=test.coarse)
    (out / "meta").write_bytes(_official_meta(Path(data)))
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"{len(train.images)} training and {len(test.images)} test images in {out}: {size / 2**20:.1f} MiB")


def _official_meta(data: Path) -> bytes:
    """The class-names file of the archive or folder, as it is."""
    if data.is_file():
        with tarfile.open(data) as tar:
            return tar.extractfile("cifar-100-python/meta").read()
    return next(data.rglob("meta")).read_bytes()


def unpack(folder: Path, out: Path) -> None:
    """A cifar-100-python folder (train, test, meta pickles) from a packed folder."""
    labels = np.load(folder / "labels.npz")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("train", "test"):
        fine = labels[f"{name}_fine"]
        images = _tiles(np.asarray(Image.open(folder / f"{name}.webp").convert("RGB")), len(fine))
        rows = images.transpose(0, 3, 1, 2).reshape(len(images), -1)  # official layout: N rows of R, G, B planes
        batch = {b"data": rows, b"fine_labels": fine.tolist(), b"coarse_labels": labels[f"{name}_coarse"].tolist()}
        with open(out / name, "wb") as f:
            pickle.dump(batch, f, protocol=4)  # as the tests' archives: Keras' safe unpickler takes it
    (out / "meta").write_bytes((folder / "meta").read_bytes())
    print(f"unpacked {folder} into {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="N training images per class -> lossless WebP + labels")
    p.add_argument("--data", required=True, help="cifar-100-python.tar.gz or its folder")
    p.add_argument("--per-class", type=int, required=True, help="training images per class (500 = all)")
    p.add_argument("--test-images", type=int, default=100, help="test images to include (the folder layout needs a test split)")
    p.add_argument("--out", type=Path, required=True)
    u = sub.add_parser("unpack", help="a packed folder -> cifar-100-python folder")
    u.add_argument("folder", type=Path)
    u.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "pack":
        pack(args.data, args.per_class, args.test_images, args.out)
    else:
        unpack(args.folder, args.out)


if __name__ == "__main__":
    main()
