"""Probe (`python tools/ha_finetune_probe.py 1200 1e-4`, from the repository root): fine-tune h_a alone (everything else frozen) on 64x64 photo-like patches and CIFAR batches, then code the
sklearn photographs whole with the plain encoder. Training loss is the model's own (mixed quantisation: with the
straight-through rounding the distortion gives h_a no gradient, so this is rate only)."""
import sys, time
import numpy as np
import keras
from cae_helpers import load_cifar100
from cae_helpers.bench.photos import sample_photos
from cae_helpers.codec import HyperpriorCodec, ZOO
from cae_helpers.metrics import mean_psnr
from cae_helpers.training.loop import mosaic_patches, zoom_and_flip_numpy

budget = float(sys.argv[1])
shipped = HyperpriorCodec.load(ZOO / "hyperprior")
model = shipped.model
for name in ("analysis", "synthesis", "hyper_synthesis", "y_gain", "z_gain", "z_prior"):
    getattr(model, name).trainable = False
model.compile(optimizer=keras.optimizers.Adam(float(sys.argv[2])))
train = load_cifar100("../shared/data/cifar-100-python.tar.gz").train.images.astype(np.float32) / 255.0
rng = np.random.default_rng(0)
photos = np.stack(list(sample_photos("sklearn").values()))

def measure(codec, tag):
    for q in (1, 3, 5):
        blobs = codec.compress(photos, q)
        psnr = mean_psnr(photos, codec.decompress(blobs))
        print(f"{tag} q{q}: {8 * sum(map(len, blobs)) / photos[..., 0].size:.4f} bpp {psnr:.3f} dB", flush=True)

before = [w.copy() for w in model.hyper_analysis.get_weights()]
t0, step, hist = time.time(), 0, []
while time.time() - t0 < budget:
    idx = rng.integers(0, len(train), 128 if step % 2 == 0 else 32)
    x = mosaic_patches(train[idx], rng, 64, 0.5, 4.0) if step % 2 == 0 else zoom_and_flip_numpy(train[idx], rng, 0.5, 4.0)
    out = model.train_on_batch(x, x, return_dict=True)
    hist.append(out["bpp"])
    step += 1
    if step % 200 == 0:
        print(f"step {step} {time.time() - t0:.0f}s bpp(running) {np.mean(hist[-200:]):.4f}", flush=True)
print("steps", step, "changed", max(float(np.abs(a - b).max()) for a, b in zip(model.hyper_analysis.get_weights(), before)), flush=True)
codec = HyperpriorCodec(model, shipped.z_tables, shipped.z_low, shipped.y_tables)
measure(codec, "h_a tuned")
