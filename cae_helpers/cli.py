"""Command line: `python -m cae_helpers train|evaluate ...` runs the whole job headless.

train:    load CIFAR-100, train with the chosen protocol, evaluate on the 10,000 test
          images, write metrics.json, history.json, the model and the figures to --out.
evaluate: evaluate a saved autoencoder.keras on the test images and write the same.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np


def _parser() -> argparse.ArgumentParser:
    from .data import PROTOCOLS
    from .models import MODEL_NAMES
    from .training import PRECISIONS, TrainConfig

    d = TrainConfig()
    p = argparse.ArgumentParser(prog="python -m cae_helpers", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("train", "evaluate"):
        s = sub.add_parser(name)
        s.add_argument("--data", default=None, help="cifar-100-python.tar.gz or its folder (default: $CIFAR100_PATH, else Keras download)")
        s.add_argument("--out", required=True, help="output folder for metrics.json, model and figures")
        s.add_argument("--smoke", type=int, default=0, metavar="N", help="use only N train and N/5 test images per class (quick check)")
    t, e = sub.choices["train"], sub.choices["evaluate"]
    t.add_argument("--model", choices=MODEL_NAMES, default=d.model)
    t.add_argument("--latent-dim", type=int, default=d.latent_dim)
    t.add_argument("--epochs", type=int, default=d.epochs)
    t.add_argument("--batch-size", type=int, default=d.batch_size)
    t.add_argument("--learning-rate", type=float, default=d.learning_rate)
    t.add_argument("--patience", type=int, default=d.patience)
    t.add_argument("--protocol", choices=PROTOCOLS, default=d.protocol,
                   help="reference: validate on the test set, keep last weights (the reference notebook); "
                        "heldout: validate on 5,000 training images, keep the best weights")
    t.add_argument("--val-size", type=int, default=d.val_size)
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--precision", choices=PRECISIONS, default=d.precision)
    t.add_argument("--deterministic", action="store_true", help="TF op determinism (slower)")
    t.add_argument("--latent-noise", type=float, default=d.latent_noise,
                   help="width of uniform noise added to the code in training (quantisation-aware training); 0: off")
    e.add_argument("--model-path", required=True, help="autoencoder.keras saved by train")
    return p


def _load(args):
    from .data import balanced_subset, load_cifar100

    data = load_cifar100(args.data)
    train, test = data.train, data.test
    if args.smoke:
        train, test = balanced_subset(train, args.smoke), balanced_subset(test, max(1, args.smoke // 5))
    return data, train, test


def _report(args, argv, data, test, ae, enc, extra: dict, out: Path, start: float) -> dict:
    """Evaluate on `test`, write metrics.json and the figures, print a summary."""
    import matplotlib

    matplotlib.use("Agg")
    from .evaluation import evaluate
    from .io import command_line, versions, write_json
    from .plots import plot_per_class, showOrigDec
    from .speed import peak_rss_mb

    m = evaluate(ae, enc, test.images, test.fine)
    rec = m.pop("rec")
    showOrigDec(test.images, rec, num=10).savefig(out / "orig_vs_dec.png", dpi=80, bbox_inches="tight")
    plot_per_class(np.asarray(m["psnr_by_class_float"]), data.fine_names).savefig(out / "psnr_by_class.png", dpi=80)
    metrics = {
        "command": command_line("python -m cae_helpers", argv),
        "data": data.source,
        "evaluated_on": f"{len(test)} CIFAR-100 test images" + (" (smoke subset)" if args.smoke else ""),
        "psnr_definitions": {
            "psnr_mean_float": "mean over images of per-image PSNR, floats in [0,1], MAX 1.0, no clipping (the reference's)",
            "psnr_pooled_float": "PSNR of the MSE pooled over all images, floats, MAX 1.0",
            "psnr_mean_uint8": "mean per-image PSNR after rounding reconstructions to uint8, MAX 255",
            "psnr_pooled_uint8": "pooled-MSE PSNR on uint8, MAX 255",
            "ssim_mean_uint8": "mean per-image SSIM on uint8 (Gaussian 11x11, sigma 1.5)",
            "compression_rate": "1 - code bytes / 3072 (the code as the encoder outputs it, not entropy coded)",
        },
        **extra,
        **m,
        "wall_time_s": time.perf_counter() - start,
        "peak_rss_mib": peak_rss_mb(),
        "versions": versions(),
    }
    write_json(out / "metrics.json", metrics)
    print(f"{metrics['evaluated_on']}: mean PSNR {m['psnr_mean_float']:.2f} dB (reference definition), "
          f"pooled {m['psnr_pooled_float']:.2f} dB, uint8 {m['psnr_mean_uint8']:.2f} dB, SSIM {m['ssim_mean_uint8']:.4f}, "
          f"compression rate {100 * m['compression_rate']:.2f} % ({m['code_bytes']} bytes/image)")
    print(f"wrote {out / 'metrics.json'}")
    return metrics


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m cae_helpers`."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    from .errors import DataError

    start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        data, train_split, test = _load(args)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.command == "train":
        from .data import protocol_splits
        from .plots import plot_history
        from .training import TrainConfig, train

        cfg = TrainConfig(model=args.model, latent_dim=args.latent_dim, epochs=args.epochs, batch_size=args.batch_size,
                          learning_rate=args.learning_rate, patience=args.patience, protocol=args.protocol,
                          val_size=args.val_size if not args.smoke else 100 * max(1, args.smoke // 5),
                          seed=args.seed, precision=args.precision, deterministic=args.deterministic,
                          latent_noise=args.latent_noise)
        fit, val = protocol_splits(train_split, test, cfg.protocol, cfg.val_size, cfg.seed)
        verbose = 1 if sys.stdout.isatty() else 2
        result = train(cfg, fit, val, out, verbose=verbose)
        plot_history(result.history, f"{cfg.model} model, {cfg.protocol} protocol").savefig(out / "history.png", dpi=80)
        extra = {"config": cfg.to_dict(), "fit_images": len(fit), "validation_images": len(val),
                 "validation_is_test_set": cfg.protocol == "reference", "epochs_run": result.epochs_run,
                 "best_epoch": result.best_epoch, "weights": "best validation epoch" if cfg.keep_best else "last epoch",
                 "train_wall_time_s": result.wall_time_s, "images_per_s": len(fit) * result.epochs_run / result.wall_time_s}
        ae, enc = result.autoencoder, result.encoder
    else:
        from .training import load_autoencoder

        ae, enc, _ = load_autoencoder(args.model_path)
        extra = {"model_path": str(args.model_path)}
    _report(args, argv, data, test, ae, enc, extra, out, start)
    return 0
