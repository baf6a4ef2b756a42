"""Speed benchmark: training throughput (plain fp32 fit vs the fast path), coding throughput, memory.

    python -m cae_helpers bench speed --data cifar-100-python.tar.gz --out results/speed

All timings are on this machine, in one process, one after another; each figure is the
best of `repeats` timed passes after an untimed warm-up (graph tracing, oneDNN kernels).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def _best_time(fn, repeats: int) -> float:
    fn()  # warm-up: tracing and first-call costs are not throughput
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def train_throughput(images: np.ndarray, fast: bool, batch_size: int = 128, repeats: int = 2, seed: int = 0,
                     precision: str = "auto") -> float:
    """Training images/s of the reference model on `images`: one epoch per timed pass.

    Baseline (fast=False): stock Keras layers and Adam, float32, `fit` on float32 arrays,
    as the reference notebook did. Fast: fused BatchNorm and Adam, `precision` (a dtype policy),
    uint8 data scaled per batch by tf.data (what `train` uses).
    """
    import keras

    from ..models import build_autoencoder
    from ..training import compile_model, make_dataset, resolve_precision

    keras.utils.set_random_seed(seed)
    if fast:
        import tensorflow as tf

        ae, _, _ = build_autoencoder(dtype=resolve_precision(precision))
        data = make_dataset(images, batch_size, shuffle=True, seed=seed, epoch=tf.Variable(0, dtype=tf.int64))
        fit = lambda: ae.fit(data, epochs=1, verbose=0, shuffle=False)  # noqa: E731
    else:
        ae, _, _ = build_autoencoder(dtype="float32", fast_layers=False)
        x = images.astype(np.float32) / 255.0
        fit = lambda: ae.fit(x, x, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)  # noqa: E731
    compile_model(ae, fused=fast)
    return len(images) / _best_time(fit, repeats)


def precision_throughputs(images: np.ndarray, repeats: int) -> dict:
    """The fast path's training images/s per dtype policy this CPU can run (what "auto" should pick from)."""
    from ..training.loop import cpu_bf16_kind

    policies = ["float32"] + (["mixed_bfloat16"] if cpu_bf16_kind() else [])
    out = {f"train_fast_{p}_images_per_s": train_throughput(images, fast=True, repeats=repeats, precision=p)
           for p in policies}
    out["cpu_bf16_kind"] = cpu_bf16_kind() or "none"
    return out


def default_codec_config():
    """The default shipped codec's recorded training config (architecture, augmentation, output precision)."""
    from ..codec import DEFAULT_MODEL, ZOO
    from ..hyperprior import load_config

    return load_config(ZOO / DEFAULT_MODEL)


def codec_train_throughput(images: np.ndarray, kind: str, batch_size: int = 32, repeats: int = 2, seed: int = 0,
                           precision: str = "auto") -> float:
    """Training images/s of a learned codec, one epoch of `images` per timed pass, no validation.

    kind "hyperprior": the default shipped variable-rate model's architecture with train-codec's batches (zoomed crops included);
    "factorised": one factorised-prior model (lambda 0.01) with plain batches. `precision` is a dtype policy; fused Adam.
    """
    import keras
    import tensorflow as tf

    from ..hyperprior import build_hyperprior
    from ..learned import build_rd_model
    from ..optimizers import FusedAdam
    from ..training import make_dataset, resolve_precision

    keras.utils.set_random_seed(seed)
    dtype = resolve_precision(precision)
    if kind == "hyperprior":
        config = default_codec_config()
        model, augment = build_hyperprior(config, dtype=dtype, training=True), config.augment
    elif kind == "factorised":
        model, augment = build_rd_model(0.01, dtype=dtype, training=True), 0.0
    else:
        raise ValueError(f"unknown codec kind {kind!r}; expected 'hyperprior' or 'factorised'")
    model.compile(optimizer=FusedAdam(3e-4, global_clipnorm=100.0))
    data = make_dataset(images, batch_size, shuffle=True, seed=seed, epoch=tf.Variable(0, dtype=tf.int64), augment=augment)
    return len(images) / _best_time(lambda: model.fit(data, epochs=1, verbose=0, shuffle=False), repeats)


def coding_throughput(model_path: str | None, train_images: np.ndarray, images: np.ndarray, step: float, repeats: int = 2) -> dict:
    """encode, decode (network only) and compress, decompress (network + entropy coding) images/s."""
    from ..entropy.coder import compress, decode_latents, decompress, encode_latents, fit_codec
    from ..models import build_autoencoder
    from ..training import load_autoencoder

    _, enc, dec = load_autoencoder(model_path) if model_path else build_autoencoder()
    codec = fit_codec(enc, dec, train_images, step=step)
    z = encode_latents(enc, images)
    blobs = compress(images, codec)
    n = len(images)
    return {
        "encode_images_per_s": n / _best_time(lambda: encode_latents(enc, images), repeats),
        "decode_images_per_s": n / _best_time(lambda: decode_latents(dec, z), repeats),
        "compress_images_per_s": n / _best_time(lambda: compress(images, codec), repeats),
        "decompress_images_per_s": n / _best_time(lambda: decompress(blobs, codec), repeats),
        "bytes_mean": float(np.mean([len(b) for b in blobs])),
        "step": step,
    }


def pillow_throughput(images: np.ndarray, repeats: int = 2) -> dict:
    """WebP (quality 75, method 6 and method 4) and JPEG (quality 75, 4:4:4) encode/decode images/s."""
    from .classic import pillow_round_trip

    out = {}
    for name, fmt, kw in (("webp_m6", "WEBP", {"quality": 75, "method": 6}), ("webp_m4", "WEBP", {"quality": 75, "method": 4}),
                          ("jpeg", "JPEG", {"quality": 75, "subsampling": 0})):
        pillow_round_trip(images[:50], fmt, **kw)  # warm-up
        runs = [pillow_round_trip(images, fmt, **kw)[2:] for _ in range(repeats)]
        out[f"{name}_encode_images_per_s"] = len(images) / min(r[0] for r in runs)
        out[f"{name}_decode_images_per_s"] = len(images) / min(r[1] for r in runs)
    return out


def equal_epochs_quality(train_images: np.ndarray, test_images: np.ndarray, epochs: int, seed: int = 0) -> dict:
    """Mean test PSNR after the same epochs for plain float32 (stock layers and Adam) and the fast path.

    Same seed, same initial weights, same batches in the same order (the epoch-indexed
    tf.data pipeline), no early stopping: only precision and the BatchNorm, upsampling and Adam kernels differ.
    """
    import keras
    import tensorflow as tf

    from ..evaluation import reconstruct
    from ..metrics import mean_psnr
    from ..models import build_autoencoder
    from ..training import EpochCounter, compile_model, make_dataset, resolve_precision

    out = {"quality_epochs": epochs, "quality_train_images": len(train_images)}
    for name, dtype, fused in (("plain_fp32", "float32", False), ("fast", resolve_precision("auto"), True)):
        keras.utils.set_random_seed(seed)
        ae, _, _ = build_autoencoder(dtype=dtype, fast_layers=fused)
        compile_model(ae, fused=fused)
        epoch = tf.Variable(0, dtype=tf.int64)
        data = make_dataset(train_images, 128, shuffle=True, seed=seed, epoch=epoch)
        start = time.perf_counter()
        ae.fit(data, epochs=epochs, verbose=0, shuffle=False, callbacks=[EpochCounter(epoch)])
        out[f"{name}_train_s"] = time.perf_counter() - start
        rec = reconstruct(ae, test_images)
        out[f"{name}_psnr_mean_float"] = mean_psnr(test_images.astype(np.float32) / 255.0, rec)
    out["psnr_difference_db"] = out["fast_psnr_mean_float"] - out["plain_fp32_psnr_mean_float"]
    return out


TARGETS = {"train_speedup_min": 2.5, "full_run_minutes_max": 40.0, "full_run_epochs": 50, "peak_memory_mib_max": 4096.0,
           "psnr_difference_db_max": 0.1, "hyperprior_vs_factorised_min": 1.0}  # the last: issue 13's training speed


def full_run_summary(run_dir, epochs: int = TARGETS["full_run_epochs"]) -> dict:
    """Wall time of a finished `python -m cae_helpers train` run (history.json, metrics.json) and its 50-epoch projection."""
    import json
    from pathlib import Path

    run = Path(run_dir)
    history = json.loads((run / "history.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    if history.get("resumed_from_epoch"):
        raise ValueError(f"{run} was resumed at epoch {history['resumed_from_epoch']}: its wall time covers only part of the run")
    per_epoch = history["train_wall_time_s"] / history["epochs_run"]
    return {"full_run_dir": str(run), "full_run_command": metrics["command"], "full_run_epochs_run": history["epochs_run"],
            "full_run_train_minutes": history["train_wall_time_s"] / 60,
            "full_run_total_minutes": metrics["wall_time_s"] / 60,  # data loading, training, evaluation, figures
            "full_run_seconds_per_epoch": per_epoch,  # fit + validation + checkpoint, averaged over the run
            f"full_run_projected_{epochs}_epoch_minutes": per_epoch * epochs / 60,
            "full_run_peak_rss_mib": metrics["peak_rss_mib"], "full_run_psnr_mean_float": metrics["psnr_mean_float"]}


def target_verdicts(result: dict) -> dict:
    """Each target of the speed issue that `result` holds the figures for: the figure, the bound, met or not."""
    t, out = TARGETS, {}
    if "train_speedup" in result:
        out["train_speedup"] = {"value": result["train_speedup"], "min": t["train_speedup_min"]}
    key = f"full_run_projected_{t['full_run_epochs']}_epoch_minutes"
    if key in result:
        out[key] = {"value": result[key], "max": t["full_run_minutes_max"]}
        out["full_run_peak_rss_mib"] = {"value": result["full_run_peak_rss_mib"], "max": t["peak_memory_mib_max"]}
    if "compress_images_per_s" in result and "webp_m6_encode_images_per_s" in result:
        ours = _round_trip(result["compress_images_per_s"], result["decompress_images_per_s"])
        for m in ("m6", "m4"):
            webp = _round_trip(result[f"webp_{m}_encode_images_per_s"], result[f"webp_{m}_decode_images_per_s"])
            out[f"round_trip_vs_webp_{m}"] = {"value": ours, "min": webp}
    if "train_hyperprior_vs_factorised" in result:
        out["train_hyperprior_vs_factorised"] = {"value": result["train_hyperprior_vs_factorised"],
                                                 "min": t["hyperprior_vs_factorised_min"]}
    if "psnr_difference_db" in result:
        out["psnr_difference_db"] = {"value": abs(result["psnr_difference_db"]), "max": t["psnr_difference_db_max"]}
    for v in out.values():
        v["met"] = bool(v["value"] >= v["min"]) if "min" in v else bool(v["value"] <= v["max"])
    return out


def _round_trip(encode_per_s: float, decode_per_s: float) -> float:
    """Images/s for encoding then decoding each image, one after the other."""
    return 1.0 / (1.0 / encode_per_s + 1.0 / decode_per_s)


def run_speed(args, argv) -> int:
    """The `bench speed` subcommand: every figure in one process, one after another."""
    from ..data import load_cifar100
    from ..io import command_line, peak_rss_mb, versions, write_json
    from ..training import resolve_precision

    data = load_cifar100(args.data)
    train_imgs = data.train.images[: args.train_images]
    result = {"command": command_line("python -m cae_helpers", argv),
              "timing": "best of --repeats timed passes after an untimed warm-up; images/s",
              "train_images_per_epoch": len(train_imgs), "fast_precision": resolve_precision("auto")}
    only = args.only_quality or args.only_codecs
    if not only:
        result["train_baseline_fp32_images_per_s"] = train_throughput(train_imgs, fast=False, repeats=args.repeats)
        result["train_fast_images_per_s"] = train_throughput(train_imgs, fast=True, repeats=args.repeats)
        result["train_speedup"] = result["train_fast_images_per_s"] / result["train_baseline_fp32_images_per_s"]
        result |= precision_throughputs(train_imgs, args.repeats)
        result |= coding_throughput(args.model, data.train.images[:10000], data.test.images, args.step, args.repeats)
        result |= pillow_throughput(data.test.images, args.repeats)
    if args.codecs or args.only_codecs:
        for kind in ("factorised", "hyperprior"):
            result[f"train_{kind}_images_per_s"] = codec_train_throughput(train_imgs, kind, repeats=args.repeats)
        result["train_hyperprior_vs_factorised"] = result["train_hyperprior_images_per_s"] / result["train_factorised_images_per_s"]
        result["hyperprior_output_precision"] = default_codec_config().output_precision  # how its output convolutions ran
    if args.quality_epochs:
        result |= equal_epochs_quality(data.train.images, data.test.images, args.quality_epochs)
    if args.full_run:
        result |= full_run_summary(args.full_run)
    result["peak_rss_mib"] = peak_rss_mb()
    result["targets"] = target_verdicts(result)
    result["versions"] = versions()
    out = Path(args.out)
    name = "quality.json" if args.only_quality else "codecs.json" if args.only_codecs else "speed.json"
    write_json(out / name, result)
    for k, v in result.items():
        if isinstance(v, float):
            print(f"{k:>40}: {v:,.2f}")
    for k, v in result["targets"].items():
        bound = f">= {v['min']:,.2f}" if "min" in v else f"<= {v['max']:,.2f}"
        print(f"target {k}: {v['value']:,.2f} {bound}: {'met' if v['met'] else 'NOT met'}")
    print(f"wrote {out / name}")
    return 0
