"""Fine-tune a codec's synthesis transform on the latents its decoder really sees; every byte string stays the same.

    TF_ENABLE_ONEDNN_OPTS=1 python tools/finetune_synthesis.py --data ../shared/data/cifar-100-python.tar.gz \
        --codec cae_helpers/zoo/hyperprior-continuous --out runs/synth-ft --epochs 4

Training fed g_s latents rounded at their bins' centres; the decoder feeds it values moved toward their bins' means
(byte format 10 on, `tools/fit_bin_means.py`), at quality levels on a 1/16 grid, from 40 coded channels. Here only g_s
learns, on exactly that input: the analysis, the hyper path and the integer tables stay, so the symbols, the bits and
the bytes of every image are unchanged and any gain is pure distortion. Data: train-codec's 45,000 fit images (protocol
"heldout", seed 0), `--draws` passes of them, each image at a level drawn uniformly from the grid (0 .. K-1), half as
zoomed crops (train-codec's `zoom_and_flip`, smooth content as in photographs). Loss: the mean over images of
10 log10(MSE), i.e. minus the mean per-image PSNR every table reports. Checked after each epoch on the 5,000 held-out
training images (image i at grid level i x 37 mod the grid's size: every level, no test image, no scikit-image photo),
as uint8 PSNR; the best epoch is kept. Writes --out as a codec folder (the input's tables, the new g_s, float16 as
shipped; its model identity is new, so bytes of one codec do not decode on the other) and record.json.
"""

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from cae_helpers.codec import HyperpriorCodec
from cae_helpers.data import load_cifar100, protocol_splits
from cae_helpers.io import command_line, versions, write_json
from cae_helpers.metrics import psnr_per_image
from cae_helpers.pixels import to_float, to_uint8
from cae_helpers.training.loop import zoom_and_flip_numpy

GRID = 16  # levels per unit, as the byte format's header stores them


def decoder_inputs(codec: HyperpriorCodec, images: np.ndarray, level16: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """What the decoder feeds g_s (N, H/4, W/4, C) float32 for uint8 images (N, H, W, 3), image i at level16[i] / 16."""
    out = None
    for lv in np.unique(level16):
        rows = np.flatnonzero(level16 == lv)
        for a in range(0, len(rows), chunk):
            r = rows[a:a + chunk]
            y, z = codec.gained_latents(to_float(images[r]), lv / GRID)
            y_sym, y_idx, _, mu = codec._quantised(y, z, lv / GRID)
            s = codec.synthesis_input(y_sym, y_idx, mu, lv / GRID)
            if out is None:
                out = np.empty((len(images),) + s.shape[1:], np.float32)
            out[r] = s
    return out


def log_mse(x, x_hat):
    """Per image 10 log10(MSE) (B,): its batch mean is minus the mean per-image PSNR (float pixels, before uint8)."""
    from keras import ops

    mse = ops.mean(ops.square(x - x_hat), axis=(1, 2, 3))
    return 10.0 * ops.log(mse + 1e-10) / np.log(10.0)


def heldout_psnr(synthesis, inputs: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Per-image uint8 PSNR (N,) of the decoded held-out images, as the decoder makes them (clipped, rounded)."""
    x = synthesis.predict(inputs, batch_size=500, verbose=0)
    return psnr_per_image(images, to_uint8(np.asarray(x, np.float32)))


def training_set(codec: HyperpriorCodec, images: np.ndarray, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(g_s inputs, target images float32) for `draws` passes over uint8 images, each at a random grid level, half zoomed."""
    rng = np.random.default_rng(seed)
    top = GRID * (codec.levels - 1)
    ins, outs = [], []
    for d in range(draws):
        x = zoom_and_flip_numpy(to_float(images), rng, 0.5, 4.0)  # rounded to 1/255 steps: real 8-bit images
        u8 = np.round(x * 255).astype(np.uint8)
        t0 = time.time()
        ins.append(decoder_inputs(codec, u8, rng.integers(0, top + 1, len(u8))))
        outs.append(to_float(u8))
        print(f"draw {d + 1}/{draws}: {len(u8)} images analysed in {time.time() - t0:.0f} s", flush=True)
    return np.concatenate(ins), np.concatenate(outs)


def band_psnr(psnr: np.ndarray, level16: np.ndarray, levels: int) -> dict[str, float]:
    """Mean PSNR per unit band of levels [k, k + 1) and over all."""
    bands = {f"{k}-{k + 1}": float(psnr[(level16 >= GRID * k) & (level16 < GRID * (k + 1))].mean()) for k in range(levels - 1)}
    return bands | {"all": float(psnr.mean())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="cifar-100-python.tar.gz")
    p.add_argument("--codec", required=True, help="the codec folder to start from")
    p.add_argument("--out", required=True, type=Path, help="new codec folder (refused if it exists)")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--draws", type=int, default=2, help="passes over the 45,000 fit images, each at fresh levels and crops")
    p.add_argument("--learning-rate", type=float, default=3e-5, help="Adam's, cosine-decayed to a tenth over the epochs")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fit-images", type=int, default=0, help="only the first N fit images (0: all 45,000; a smoke test)")
    p.add_argument("--val-images", type=int, default=5000, help="only the first N held-out images (a smoke test)")
    args = p.parse_args()
    if args.out.exists():
        raise SystemExit(f"error: {args.out} exists; remove it first")
    import keras

    keras.utils.set_random_seed(args.seed)
    data = load_cifar100(args.data)
    fit, val = protocol_splits(data.train, data.test, "heldout", 5000, 0)
    codec = HyperpriorCodec.load(args.codec)
    k = codec.levels
    fit_images, val_images = fit.images[:args.fit_images or None], val.images[:args.val_images]
    val_levels = (np.arange(len(val_images)) * 37) % (GRID * (k - 1) + 1)
    val_in = decoder_inputs(codec, val_images, val_levels)
    start = heldout_psnr(codec.model.synthesis, val_in, val_images)
    print(f"held-out start: {band_psnr(start, val_levels, k)}", flush=True)
    x_in, x_out = training_set(codec, fit_images, args.draws, args.seed)

    synthesis = codec.model.synthesis
    steps = args.epochs * (len(x_in) // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, alpha=0.1)
    synthesis.compile(optimizer=keras.optimizers.Adam(schedule), loss=log_mse)
    best, best_w, history = start.mean(), synthesis.get_weights(), []
    for epoch in range(args.epochs):
        t0 = time.time()
        fitted = synthesis.fit(x_in, x_out, batch_size=args.batch_size, epochs=1, shuffle=True, verbose=0)
        psnr = heldout_psnr(synthesis, val_in, val_images)
        row = {"epoch": epoch + 1, "loss": float(fitted.history["loss"][-1]), "seconds": round(time.time() - t0, 1),
               "heldout_psnr": band_psnr(psnr, val_levels, k)}
        history.append(row)
        print(json.dumps(row), flush=True)
        if psnr.mean() > best:
            best, best_w = psnr.mean(), synthesis.get_weights()
    synthesis.set_weights(best_w)

    shutil.copytree(args.codec, args.out)
    config = json.loads((Path(args.codec) / "config.json").read_text())
    info = {k2: v for k2, v in config.items() if k2 != "config"}
    info["synthesis_finetune"] = {"command": command_line("python tools/finetune_synthesis.py", None), "from": str(args.codec)}
    HyperpriorCodec(codec.model, codec.z_tables, codec.z_low, codec.y_tables, bin_mean_weights=codec.bin_mean_weights,
                    z_level_tables=codec.z_level_tables).save(args.out, info)
    shipped = heldout_psnr(HyperpriorCodec.load(args.out).model.synthesis, val_in, val_images)  # float16 as shipped
    write_json(args.out / "record.json", {"command": command_line("python tools/finetune_synthesis.py", None),
                                          "settings": {k2: str(v) for k2, v in vars(args).items()}, "fit_images": len(x_in),
                                          "start": band_psnr(start, val_levels, k), "history": history,
                                          "shipped_float16": band_psnr(shipped, val_levels, k), "versions": versions()})
    print(f"held-out shipped (float16): {band_psnr(shipped, val_levels, k)}", flush=True)


if __name__ == "__main__":
    main()
