"""CompressAI's bmshj2018-hyperprior trained on the same CIFAR-100 images, on the same cores, for a set wall-clock time.

    .venv-compressai/bin/python benchmarks/compressai/peer.py --data ../shared/data/cifar-100-python.tar.gz \
        --hours 2.0 --out results/compressai-peer

The peer for `train-codec` at equal compute: CompressAI's own `ScaleHyperprior` (bmshj2018-hyperprior,
N=128, M=192), one model per lambda of our quality levels (same loss: bpp + lambda * 255^2 * MSE),
the wall-clock budget split evenly between them, Adam 1e-4 and CompressAI's auxiliary loss at 1e-3
(its example recipe), batch 32, random flips, on the 50,000 training images, last weights kept
(saved in --out/models/ as each lambda's training ends; a rerun with the same --out trains only the lambdas
not yet saved, then codes with all of them).
CompressAI's hyperprior needs sides that are multiples of 64, so each 32x32 image is zero-padded to
64x64 around its centre (as CompressAI's own evaluation pads), in training and coding; the loss and
PSNR use the 32x32 centre, and the rate counts every bit over the 1,024 real pixels.
Then `update()` and CompressAI's real `compress` / `decompress` on the test images: bytes per image
= y string + z string + 1 byte for the z string's length (the shape is fixed for 32x32); PSNR on
uint8 (MAX 255) and SSIM (Gaussian 11x11, sigma 1.5), mean per image. The same models also code the 520 32x32 photo crops of
scikit-learn's sample photographs (`bench rd --images photos`). Writes rd.json (CIFAR) and
rd-photos.json (crops) in `bench rd`'s layout, so `python -m cae_helpers bench rd --merge
results/compressai-peer/rd.json ...` (and `--images photos --merge .../rd-photos.json`) puts it on our plots.
Runs in its own environment (requirements.txt beside this file), not the package's.
"""

import argparse
import io
import json
import math
import pickle
import platform
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

LAMBDAS = (0.0005, 0.00143, 0.00412, 0.0118, 0.0339, 0.0972, 0.279, 0.8)  # cae_helpers.hyperprior.DEFAULT_LAMBDAS
NAME = "CompressAI bmshj2018-hyperprior (same data and compute)"


def load_split(archive: str, split: str) -> np.ndarray:
    """uint8 (N, 32, 32, 3) from the official cifar-100-python archive."""
    with tarfile.open(archive, "r:gz") as tar:
        d = pickle.load(io.BytesIO(tar.extractfile(f"cifar-100-python/{split}").read()), encoding="bytes")
    return np.asarray(d[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def photo_crops(size: int = 32) -> tuple[np.ndarray, list[str]]:
    """The 520 non-overlapping 32x32 crops of scikit-learn's two sample photographs, as cae_helpers.data.photo_crops."""
    from sklearn.datasets import load_sample_images

    sample = load_sample_images()
    crops = [img[i:i + size, j:j + size] for img in sample.images
             for i in range(0, img.shape[0] - size + 1, size) for j in range(0, img.shape[1] - size + 1, size)]
    return np.stack(crops).astype(np.uint8), [Path(f).name for f in sample.filenames]


def pad64(x):
    """(B, 3, 32, 32) -> (B, 3, 64, 64), zeros around the centre (CompressAI's evaluation pads with zeros)."""
    import torch.nn.functional as F

    return F.pad(x, (16, 16, 16, 16), mode="constant", value=0)


def centre(x):
    return x[:, :, 16:48, 16:48]


def train_one(model, images: np.ndarray, lmbda: float, seconds: float, rng: np.random.Generator) -> dict:
    """CompressAI's example recipe for `seconds` of wall-clock time; returns steps and time."""
    import torch

    params = {n for n, p in model.named_parameters() if not n.endswith(".quantiles")}
    optimizer = torch.optim.Adam((p for n, p in model.named_parameters() if n in params), lr=1e-4)
    aux_optimizer = torch.optim.Adam((p for n, p in model.named_parameters() if n.endswith(".quantiles")), lr=1e-3)
    model.train()
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        idx = rng.integers(0, len(images), 32)
        batch = images[idx].astype(np.float32) / 255.0
        flip = rng.random(32) < 0.5
        batch[flip] = batch[flip, :, ::-1]
        x = torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))
        out = model(pad64(x))
        bpp = sum(torch.log(lik).sum() / (-math.log(2) * x.shape[0] * 32 * 32) for lik in out["likelihoods"].values())
        loss = bpp + lmbda * 255**2 * torch.mean((centre(out["x_hat"]) - x) ** 2)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        aux_optimizer.zero_grad()
        model.aux_loss().backward()
        aux_optimizer.step()
        steps += 1
    return {"steps": steps, "train_s": time.perf_counter() - start}


def code_test_set(model, images: np.ndarray) -> dict:
    """Real compress / decompress of every test image: bpp from the byte strings, PSNR and SSIM on uint8."""
    import torch
    from pytorch_msssim import ssim  # Gaussian 11x11, sigma 1.5, valid window: equals cae_helpers.metrics.ssim_per_image

    model.eval()
    model.update(force=True)
    nbytes, psnr, ssims = [], [], []
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(images), 250):
            x = torch.from_numpy(images[i:i + 250].transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
            enc = model.compress(pad64(x))
            dec = model.decompress(enc["strings"], enc["shape"])
            rec = np.clip(np.rint(centre(dec["x_hat"]).numpy().transpose(0, 2, 3, 1) * 255), 0, 255)
            nbytes += [len(y) + len(z) + 1 for y, z in zip(*enc["strings"])]
            mse = ((rec - images[i:i + 250].astype(np.float64)) ** 2).mean(axis=(1, 2, 3))
            psnr += list(10 * np.log10(255**2 / np.maximum(mse, 1e-12)))
            ssims += ssim(torch.from_numpy(rec.transpose(0, 3, 1, 2).astype(np.float32)), x * 255, data_range=255,
                          size_average=False, win_size=11, win_sigma=1.5).tolist()
    return {"bpp": float(np.mean(nbytes) * 8 / 1024), "bytes_mean": float(np.mean(nbytes)), "psnr_mean_uint8": float(np.mean(psnr)),
            "ssim_mean_uint8": float(np.mean(ssims)), "coding_s": time.perf_counter() - start}


def cpu_kind() -> str:
    """The CPU's model name from /proc/cpuinfo (speed figures hold for one CPU kind only)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    import compressai
    import torch
    from compressai.models import ScaleHyperprior

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="cifar-100-python.tar.gz")
    p.add_argument("--hours", type=float, required=True, help="total training wall-clock, split evenly over the lambdas")
    p.add_argument("--lambdas", type=float, nargs="+", default=LAMBDAS)
    p.add_argument("--test-images", type=int, default=10000, help="the first N test images (all 10,000 by default)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--overwrite", action="store_true", help="replace rd.json / rd-photos.json already in --out")
    args = p.parse_args()
    taken = [f for f in ("rd.json", "rd-photos.json") if (args.out / f).exists()]
    if taken and not args.overwrite:
        p.error(f"{args.out} already holds {', '.join(taken)}; pass --overwrite to replace, or choose another --out")
    torch.set_num_threads(args.threads)
    train, test = load_split(args.data, "train"), load_split(args.data, "test")[: args.test_images]
    crops, names = photo_crops()
    sets = {"rd.json": (test, f"{len(test)} CIFAR-100 test images from {args.data}", f"CIFAR-100 test ({len(test)} images)"),
            "rd-photos.json": (crops, f"{len(crops)} 32x32 crops of scikit-learn's sample photographs ({', '.join(names)})",
                               f"photo crops ({len(crops)}, not CIFAR)")}
    points = {name: [] for name in sets}
    models = args.out / "models"
    models.mkdir(parents=True, exist_ok=True)
    # Phase 1: train every lambda first (the phase that needs quiet cores); each model is saved as it ends,
    # so an interrupted run resumes at the next lambda with the same per-lambda budget.
    for k, lmbda in enumerate(args.lambdas):
        path = models / f"lambda-{lmbda:g}.pt"
        if path.exists():
            print(f"lambda {lmbda:g}: trained model found in {path}, not retrained", flush=True)
            continue
        torch.manual_seed(k)
        model = ScaleHyperprior(N=128, M=192)
        run = train_one(model, train, lmbda, args.hours * 3600 / len(args.lambdas), np.random.default_rng(k))
        torch.save({"state_dict": model.state_dict(), "run": run, "lmbda": lmbda, "threads": args.threads}, path)
        print(f"lambda {k + 1}/{len(args.lambdas)} trained ({run['steps']} steps); about "
              f"{(len(args.lambdas) - k - 1) * args.hours / len(args.lambdas):.2f} h of training left", flush=True)
    # Phase 2: real compress / decompress with each saved model (timings only are affected by other load).
    for lmbda in args.lambdas:
        saved = torch.load(models / f"lambda-{lmbda:g}.pt", weights_only=False)
        model = ScaleHyperprior(N=128, M=192)
        model.load_state_dict(saved["state_dict"])
        for name, (images, _, _) in sets.items():
            points[name].append({"lmbda": lmbda, **saved["run"], **code_test_set(model, images)})
            print(name, json.dumps(points[name][-1]), flush=True)
    versions = {"python": platform.python_version(), "torch": torch.__version__, "compressai": compressai.__version__,
                "numpy": np.__version__, "cpu": cpu_kind()}
    for name, (_, images, title) in sets.items():
        (args.out / name).write_text(json.dumps({
            "command": " ".join(["python"] + sys.argv), "images": images, "title": title, "curves": {NAME: points[name]},
            "training": f"{args.hours} h in all on {args.threads} threads, split over {len(args.lambdas)} lambdas",
            "versions": versions}, indent=2))
    print(f"wrote {args.out / 'rd.json'} and {args.out / 'rd-photos.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
