"""The classic codecs people use (Pillow's WebP, JPEG, AVIF): whole files, round trips and quality sweeps."""

from __future__ import annotations

import io
import time

import numpy as np

from .curves import rd_point


CLASSIC = {
    "WebP": ("WEBP", "quality", (0, 5, 10, 20, 30, 45, 60, 75, 88, 95), {"method": 6}),
    "JPEG 4:4:4": ("JPEG", "quality", (5, 10, 20, 30, 50, 70, 90), {"subsampling": 0}),
    "JPEG 4:2:0": ("JPEG", "quality", (5, 10, 20, 30, 50, 70, 90), {"subsampling": 2}),
    "AVIF": ("AVIF", "quality", (10, 25, 40, 50, 60, 75, 90), {}),
}


def pillow_round_trip(images: np.ndarray, fmt: str, **kwargs) -> tuple[list[bytes], np.ndarray, float, float]:
    """Encode each image to a whole file with Pillow and decode it back: (files, decoded, encode s, decode s)."""
    from PIL import Image

    files = []
    start = time.perf_counter()
    for img in images:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, fmt, **kwargs)
        files.append(buf.getvalue())
    encode_s = time.perf_counter() - start
    start = time.perf_counter()
    decoded = np.stack([np.asarray(Image.open(io.BytesIO(f)).convert("RGB")) for f in files])
    return files, decoded, encode_s, time.perf_counter() - start


def classic_curves(images: np.ndarray, codecs: dict = CLASSIC, progress: bool = True) -> dict[str, list[dict]]:
    """Each classic codec's quality sweep on `images`."""
    from tqdm.auto import tqdm

    curves = {}
    for name, (fmt, knob, values, fixed) in codecs.items():
        points = []
        for v in tqdm(values, desc=name, disable=not progress):
            files, decoded, enc_s, dec_s = pillow_round_trip(images, fmt, **{knob: v}, **fixed)
            points.append(rd_point(images, decoded, np.array([len(f) for f in files]), enc_s, dec_s, **{knob: v}, **fixed))
        curves[name] = points
    return curves
