"""Probe: share of y's bits the pruned model's 40 kept channels carry in the shipped codec, on CIFAR training images as they are
and on the same images as zoomed crops (share 1, up to 4x: the smooth content training also shows).

    python tools/pruned_channels_zoomed.py > weights/hyperprior-pruned-checkpoint/zoomed-usage.log
"""
import json, numpy as np, importlib.util
from cae_helpers.codec import HyperpriorCodec, ZOO
from cae_helpers.data import balanced_subset, load_cifar100
from cae_helpers.training.loop import zoom_and_flip_numpy
spec = importlib.util.spec_from_file_location("p", "tools/prune_codec.py"); p = importlib.util.module_from_spec(spec); spec.loader.exec_module(p)
codec = HyperpriorCodec.load(ZOO / "hyperprior")
imgs = balanced_subset(load_cifar100("../shared/data/cifar-100-python.tar.gz").train, 10).images
zoomed = zoom_and_flip_numpy(imgs.astype(np.float32) / 255, np.random.default_rng(0), 1.0, 4.0)
zoomed = np.clip(np.rint(zoomed * 255), 0, 255).astype(np.uint8)
keep = np.array(json.load(open("weights/hyperprior-pruned-checkpoint/prune-usage.json"))["keep_y"])
for name, x in (("CIFAR training images", imgs), ("the same, zoomed crops", zoomed)):
    b = p.channel_usage(codec, x)["y_bits"]
    share = b[:, keep].sum(1) / b.sum(1)
    order = np.argsort(-b.sum(0))
    print(f"{name}: kept channels carry {np.round(100 * share, 2)} % of y's bits at levels 1..8; "
          f"the top 40 there would carry {np.round(100 * np.cumsum(b[:, order], 1)[:, 39] / b.sum(1), 2)} %; "
          f"{len(np.setdiff1d(order[:40], keep))} of those 40 are not kept")
