"""Where refinement's gain comes from, on scikit-learn's two photographs coded whole (never scikit-image's).

    python tools/refine_probe.py 1,3 25 both,y,z,proxy-z,proxy-yz

For each quality and mode, 25 (the second argument) refinement steps at learning rate 0.02 with
  both      the shipped refinement: y and z, loss with the synthesis in the loop
  y / z     only that latent moves (the other's Adam update is zeroed)
  proxy-*   the distortion measured in the latent domain instead: no synthesis in the loop (half the step's cost),
            pixel MSE per unit of latent error calibrated on the plain codec's own decode of the two photographs
Prints bpp of whole byte strings, mean PSNR (uint8) and seconds (compress, both photographs). Patches
`cae_helpers.refine` in this process only; the codec's safeguard (keep the plain latents where their real loss
is lower) still applies.
"""

import sys
import time

import numpy as np
from keras import ops

from cae_helpers import refine
from cae_helpers.bench.photos import sample_photos
from cae_helpers.codec import _pad, pretrained_codec
from cae_helpers.entropy.priors import bits, gaussian_likelihood
from cae_helpers.hyperprior import mean_scale
from cae_helpers.metrics import mean_psnr
from cae_helpers.pixels import to_float
from cae_helpers.refine import RefineSettings, soft_round

SHIPPED_LOSS, SHIPPED_STEP = refine._loss, refine._Adam.step
CALIBRATION = {}  # "c": pixel MSE per unit of mean squared (ungained) latent error, set per quality


def latent_domain_loss(model, y, z, tau, noise_y, noise_z, x, gy, gz, lmbda):
    """refine._loss with the pixel MSE replaced by c * mean squared latent error: no synthesis transform."""
    pixels = ops.cast(ops.shape(x)[1] * ops.shape(x)[2], "float32")
    z_hat = soft_round(z, tau, noise_z)
    mu, sigma = mean_scale(model.hyper_synthesis(z_hat / gz, training=False), gy)
    y_hat = soft_round(y - mu, tau, noise_y) + mu
    rate = bits(gaussian_likelihood(y_hat, mu, sigma)) + bits(model.z_prior.likelihood(z_hat))
    dist = CALIBRATION["c"] * ops.mean(ops.square((y_hat - y) / gy), axis=(1, 2, 3))
    return ops.sum(rate / pixels + lmbda * 255.0**2 * dist)


def moving(which: tuple[int, ...]):
    """An Adam step that updates only the latents numbered in `which` (0: y, 1: z)."""
    return lambda self, params, grads: SHIPPED_STEP(self, params, [g if i in which else np.zeros_like(g) for i, g in enumerate(grads)])


def calibrate(codec, images: np.ndarray, level: float) -> float:
    """Pixel MSE of the plain decode divided by the mean squared latent quantisation error (ungained units)."""
    x = _pad(to_float(images))
    gy, gz = codec.gains(level)
    y = np.asarray(codec.model.analysis.predict(x, verbose=0), np.float64) * gy
    z = np.asarray(codec.model.hyper_analysis.predict(y.astype(np.float32), verbose=0), np.float64) * gz
    y_sym, _, _, mu = codec._quantised(y, z, level)
    y_hat = ((y_sym + mu) / gy).astype(np.float32)
    x_hat = np.clip(np.asarray(codec.model.synthesis.predict(y_hat, verbose=0)), 0, 1)[:, :images.shape[1], :images.shape[2]]
    return float(np.mean((x_hat - to_float(images)) ** 2) / np.mean((y_hat - y / gy) ** 2))


def main() -> None:
    qualities, steps, modes = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    images = np.stack(list(sample_photos("sklearn").values()))
    for q in (int(a) for a in qualities.split(",")):
        codec = pretrained_codec(q).codec
        CALIBRATION["c"] = calibrate(codec, images, q - 1)
        for mode in modes:
            refine._loss = latent_domain_loss if mode.startswith("proxy") else SHIPPED_LOSS
            refine._Adam.step = moving({"y": (0,), "z": (1,)}.get(mode.removeprefix("proxy-"), (0, 1)))
            refine._STEPS.clear()  # the compiled step is cached per model: rebuild it for this loss
            t0 = time.time()
            blobs = codec.compress(images, q, refine=RefineSettings(steps=steps))
            seconds = time.time() - t0
            psnr = mean_psnr(images, codec.decompress(blobs))
            bpp = 8 * sum(map(len, blobs)) / images[..., 0].size
            print(f"q{q} {mode} {steps} steps: {bpp:.4f} bpp {psnr:.3f} dB {seconds:.0f}s", flush=True)


if __name__ == "__main__":
    main()
