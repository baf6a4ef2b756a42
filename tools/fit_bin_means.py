"""Fit how far byte format 10 moves each decoded latent value toward its bin's mean, per quality level, on held-out training images.

    python tools/fit_bin_means.py --data ../shared/data/cifar-100-python.tar.gz --codec cae_helpers/zoo/hyperprior-coded \
        --out results/bin-means/hyperprior-coded.json [--write]

Versions 10-12 decode a value coded as symbol k at k + w(level) x offset, where offset moves it from its bin's centre to
the bin's mean under the Gaussian it was coded with (`entropy.tables.bin_mean_offsets`). At low rates the full move
(w = 1) gains about 0.3 dB; at the top levels it loses, because the synthesis was trained on values at the centres. So
w is chosen per level on a grid, by mean PSNR (uint8) of the images the codec decodes, on the first `--images` of
train-codec's 5,000 held-out *training* images (protocol "heldout", seed 0): no test image and no scikit-image photo.
The bytes do not change; `--write` stores the weights in the codec's tables.npz (`bin_mean_weights`), which the
decoder reads, so a shipped codec's pixels change only when this is run with --write.
"""

import numpy as np

from cae_helpers.codec import HyperpriorCodec
from cae_helpers.metrics import mean_psnr
from cae_helpers.pixels import to_float, to_uint8
from heldout_fit import finish, fit_parser, heldout_start

GRID = tuple(np.round(np.arange(0, 1.3001, 0.125), 3))  # w from 0 (the centres, as versions 3-9) to 1.25


def psnr_by_weight(codec: HyperpriorCodec, images: np.ndarray, level: float) -> dict[float, float]:
    """Mean PSNR (uint8) of the images decoded at each weight of GRID, from one analysis: {w: dB}."""
    y, z = codec.gained_latents(to_float(images), level)
    y_sym, y_idx, _, mu = codec._quantised(y, z, level)
    out = {}
    for w in GRID:
        x = codec.model.synthesis.predict(codec.synthesis_input(y_sym, y_idx, mu, level, w), batch_size=codec.batch_size, verbose=0)
        out[float(w)] = mean_psnr(images, to_uint8(np.asarray(x, np.float32)))
    return out


def main() -> None:
    p = fit_parser(__doc__, "weights")
    p.add_argument("--images", type=int, default=2000, help="held-out training images to fit on (default 2000)")
    args = p.parse_args()
    codec, heldout = heldout_start(args)
    images = heldout[:args.images]
    table, weights = {}, []
    for level in range(codec.levels):
        table[level + 1] = psnr_by_weight(codec, images, float(level))
        best = max(table[level + 1], key=table[level + 1].get)
        weights.append(best)
        row = table[level + 1]
        print(f"quality {level + 1}: w = {best:g} ({row[best]:.3f} dB; centres {row[0.0]:.3f}, means {row[1.0]:.3f})", flush=True)
    finish(args, codec, "fit_bin_means.py",
           {"images": f"the first {len(images):,} of train-codec's 5,000 held-out CIFAR-100 training images", "weights": weights,
            "psnr_by_quality_and_weight": table}, "bin_mean_weights", np.asarray(weights, np.float64), f"bin_mean_weights {weights}")


if __name__ == "__main__":
    main()
