"""The default codec's coded-path objective in float32 before and after `train-codec --tune-encoder` checkpoints.

    python tools/encoder_tune_probe.py --data ../shared/data/cifar-100-python.tar.gz base runs/tune-encoder/backup/epoch0002.weights.h5

For each argument ("base": the default codec as shipped; else a tune-encoder run's RUN/backup/epochNNNN.weights.h5,
trained from the default): the loss of what the coder really sends and decodes (`HyperpriorModel.coded_path`: hard
rounding, bits at the rounded values, the synthesis on values moved toward their bins' means), every transform in
float32, on train-codec's 5,000 held-out CIFAR-100 training images (image i at level i mod 8) and on the 520 photo
crops; then each set's mean bpp and PSNR of the pooled MSE with every image at levels 0, 0.5, 1, 3 and 7. The bits
are the model's information content (no header, no coder overhead): real bytes are about 5 more an image.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from cae_helpers.codec import DEFAULT_MODEL, ZOO
from cae_helpers.data import load_cifar100, photo_crops, protocol_splits
from cae_helpers.hyperprior import build_hyperprior, copy_weights, load_config
from cae_helpers.training.codec import freeze_decoder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from val_loss import copy_checkpoint, level_figures, validation_loss  # noqa: E402  (the tools folder is not a package)

LEVELS = (0, 0.5, 1, 3, 7)


def coded_model(source: str):
    """The default codec as a float32 tune_encoder model, with a checkpoint's weights unless `source` is "base"."""
    folder = ZOO / DEFAULT_MODEL
    config = dataclasses.replace(load_config(folder), tune_encoder=True, init_from=str(folder))
    model = build_hyperprior(config)
    copy_weights(model, folder)
    freeze_decoder(model, folder)
    if source != "base":
        copy_checkpoint(model, source)
    return model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.environ.get("CIFAR100_PATH"), help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    p.add_argument("sources", nargs="+", help='"base" or RUN/backup/epochNNNN.weights.h5 of a --tune-encoder run')
    args = p.parse_args()
    data = load_cifar100(args.data)
    _, val = protocol_splits(data.train, data.test, "heldout", 5000, 0)
    crops, _ = photo_crops()
    for source in args.sources:
        model = coded_model(source)
        lines = [f"{source}: loss on held-out CIFAR {validation_loss(model, val.images):.4f}, on photo crops {validation_loss(model, crops):.4f}"]
        for level in LEVELS:
            (b, q, _), (b2, q2, _) = level_figures(model, val.images, level), level_figures(model, crops, level)
            lines.append(f"  level {level}: CIFAR {b:.4f} bpp {q:.3f} dB | photo crops {b2:.4f} bpp {q2:.3f} dB")
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
