"""Probe behind byte format 10: where to decode a latent value inside its bin. Tables of offsets fitted on 3,000 CIFAR-100
training images (per level, or pooled over levels) against the Gaussian bin means (`bin_mean_offsets`), on the first 1,000
test images; and the pooled table scaled by alpha on 1,000 other training images (45,000-45,999).

    python tools/bin_mean_probe.py > results/bin-means/probe.log   (run once, 2026-12-03, on 2 cores shared with a benchmark)
"""
import numpy as np
from scipy.stats import norm
import cae_helpers as cae
from cae_helpers.data import load_cifar100
from cae_helpers.entropy.tables import SCALES
from cae_helpers.pixels import to_float, to_uint8
from cae_helpers.metrics import mean_psnr

data = load_cifar100("../shared/data/cifar-100-python.tar.gz")
codec = cae.pretrained_codec(quality=1).codec
fit_imgs, hold, test = data.train.images[:3000], data.train.images[45000:46000], data.test.images[:1000]
N_IDX = len(SCALES)

def latents(images, level):
    y, z = codec.gained_latents(to_float(images), level)
    y_sym, y_idx, z_sym, mu = codec._quantised(y, z, level)
    return y, y_sym, y_idx, mu

def decode(y_hat, level):
    return to_uint8(np.asarray(codec.model.synthesis.predict((y_hat / codec.gains(level)[0]).astype(np.float32), batch_size=500, verbose=0)))

def sums(level):
    y, s, idx, mu = latents(fit_imgs, level)
    r = (y - mu - s) * np.sign(s)  # signed toward |s| growing
    k = np.minimum(np.abs(s), 3)
    tot, cnt = np.zeros((N_IDX, 4)), np.zeros((N_IDX, 4))
    np.add.at(tot, (idx, k), -r)
    np.add.at(cnt, (idx, k), 1)
    return tot, cnt

def table_from(tot, cnt):
    t = np.where(cnt >= 50, tot / np.maximum(cnt, 1), 0.0)
    t[:, 0] = 0
    return t

def gaussian_table():
    t = np.zeros((N_IDX, 4))
    for i, sg in enumerate(SCALES):
        for k in (1, 2, 3):
            a, b = (k - 0.5) / sg, (k + 0.5) / sg
            mass = norm.cdf(b) - norm.cdf(a)
            if mass > 1e-12:
                t[i, k] = k - sg * (norm.pdf(a) - norm.pdf(b)) / mass
    return t

def apply(s, idx, mu, table, alpha=1.0):
    k = np.minimum(np.abs(s), 3)
    return mu + s - alpha * np.sign(s) * table[idx, k]

levels = range(8)
stats = {lv: sums(lv) for lv in levels}
pooled = table_from(sum(stats[lv][0] for lv in levels), sum(stats[lv][1] for lv in levels))
gauss = gaussian_table()
print("pooled |s|=1 offsets by scale index:", np.round(pooled[:, 1], 3).tolist(), flush=True)
for lv in levels:
    per = table_from(*stats[lv])
    _, s, idx, mu = latents(hold, lv)
    alphas = {a: mean_psnr(hold, decode(apply(s, idx, mu, pooled, a), lv)) for a in (0.0, 0.5, 1.0, 1.5)}
    _, s, idx, mu = latents(test, lv)
    res = {name: mean_psnr(test, decode(apply(s, idx, mu, t), lv)) for name, t in (("none", np.zeros_like(pooled)), ("per-level", per), ("pooled", pooled), ("gaussian", gauss))}
    print(f"q{lv + 1}: test " + ", ".join(f"{n} {v:.3f}" for n, v in res.items()) + " | held-out train, pooled x alpha: " + ", ".join(f"{a}: {v:.3f}" for a, v in alphas.items()), flush=True)
