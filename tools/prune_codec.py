"""Prune the latent channels a hyperprior codec does not use: a smaller, faster model that starts where the codec is.

    python tools/prune_codec.py --data /path/to/cifar-100-python.tar.gz --codec cae_helpers/zoo/hyperprior \
        --latent-channels 64 --hyper-channels 32 --out runs/pruned-init
    python tools/prune_codec.py --data ... --codec cae_helpers/zoo/hyperprior --coded-channels 40 --out runs/coded40

Measures, on CIFAR-100 *training* images (never the test set or the photo check set), how many bits each
channel of y and of z costs at every quality level under the codec's own tables, keeps the channels that
cost the most, and copies the weights restricted to them: the analysis' last and the synthesis' first
convolution, the hyper transforms' ends, the gains and the hyper-latent prior. A dropped y channel's mean
(what the decoder saw there) is folded into the bias of the synthesis convolution that reads it; that is
exact only away from the image edges, and on an 8x8 latent 28 of 64 positions touch an edge, so the pruned
synthesis is then fitted (least squares, Adam) to reproduce the codec's decoded images from the kept
channels. The hyper-analysis reads the *gained* y, whose dropped channels' means change with the level,
so no bias can stand in for them: its pruned copy is fitted to reproduce the codec's hyper-analysis output
from the kept channels at every level. Both fits: `--distill-epochs`, on CIFAR-100 training images.

`--coded-channels C` prunes only what codes and decodes y (`HyperpriorConfig.coded_channels`): the analysis keeps
all M outputs, reordered so the kept ones come first, and the hyper-analysis reads all of them as before, so the
encoder and the side information are exactly the source's; the hyper-synthesis' last convolution is an exact slice,
and only the synthesis (folded, then fitted) differs.
Writes weights.npz and config.json (a start for `train-codec --init-from`) and usage.json (bits per
channel and level, the kept channels, the fit's error).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from cae_helpers.codec import HyperpriorCodec
from cae_helpers.data import balanced_subset, load_cifar100
from cae_helpers.hyperprior import build_hyperprior, save_hyperprior
from cae_helpers.pixels import to_float


PRUNED = ("ga_out", "gs_in", "ha0", "ha_out", "hs0", "hs_out")  # the layers that read or write y or z


def channel_usage(codec: HyperpriorCodec, images: np.ndarray) -> dict[str, np.ndarray]:
    """Bits per image of each y and z channel at each level (K, M) and (K, Nz); mean ungained y_hat and gained y per channel."""
    k, m = codec.levels, codec.model.config.latent_channels
    nz = codec.z_tables.shape[0]
    out = {"y_bits": np.zeros((k, m)), "z_bits": np.zeros((k, nz)), "y_hat": np.zeros((k, m)), "y_gained": np.zeros((k, m))}
    x = to_float(images)
    for level in range(k):
        gy = codec.gains(level)[0]
        y, z = codec.gained_latents(x, level)
        y_sym, y_idx, z_sym, mu = codec._quantised(y, z, level)
        for c in range(m):
            out["y_bits"][level, c] = codec.y_coder.bits(y_sym[..., c], y_idx[..., c]) / len(x)
        for c in range(nz):
            out["z_bits"][level, c] = codec.z_coder.bits(z_sym[..., c], np.full(z_sym.shape[:-1], c)) / len(x)
        out["y_hat"][level] = ((y_sym + mu) / gy).mean(axis=(0, 1, 2))
        out["y_gained"][level] = y.mean(axis=(0, 1, 2))
    return out


def pruned_weights(codec: HyperpriorCodec, model, keep_y: np.ndarray, keep_z: np.ndarray, usage: dict) -> None:
    """Set `model` (the pruned architecture) from `codec.model`, restricted to channels keep_y of y and keep_z of z."""
    src = codec.model
    drop_y = np.setdiff1d(np.arange(src.config.latent_channels), keep_y)
    for name, part in model.parts().items():
        if name in ("y_gain", "z_gain"):
            part.set_weights([src.parts()[name].get_weights()[0][:, keep_y if name == "y_gain" else keep_z]])
        elif name == "z_prior":
            part.set_weights([w[keep_z] for w in src.z_prior.get_weights()])
        else:  # a transform: its layers whose shapes the pruning leaves alone are copied, the others set below
            _copy_layers(src.parts()[name], part, skip=PRUNED)
    g_a, h_a, h_s = (src.parts()[n] for n in ("analysis", "hyper_analysis", "hyper_synthesis"))
    kernel, bias = g_a.get_layer("ga_out").get_weights()
    model.analysis.get_layer("ga_out").set_weights([kernel[..., keep_y], bias[keep_y]])
    _fold_synthesis(src, model, keep_y, usage)
    kernel, bias = h_a.get_layer("ha0").get_weights()
    fold = np.einsum("ijcf,c->f", kernel[:, :, drop_y, :], usage["y_gained"].mean(axis=0)[drop_y])  # a start: see distill
    model.hyper_analysis.get_layer("ha0").set_weights([kernel[:, :, keep_y, :], bias + fold])
    kernel, bias = h_a.get_layer("ha_out").get_weights()
    model.hyper_analysis.get_layer("ha_out").set_weights([kernel[..., keep_z], bias[keep_z]])
    kernel, bias = h_s.get_layer("hs0").get_weights()  # transposed convolution: kernel (k, k, out, in)
    model.hyper_synthesis.get_layer("hs0").set_weights([kernel[..., keep_z], bias])
    _slice_hyper_synthesis(src, model, keep_y)


def coded_weights(codec: HyperpriorCodec, model, keep_y: np.ndarray, usage: dict) -> None:
    """Set `model` (the source's architecture with coded_channels = len(keep_y)) from `codec.model`, coding channels keep_y.

    The analysis' outputs (and their gains, and the hyper-analysis' inputs) are reordered, keep_y first: the
    encoder and z are the source's exactly; the hyper-synthesis is sliced exactly; the synthesis is folded.
    """
    src = codec.model
    order = np.concatenate([keep_y, np.setdiff1d(np.arange(src.config.latent_channels), keep_y)])
    for name, part in model.parts().items():
        if name == "y_gain":
            part.set_weights([src.y_gain.get_weights()[0][:, order]])
        elif name in ("z_gain", "z_prior"):
            part.set_weights(src.parts()[name].get_weights())
        else:
            _copy_layers(src.parts()[name], part, skip=("ga_out", "ha0", "gs_in", "hs_out"))
    kernel, bias = src.analysis.get_layer("ga_out").get_weights()
    model.analysis.get_layer("ga_out").set_weights([kernel[..., order], bias[order]])
    kernel, bias = src.hyper_analysis.get_layer("ha0").get_weights()
    model.hyper_analysis.get_layer("ha0").set_weights([kernel[:, :, order, :], bias])
    _fold_synthesis(src, model, keep_y, usage)
    _slice_hyper_synthesis(src, model, keep_y)


def _copy_layers(source, target, skip: tuple) -> None:
    """Copy every weighted layer of transform `source` into `target` (same layer names), except those named in `skip`."""
    for layer in target.layers:
        if layer.weights and layer.name not in skip:
            layer.set_weights(source.get_layer(layer.name).get_weights())


def _fold_synthesis(src, model, keep_y: np.ndarray, usage: dict) -> None:
    """g_s's first convolution restricted to keep_y: a dropped input becomes a constant, its mean times the kernel, in the bias."""
    drop_y = np.setdiff1d(np.arange(src.config.latent_channels), keep_y)
    kernel, bias = src.synthesis.get_layer("gs_in").get_weights()
    fold = np.einsum("ijcf,c->f", kernel[:, :, drop_y, :], usage["y_hat"].mean(axis=0)[drop_y])
    model.synthesis.get_layer("gs_in").set_weights([kernel[:, :, keep_y, :], bias + fold])


def _slice_hyper_synthesis(src, model, keep_y: np.ndarray) -> None:
    """h_s's last convolution restricted to keep_y's means and log-scales (outputs: M means, then M log-scales)."""
    kernel, bias = src.hyper_synthesis.get_layer("hs_out").get_weights()
    both = np.concatenate([keep_y, src.config.latent_channels + keep_y])
    model.hyper_synthesis.get_layer("hs_out").set_weights([kernel[..., both], bias[both]])


def _fit(student, inputs: np.ndarray, target: np.ndarray, epochs: int) -> dict:
    """Adam on the mean squared error of `student(inputs)` against `target`; the error before and after."""
    import keras

    student.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mse")
    before = float(student.evaluate(inputs, target, batch_size=256, verbose=0))
    student.fit(inputs, target, batch_size=64, epochs=epochs, verbose=2, shuffle=True)
    after = float(student.evaluate(inputs, target, batch_size=256, verbose=0))
    return {"mse_before": before, "mse_after": after, "target_variance": float(target.var()), "epochs": epochs}


def distill(codec: HyperpriorCodec, model, keep_y: np.ndarray, images: np.ndarray, epochs: int, seed: int = 0,
            hyper_analysis: bool = True) -> dict:
    """Fit the pruned h_a (unless `hyper_analysis` is False: kept exact) and g_s to the codec's own outputs, every level mixed.

    The targets: h_a's output before the z gain; the decoded image.
    """
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    y = np.asarray(codec.model.analysis.predict(to_float(images), batch_size=256, verbose=0), np.float64)  # (N, 8, 8, M)
    levels = rng.integers(0, 4 * (codec.levels - 1) + 1, len(y)) / 4  # quarter levels too: the codec allows fractions
    gains = np.stack([codec.gains(lv)[0] for lv in levels])[:, None, None, :]
    y_g = y * gains
    ha_target = np.asarray(codec.model.hyper_analysis.predict(y_g.astype(np.float32), batch_size=256, verbose=0))
    y_hat = np.empty_like(y)  # what the codec's decoder sees (ungained), level by level
    for lv in np.unique(levels):
        rows = levels == lv
        sym, _, _, mu = codec._quantised(y_g[rows], ha_target[rows] * codec.gains(lv)[1], lv)
        y_hat[rows] = (sym + mu) / gains[rows]
    y_g, y_hat = y_g.astype(np.float32), y_hat.astype(np.float32)
    gs_target = np.asarray(codec.model.synthesis.predict(y_hat, batch_size=256, verbose=0))
    fits = {"synthesis": _fit(model.synthesis, y_hat[..., keep_y], gs_target, epochs)}
    if hyper_analysis:
        fits["hyper_analysis"] = _fit(model.hyper_analysis, y_g[..., keep_y], ha_target, epochs)
    return fits


def source_record(codec_dir: Path) -> dict:
    """What the pruned start keeps of the codec it came from: its training record (export reads it as `started_from`)."""
    earlier = {k: v for k, v in json.loads((codec_dir / "config.json").read_text()).items() if k != "config"}
    return {"pruned_from": str(codec_dir), "started_from": earlier,
            "steps_done_in_all": earlier.get("steps_done_in_all", earlier.get("steps_done", 0))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="cifar-100-python.tar.gz")
    p.add_argument("--codec", type=Path, default=Path("cae_helpers/zoo/hyperprior"))
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--latent-channels", type=int, help="keep this many y channels everywhere (a smaller analysis output)")
    how.add_argument("--coded-channels", type=int, help="code this many y channels; the analysis and hyper-analysis stay whole")
    p.add_argument("--hyper-channels", type=int, help="z channels to keep (with --latent-channels; default: all)")
    p.add_argument("--per-class", type=int, default=20, help="training images per class to measure the channels on")
    p.add_argument("--distill-per-class", type=int, default=200, help="training images per class to fit the pruned parts on")
    p.add_argument("--distill-epochs", type=int, default=5, help="epochs of that fit (0: keep the folded start)")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    if (args.out / "weights.npz").exists():
        raise SystemExit(f"{args.out} already holds a codec: choose another --out")
    codec = HyperpriorCodec.load(args.codec)
    images = balanced_subset(load_cifar100(args.data).train, args.per_class).images
    usage = channel_usage(codec, images)
    src = codec.model.config
    kept_y = args.coded_channels or args.latent_channels
    hyper_channels = src.hyper_channels if args.coded_channels or not args.hyper_channels else args.hyper_channels
    keep_y = np.sort(np.argsort(-usage["y_bits"].sum(axis=0))[:kept_y])
    keep_z = np.sort(np.argsort(-usage["z_bits"].sum(axis=0))[:hyper_channels])
    if args.coded_channels:
        config = dataclasses.replace(src, coded_channels=kept_y, init_from="", init_partial=False)
        model = build_hyperprior(config)
        coded_weights(codec, model, keep_y, usage)
    else:
        config = dataclasses.replace(src, latent_channels=kept_y, hyper_channels=hyper_channels, init_from="", init_partial=False)
        model = build_hyperprior(config)
        pruned_weights(codec, model, keep_y, keep_z, usage)
    fit = {}
    if args.distill_epochs:
        fit = distill(codec, model, keep_y, balanced_subset(load_cifar100(args.data).train, args.distill_per_class).images,
                      args.distill_epochs, hyper_analysis=not args.coded_channels)
    mode = f"--coded-channels {kept_y}" if args.coded_channels else f"--latent-channels {kept_y} --hyper-channels {hyper_channels}"
    command = (f"python tools/prune_codec.py --data {args.data} --codec {args.codec} {mode} --per-class {args.per_class}"
               f" --distill-per-class {args.distill_per_class} --distill-epochs {args.distill_epochs} --out {args.out}")
    save_hyperprior(model, args.out, {"pruned_by": command, **source_record(args.codec)})
    kept = {"y": float(usage["y_bits"][:, keep_y].sum() / usage["y_bits"].sum()),
            "z": float(usage["z_bits"][:, keep_z].sum() / usage["z_bits"].sum())}
    record = {"command": command, "images": len(images), "keep_y": keep_y.tolist(), "keep_z": keep_z.tolist(),
              "share_of_bits_kept": kept, "distillation": fit, "y_bits_per_image": usage["y_bits"].round(4).tolist(),
              "z_bits_per_image": usage["z_bits"].round(4).tolist()}
    (args.out / "usage.json").write_text(json.dumps(record, indent=1))
    print(f"kept {kept_y} y channels ({100 * kept['y']:.3f} % of y's bits) and {hyper_channels} z channels "
          f"({100 * kept['z']:.3f} % of z's bits); wrote {args.out}")


if __name__ == "__main__":
    main()
