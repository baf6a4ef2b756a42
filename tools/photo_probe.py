"""Probe: scikit-learn's two photographs coded whole at qualities 1-5, by training runs' latest epochs or saved codecs.

    python tools/photo_probe.py runs/finetune128 runs/coded40 > results/.../photo-probe.log

A quick check while a run trains (bench photos measures finished codecs against WebP and the others): each
argument is a `train-codec --out` folder (its latest epoch, weights rounded to float16 as they ship) or a folder
saved by `save_hyperprior` / `HyperpriorCodec.save`; prints its (bpp, PSNR) points and its BD-rate against the
shipped codec (negative: fewer bits at equal PSNR).
"""

import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_sample_images

from cae_helpers.bench.curves import bd_rate
from cae_helpers.codec import HyperpriorCodec, codec_from_run
from cae_helpers.hyperprior import load_hyperprior
from cae_helpers.metrics import psnr_per_image


def latest_epoch(run: Path) -> tuple[HyperpriorCodec, str]:
    """A run's latest checkpoint (not its best epoch) as a codec, and a label."""
    codec, info = codec_from_run(run, latest=True)
    return codec, f"epoch {info['epochs_done']}"


def saved(folder: Path) -> tuple[HyperpriorCodec, str]:
    """A saved codec (its own tables if it has them)."""
    if (folder / "tables.npz").is_file():
        return HyperpriorCodec.load(folder), "saved"
    return HyperpriorCodec.from_model(load_hyperprior(folder)), "saved, tables built here"


def curve(codec: HyperpriorCodec, photos: list, qualities=(1, 2, 3, 4, 5)) -> list[dict]:
    """Mean bpp of whole byte strings and mean PSNR (uint8) over the photos, per quality."""
    points = []
    for q in qualities:
        bpp, psnr = [], []
        for image in photos:
            blob = codec.compress(image[None], q, tiles=False)[0]
            out = codec.decompress([blob])[0]
            bpp.append(8 * len(blob) / (image.shape[0] * image.shape[1]))
            psnr.append(float(psnr_per_image(image[None], out[None])[0]))
        points.append({"bpp": float(np.mean(bpp)), "psnr_mean_uint8": float(np.mean(psnr))})
    return points


def _show(points: list[dict]) -> str:
    return ", ".join(f"{p['bpp']:.3f} bpp {p['psnr_mean_uint8']:.2f} dB" for p in points)


def main() -> None:
    photos = load_sample_images().images
    base = curve(HyperpriorCodec.load("cae_helpers/zoo/hyperprior"), photos)
    print(f"cae_helpers/zoo/hyperprior (shipped): {_show(base)}", flush=True)
    for arg in map(Path, sys.argv[1:]):
        codec, label = latest_epoch(arg) if (arg / "backup").is_dir() else saved(arg)
        points = curve(codec, photos)
        print(f"{arg} ({label}): {_show(points)}; BD-rate vs shipped {bd_rate(points, base):+.2f} %", flush=True)


if __name__ == "__main__":
    main()
