"""Bytes of byte format 16 (z under per-level tables) against 13 (the shared tables) on photographs: the pixels are equal.

    python tools/z_levels_photos.py > results/z-levels/photos.log

The default codec codes the 520 32x32 crops of scikit-learn's two photographs and the two photographs themselves
(whole, full size) at qualities 1 to 8, once as it ships (format 16) and once without its per-level z tables
(format 13); only z's coding differs, so the decoded images are the same and the bytes say it all.
"""

import dataclasses

import numpy as np
from sklearn.datasets import load_sample_images

from cae_helpers.codec import pretrained_codec
from cae_helpers.data import photo_crops


def main() -> None:
    new = pretrained_codec(quality=1).codec
    old = dataclasses.replace(new, z_level_tables=None)
    crops = photo_crops()[0]
    photos = [np.asarray(im) for im in load_sample_images().images]
    print("quality: mean bytes of a photo crop (format 13 -> 16) | each photograph coded whole (13 -> 16)")
    for q in range(1, new.levels + 1):
        c16, c13 = (np.mean([len(b) for b in c.compress(crops, q, colour=False)]) for c in (new, old))
        row = f"{q}: crops {c13:.2f} -> {c16:.2f}"
        for photo in photos:
            b16, b13 = (len(c.compress(photo[None], q, tiles=False, colour=False)[0]) for c in (new, old))
            row += f" | photo {b13} -> {b16} ({100 * (b16 - b13) / b13:+.2f} %)"
        print(row, flush=True)


if __name__ == "__main__":
    main()
