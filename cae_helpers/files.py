"""Image files in and out of the codec: reading (as a viewer shows them), writing PNG, WebP at a byte budget.

What is refused, with a message naming the file: images with an alpha channel (unless
`drop_alpha`, which composites nothing and simply keeps RGB), 16-bit or float images, and
anything Pillow cannot open. Greyscale images are coded as RGB (three equal channels).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .errors import CodecError

SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def read_image(path, drop_alpha: bool = False) -> np.ndarray:
    """uint8 (H, W, 3) as an image viewer shows the file (EXIF orientation applied)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            mode = im.mode
            if mode in ("I;16", "I;16B", "I;16L", "I", "F") or mode.startswith("I;16"):
                raise CodecError(f"{path}: {mode} image (16-bit or float); this codec stores 8 bits per channel: convert it first")
            has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info)
            if has_alpha and not drop_alpha:
                raise CodecError(f"{path}: has an alpha channel; this codec stores RGB only (pass --drop-alpha to code the colours)")
            return np.asarray(im.convert("RGB"), np.uint8)
    except UnidentifiedImageError as err:
        raise CodecError(f"{path}: not an image Pillow can read") from err


def write_png(path, image: np.ndarray) -> None:
    """Write uint8 (H, W, 3) as PNG."""
    from PIL import Image

    Image.fromarray(np.asarray(image, np.uint8)).save(path, "PNG")


def webp_at_budget(image: np.ndarray, max_bytes: int) -> tuple[bytes, np.ndarray, int] | None:
    """WebP (method 6) at the highest quality whose file fits `max_bytes`: (file, decoded, quality); None if none fits."""
    from PIL import Image

    def encode(q: int) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, "WEBP", quality=q, method=6)
        return buf.getvalue()

    lo, hi, best = 0, 100, None
    while lo <= hi:  # file size grows with quality (nearly always): bisect on it
        mid = (lo + hi) // 2
        data = encode(mid)
        if len(data) <= max_bytes:
            best, lo = (data, mid), mid + 1
        else:
            hi = mid - 1
    if best is None:
        return None
    data, q = best
    return data, np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), q


def expand_inputs(inputs: list[str], suffixes: tuple[str, ...]) -> list[Path]:
    """Files named directly, and the files with one of `suffixes` inside named folders (sorted)."""
    found = []
    for name in inputs:
        p = Path(name)
        if p.is_dir():
            found += sorted(q for q in p.iterdir() if q.suffix.lower() in suffixes and q.is_file())
        elif p.is_file():
            found.append(p)
        else:
            raise FileNotFoundError(f"{name}: no such file or folder")
    if not found:
        raise FileNotFoundError(f"no input files with suffix {', '.join(suffixes)} in {', '.join(inputs)}")
    return found


def output_path(src: Path, out: Path | None, suffix: str, many: bool) -> Path:
    """Where `src` goes: beside it, into folder `out`, or to file `out` (one input only)."""
    if out is None:
        return src.with_suffix(suffix)
    if many or out.is_dir() or str(out).endswith(("/", "\\")):
        return out / (src.stem + suffix)
    return out
