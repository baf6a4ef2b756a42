"""Train one learned codec (rate + lambda * distortion) with exact resume and the best weights kept.

    python -m cae_helpers.learned_training --data cifar-100-python.tar.gz --lmbda 0.01 --epochs 12 --out weights/learned/lmbda-0.01

Trains on 45,000 CIFAR-100 training images, validates each epoch on the other 5,000
(class balanced, seeded) with real rounding, keeps the weights of the best validation
loss, and writes weights.npz + config.json (what `learned.load_learned` reads) and
history.json to --out. A killed run started again with the same --out resumes exactly.
`--init-from` starts from another saved codec (a neighbouring lambda converges in a
fraction of the epochs).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import keras

from .learned import RDConfig, RateDistortionModel, build_rd_model, load_learned, save_learned
from .optimizers import FusedAdam


def _learning_rate(config: RDConfig, steps_per_epoch: int):
    """Constant, then a tenfold drop at `decay_at` of the steps (a step schedule resumes with the optimizer)."""
    boundary = max(1, int(config.decay_at * config.epochs * steps_per_epoch))
    return keras.optimizers.schedules.PiecewiseConstantDecay([boundary], [config.learning_rate, config.learning_rate / 10])


def train_learned(config: RDConfig, fit_images, val_images, out_dir=None, verbose: int | str = "auto",
                  callbacks: list | None = None) -> tuple[RateDistortionModel, dict]:
    """Train a learned codec; with `out_dir`, checkpoint every epoch (resumable) and save the result there."""
    from .training import fit_resumable, resolve_precision, set_seed

    set_seed(config.seed)
    keras.mixed_precision.set_global_policy(resolve_precision(config.precision))
    try:
        model = build_rd_model(config.lmbda, config.filters, config.latent_channels, config.downsamples)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    if config.init_from:
        start, _ = load_learned(config.init_from)
        for mine, theirs in ((model.analysis, start.analysis), (model.synthesis, start.synthesis), (model.prior, start.prior)):
            mine.set_weights(theirs.get_weights())
    steps = math.ceil(len(fit_images) / config.batch_size)
    model.compile(optimizer=FusedAdam(_learning_rate(config, steps), global_clipnorm=config.clip_norm))
    # patience beyond the epoch count: never stops early, only remembers the best epoch's weights
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.epochs + 1, restore_best_weights=True)
    t0 = time.perf_counter()
    history, checkpoint = fit_resumable(model, stopper, fit_images, val_images, config.epochs, config.batch_size,
                                        config.seed, out_dir, verbose, callbacks, val_batch_size=500)
    info = {"history": history, "best_epoch": stopper.best_epoch + 1, "train_wall_time_s_this_process": time.perf_counter() - t0,
            "resumed_from_epoch": checkpoint.resumed_from if checkpoint else 0,
            "fit_images": len(fit_images), "val_images": len(val_images)}
    return model, info


def main(argv: list[str] | None = None) -> int:
    """`python -m cae_helpers.learned_training ...`."""
    import shutil

    from .data import load_cifar100, protocol_splits
    from .io import command_line, versions, write_json

    d = RDConfig()
    p = argparse.ArgumentParser(prog="python -m cae_helpers.learned_training", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="cifar-100-python.tar.gz or its folder (default: $CIFAR100_PATH, else Keras download)")
    p.add_argument("--out", required=True, help="folder for weights.npz, config.json, history.json (and the resumable backup)")
    p.add_argument("--smoke", type=int, default=0, metavar="N", help="only N training images per class (quick check)")
    for f in dataclasses.fields(RDConfig):
        if f.name in ("val_size", "seed", "precision", "init_from"):
            continue
        p.add_argument("--" + f.name.replace("_", "-"), type=type(getattr(d, f.name)), default=getattr(d, f.name))
    p.add_argument("--val-size", type=int, default=d.val_size)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--precision", default=d.precision, help="auto (mixed bfloat16 where the CPU has it), float32, ...")
    p.add_argument("--init-from", default=None, help="a saved codec folder to start from")
    p.add_argument("--verbose", type=int, default=2, help="Keras fit verbosity (1: progress bar, 2: one line per epoch)")
    args = p.parse_args(argv)
    config = RDConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(RDConfig)})
    data = load_cifar100(args.data)
    train = data.train
    if args.smoke:
        from .data import balanced_subset

        train = balanced_subset(train, args.smoke)
    val_size = min(config.val_size, max(100, len(train) // 1000 * 100))  # whole images per class, at most a tenth
    fit, val = protocol_splits(train, data.test, "heldout", val_size, config.seed)
    out = Path(args.out)
    model, info = train_learned(config, fit.images, val.images, out, verbose=args.verbose)
    save_learned(model, config, out, {"command": command_line("python -m cae_helpers.learned_training", argv),
                                      "data": data.source, "best_epoch": info["best_epoch"], "versions": versions()})
    write_json(out / "history.json", info)
    shutil.rmtree(out / "backup", ignore_errors=True)
    h = info["history"]
    best = info["best_epoch"] - 1
    print(f"best epoch {best + 1}: val bpp {h['val_bpp'][best]:.3f}, val PSNR (noise-free rounding) "
          f"{-10 * math.log10(h['val_mse'][best]):.2f} dB; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
