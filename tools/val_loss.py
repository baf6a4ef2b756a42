"""The training objective of saved hyperprior codecs on train-codec's 5,000 held-out CIFAR-100 training images, in float32.

    python tools/val_loss.py --data ../shared/data/cifar-100-python.tar.gz cae_helpers/zoo/hyperprior cae_helpers/zoo/hyperprior-coded

The same split as `train-codec` (protocol "heldout", 5,000 images, seed 0) and the same fixed level mix (image i at
level i mod K), batches of 500; loss = bpp + lambda * 255^2 * MSE, as training reports it, but with every transform
in float32 (training's own figure is in its mixed precision). Each argument: a folder saved by `save_hyperprior`.
"""

import argparse

import numpy as np

from cae_helpers.data import load_cifar100, protocol_splits
from cae_helpers.hyperprior import load_hyperprior


def validation_loss(model, images: np.ndarray, batch: int = 500) -> float:
    """Mean loss over uint8 images (N, 32, 32, 3), image i at level i mod K."""
    x = images.astype(np.float32) / 255
    losses = []
    for a in range(0, len(x), batch):
        b = x[a:a + batch]
        levels = (np.arange(len(b)) % model.config.levels).astype(np.float32)
        x_hat, bits, levels = model(b, levels=levels)
        losses.append(float(model.compute_loss(b, b, (x_hat, bits, levels))) * len(b))
    return sum(losses) / len(x)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    p.add_argument("codecs", nargs="+", help="saved codec folders")
    args = p.parse_args()
    data = load_cifar100(args.data)
    _, val = protocol_splits(data.train, data.test, "heldout", 5000, 0)
    for folder in args.codecs:
        print(f"{folder}: validation loss {validation_loss(load_hyperprior(folder), val.images):.4f} "
              f"({len(val.images):,} held-out training images, float32)", flush=True)


if __name__ == "__main__":
    main()
