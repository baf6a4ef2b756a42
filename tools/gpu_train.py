"""The hyperprior codec's GPU recipe: Keras 3 on JAX, data from tools/pack_cifar.py's parts, resumable.

    KERAS_BACKEND=jax python tools/gpu_train.py --parts .gpu-data --out runs/hyperprior [--epochs 150] [--batch-size 32]
        [--time-limit-s 480]

It runs the same recipe as `python -m cae_helpers train-codec` (same config, same 45,000 / 5,000
class-balanced split, same checkpoint format, so a run started on CPU goes on here and back),
prints images/s per epoch, stops cleanly after --time-limit-s (the next call resumes), and exports
the best epoch as a codec folder (weights + integer tables) into OUT/codec. On the device machine
(no TensorFlow, no network), keras and its small dependencies travel as wheels (see README).
Rehearsed on CPU with a tiny schedule: results/gpu-recipe/rehearsal.log.
"""

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np


def load_parts(folder: str):
    from cae_helpers.data import Split

    parts = sorted(Path(folder).glob("part*.npz"), key=lambda p: int(p.stem[4:]))
    if not parts:
        raise SystemExit(f"no part*.npz in {folder}: make them with tools/pack_cifar.py")
    arrays = [np.load(p) for p in parts]
    return Split(*(np.concatenate([a[k] for a in arrays]) for k in ("images", "fine", "coarse")))


def main() -> None:
    import keras

    from cae_helpers.codec import codec_from_run
    from cae_helpers.data import balanced_split
    from cae_helpers.hyperprior import HyperpriorConfig
    from cae_helpers.training.codec import train_hyperprior

    d = HyperpriorConfig()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", required=True)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--per-class", type=int, default=0, help="rehearsal: only N training images per class")
    p.add_argument("--time-limit-s", type=float, default=0)
    args = p.parse_args()
    train = load_parts(args.parts)
    if args.per_class:
        from cae_helpers.data import balanced_subset

        train = balanced_subset(train, args.per_class)
    val_size = min(d.val_size, max(100, len(train) // 1000 * 100))
    fit_idx, val_idx = balanced_split(train.fine, val_size, d.seed)
    config = HyperpriorConfig(epochs=args.epochs, batch_size=args.batch_size, precision="auto")
    print(f"backend {keras.backend.backend()}, devices {[str(x) for x in keras.distribution.list_devices()]}, "
          f"{len(fit_idx)} training / {len(val_idx)} validation images, config {dataclasses.asdict(config)}", flush=True)
    start = time.perf_counter()
    model, info = train_hyperprior(config, train.images[fit_idx], train.images[val_idx], args.out,
                                   time_limit_s=args.time_limit_s or None)
    wall = time.perf_counter() - start
    h = info["history"]
    done_here = info["epochs_done"] - info["resumed_from_epoch"]
    rate = done_here * len(fit_idx) / wall if wall else 0
    codec, run = codec_from_run(args.out)
    codec.save(args.out / "codec", {k: v for k, v in run.items() if k != "history"} | {"made_by": "tools/gpu_train.py"})
    summary = {"epochs_done": info["epochs_done"], "this_call_epochs": done_here, "wall_s": wall,
               "train_images_per_s_incl_validation": rate, "best_epoch": info["best_epoch"],
               "val_loss_best": min(h["val_loss"]), "backend": keras.backend.backend()}
    (args.out / "gpu_summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
