"""The training objective of saved hyperprior codecs on train-codec's 5,000 held-out CIFAR-100 training images, in float32.

    python tools/val_loss.py --data ../shared/data/cifar-100-python.tar.gz cae_helpers/zoo/hyperprior cae_helpers/zoo/hyperprior-coded
    python tools/val_loss.py --per-level runs/ft-compute runs/ft-compute/backup/epoch0004.weights.h5
    python tools/val_loss.py --levels 0.5,1.5,2.5,3.5,4.5,5.5,6.5 cae_helpers/zoo/hyperprior-coded-long
    python tools/val_loss.py --images photos --per-level cae_helpers/zoo/hyperprior-continuous

The same split as `train-codec` (protocol "heldout", 5,000 images, seed 0) and the same fixed level mix (image i at
level i mod K), batches of 500; loss = bpp + lambda * 255^2 * MSE, as training reports it, but with every transform
in float32 (training's own figure is in its mixed precision). Each argument: a folder saved by `save_hyperprior`, or
a training checkpoint `RUN/backup/epochNNNN.weights.h5` (the epoch's own weights, not the best ones; RUN's
config.json gives the architecture, so the run must have exported once). `--per-level`: also every image at each
level in turn, that level's mean bpp, PSNR of the pooled MSE, and loss; `--levels 0.5,1.5` the same at the levels
given, fractional ones included (lambda log-linear between levels, as the gains), and their mean loss.
`--images photos`: the same figures on the 520 32x32 crops of scikit-learn's two photographs (`photo_crops`, the
bench's photo set) instead of the held-out CIFAR images: where a codec's loss on smooth content comes from, in float32.
"""

import argparse
from pathlib import Path

import numpy as np

from cae_helpers.data import load_cifar100, photo_crops, protocol_splits
from cae_helpers.hyperprior import build_hyperprior, load_config, load_hyperprior


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


def level_figures(model, images: np.ndarray, level: float, batch: int = 500) -> tuple[float, float, float]:
    """(bpp, PSNR of the pooled MSE, loss) with every image at `level`."""
    x = images.astype(np.float32) / 255
    bits, sq = [], []
    for a in range(0, len(x), batch):
        b = x[a:a + batch]
        x_hat, n_bits, _ = model(b, levels=np.full(len(b), level, np.float32))
        bits.append(np.asarray(n_bits))
        sq.append(np.mean(np.square(np.asarray(x_hat) - b), axis=(1, 2, 3)))
    bpp, mse = np.concatenate(bits).mean() / (x.shape[1] * x.shape[2]), np.concatenate(sq).mean()
    lmbda = float(np.asarray(model.lambdas_at(np.array([level], np.float32)))[0])
    return float(bpp), float(-10 * np.log10(mse)), float(bpp + lmbda * 255.0**2 * mse)


def load_model(path: str):
    """A saved codec folder, or a checkpoint's epoch weights (RUN/backup/epochNNNN.weights.h5), as a float32 model."""
    path = Path(path)
    if path.is_dir():
        return load_hyperprior(path)
    if not path.name.endswith(".weights.h5"):
        raise SystemExit(f"{path}: neither a codec folder nor a RUN/backup/epochNNNN.weights.h5 checkpoint")
    model = build_hyperprior(load_config(path.parent.parent))
    copy_checkpoint(model, path)
    return model


def copy_checkpoint(model, path) -> None:
    """Set a model's weights from a training checkpoint of its architecture (RUN/backup/epochNNNN.weights.h5)."""
    # the checkpoint holds the training model's weights; its layers are the same in either output precision
    trained = build_hyperprior(model.config, dtype="mixed_bfloat16", training=True)
    trained.load_weights(path)
    for name, part in model.parts().items():
        part.set_weights(trained.parts()[name].get_weights())


def parse_levels(text: str) -> list[float]:
    """--levels: comma-separated floats."""
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"levels must be comma-separated numbers, got {text!r}") from None


def evaluation_images(args) -> tuple[np.ndarray, str]:
    """The images --images names, uint8 (N, 32, 32, 3), and how to describe them."""
    if args.images == "photos":
        crops, _ = photo_crops()
        return crops, f"{len(crops):,} photo crops (scikit-learn's two sample photographs)"
    data = load_cifar100(args.data)
    _, val = protocol_splits(data.train, data.test, "heldout", 5000, 0)
    return val.images, f"{len(val.images):,} held-out training images"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    p.add_argument("--images", choices=("heldout", "photos"), default="heldout",
                   help="heldout: train-codec's 5,000 held-out CIFAR-100 training images (default); photos: the 520 photo crops")
    p.add_argument("--per-level", action="store_true", help="also each level's bpp, PSNR and loss (every image at it)")
    p.add_argument("--levels", type=parse_levels, default=None, help="comma-separated levels (fractional allowed) to report as --per-level does, and their mean loss")
    p.add_argument("codecs", nargs="+", help="saved codec folders or RUN/backup/epochNNNN.weights.h5 checkpoints")
    args = p.parse_args()
    images, described = evaluation_images(args)
    for source in args.codecs:
        model = load_model(source)
        kind = "validation loss" if args.images == "heldout" else "loss"
        print(f"{source}: {kind} {validation_loss(model, images):.4f} ({described}, float32)", flush=True)
        levels = list(range(model.config.levels)) if args.per_level else []
        for group in (levels, args.levels or []):
            losses = []
            for level in group:
                bpp, psnr, loss = level_figures(model, images, level)
                losses.append(loss)
                print(f"  level {level:g}: {bpp:.4f} bpp, {psnr:.3f} dB, loss {loss:.4f}", flush=True)
            if group:
                print(f"  mean loss at levels {','.join(f'{v:g}' for v in group)}: {np.mean(losses):.4f}", flush=True)


if __name__ == "__main__":
    main()
