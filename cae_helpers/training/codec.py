"""The learned codecs' recipes: rate + lambda * distortion, best validation epoch kept, exact resume.

`train_hyperprior` trains the variable-rate hyperprior codec (all quality levels in one
model); `train_factorised` one factorised-prior model per lambda (the earlier baseline).
Both run through `loop.fit_resumable`; with `out_dir` a killed or time-limited run started
again with the same settings goes on where it stopped.
"""

from __future__ import annotations

import dataclasses
import math
import time

import keras
import numpy as np

from ..optimizers import FusedAdam
from .loop import FitSettings, ProgressLog, TimeLimit, data_parallel, fit_resumable, resolve_precision, set_seed


LATER_SETTINGS = {"large_patch": 0, "init_from": "", "passes": 1, "hyper_kernel": 3,
                  "init_partial": False, "context_slices": 0, "coded_channels": 0,
                  "output_precision": "float32", "continuous_levels": False,
                  "level_weight_power": 0.0, "tune_encoder": False, "encoder_blocks": 0, "tune_blocks_only": False,
                  "decoder_blocks": 0}  # added after runs were recorded: their defaults


def step_schedule(learning_rate: float, decay_at: float, epochs: int, steps_per_epoch: int):
    """Constant, then a tenfold drop at `decay_at` of all steps (a step schedule resumes with the optimizer)."""
    boundary = max(1, int(decay_at * epochs * steps_per_epoch))
    return keras.optimizers.schedules.PiecewiseConstantDecay([boundary], [learning_rate, learning_rate / 10])


def _fit(model, config, fit_images, val_images, out_dir, verbose, callbacks, settings: FitSettings,
         run_settings: dict | None = None) -> dict:
    """Compile with Adam + clipping, fit with the best validation epoch kept; the run's summary."""
    steps = math.ceil(len(fit_images) * getattr(config, "passes", 1) / config.batch_size)
    model.compile(optimizer=FusedAdam(step_schedule(config.learning_rate, config.decay_at, config.epochs, steps),
                                      global_clipnorm=config.clip_norm))
    # patience beyond the epoch count: never stops early, only remembers the best epoch's weights
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.epochs + 1, restore_best_weights=True)
    t0 = time.perf_counter()
    history, checkpoint = fit_resumable(model, stopper, fit_images, val_images, settings, out_dir, verbose, callbacks,
                                        run_settings=run_settings or dataclasses.asdict(config))
    epochs_done = len(history.get("val_loss", []))
    return {"history": history, "best_epoch": stopper.best_epoch + 1 if history else 0, "epochs_done": epochs_done,
            "finished": epochs_done >= config.epochs, "steps_done": epochs_done * steps,
            "train_wall_time_s_this_process": time.perf_counter() - t0,
            "resumed_from_epoch": checkpoint.resumed_from if checkpoint else 0,
            "fit_images": len(fit_images), "val_images": len(val_images)}


def train_hyperprior(config, fit_images, val_images, out_dir=None, verbose: int | str = 0,
                     callbacks: list | None = None, time_limit_s: float | None = None, workers: int = 1):
    """Train the variable-rate hyperprior codec; returns (model with the best epoch's weights, run summary).

    `workers`: threads preparing batches (NumPy batches only: other backends, or `config.large_patch`).
    """
    from ..hyperprior import build_hyperprior, copy_weights, transfer_weights

    set_seed(config.seed)
    data_parallel(config.batch_size)  # several JAX devices: each batch is split across them
    model = build_hyperprior(config, dtype=resolve_precision(config.precision), training=True)
    if config.init_partial:  # the config refuses it without init_from
        report = transfer_weights(model, config.init_from)  # a resumed run then loads its own checkpoint over these
        print(f"from {config.init_from}: copied {', '.join(report['copied']) or 'nothing'}; "
              f"fresh {', '.join(report['fresh']) or 'nothing'}", flush=True)
    elif config.init_from:
        copy_weights(model, config.init_from)
    if config.tune_encoder:
        freeze_decoder(model, config.init_from)
    cbs = [ProgressLog(config.epochs)] + ([TimeLimit(time_limit_s)] if time_limit_s else []) + list(callbacks or [])
    settings = FitSettings(config.epochs, config.batch_size, config.seed, val_batch_size=500, augment=config.augment,
                           max_zoom=config.max_zoom, large_patch=config.large_patch, workers=workers, passes=config.passes)
    # settings added later are left out at their defaults, so runs recorded before them still resume
    run_settings = {k: v for k, v in dataclasses.asdict(config).items() if LATER_SETTINGS.get(k, object()) != v}
    return model, _fit(model, config, fit_images, val_images, out_dir, verbose, cbs, settings, run_settings)


def freeze_decoder(model, codec_dir) -> None:
    """Leave `model`'s decoder parts untrained (with `tune_blocks_only`, every weight but the blocks `codec_dir` lacks) and
    make it train and validate on its coded path, with the saved codec's bin-mean weights."""
    from ..codec import HyperpriorCodec
    from ..hyperprior import new_blocks

    new = {layer.name for layer in new_blocks(model, codec_dir)}
    for part in model.decoder_parts():
        part.trainable = False
    if model.config.tune_blocks_only:  # the saved codec's weights all stay: only the blocks it lacks train
        model.hyper_analysis.trainable = False
        for net in (model.analysis, model.synthesis):
            net.trainable = True  # so the transform's own trainable_weights list its new blocks (untrainable, it lists none)
            for layer in net.layers:
                layer.trainable = layer.name in new
    elif any(name.startswith("gs_res") for name in new):
        raise ValueError(f"decoder blocks that {codec_dir} lacks would stay at their start (the identity) with the "
                         "decoder fixed: train them with tune_blocks_only")
    weights = HyperpriorCodec.load(codec_dir).bin_mean_weights
    if weights is not None:
        model.toward_means = np.asarray(weights, np.float32)
    model.use_coded_path = True


def train_factorised(config, fit_images, val_images, out_dir=None, verbose: int | str = "auto",
                     callbacks: list | None = None):
    """Train one factorised-prior codec at config.lmbda; returns (model with the best epoch's weights, run summary)."""
    from ..learned import build_rd_model, load_learned

    set_seed(config.seed)
    model = build_rd_model(config.lmbda, config.filters, config.latent_channels, config.downsamples,
                           dtype=resolve_precision(config.precision), training=True)
    if config.init_from:
        start, _ = load_learned(config.init_from)
        for mine, theirs in ((model.analysis, start.analysis), (model.synthesis, start.synthesis), (model.prior, start.prior)):
            mine.set_weights(theirs.get_weights())
    settings = FitSettings(config.epochs, config.batch_size, config.seed, val_batch_size=500)
    return model, _fit(model, config, fit_images, val_images, out_dir, verbose, callbacks, settings)
