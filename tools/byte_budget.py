"""Where the hyperprior codec's bytes go, per quality: header (and check byte before version 19), hyper-latent z, latent y, ANS.

    python tools/byte_budget.py --data ../shared/data/cifar-100-python.tar.gz --out results/rd-hyperprior/byte_budget

On the first --cifar-images CIFAR-100 test images and on the 520 photo crops (`bench rd --images photos`);
z and y are exact information contents under the shipped integer tables (`HyperpriorCodec.byte_budget`),
header and total are the real byte strings. With --full-photos also scikit-learn's two photographs coded whole,
in bytes per 1,024 pixels (a 32x32 image's worth), so the sets compare. Writes byte_budget.json (command, versions, mean bytes per part)
and byte_budget.png; refuses to replace them without --overwrite.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

import cae_helpers as cae
from cae_helpers.codec import DEFAULT_MODEL
from cae_helpers.data import load_cifar100, photo_crops
from cae_helpers.io import command_line, versions, write_json
from cae_helpers.plots import plot_byte_budget

PARTS = ("header", "ans", "z", "y")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="cifar-100-python.tar.gz (default: $CIFAR100_PATH)")
    p.add_argument("--codec", default=f"cae_helpers/zoo/{DEFAULT_MODEL}", help="codec folder (default: the default shipped codec)")
    p.add_argument("--cifar-images", type=int, default=1000, help="the first N CIFAR-100 test images")
    p.add_argument("--out", required=True, type=Path, help="folder for byte_budget.json and byte_budget.png")
    p.add_argument("--full-photos", action="store_true", help="add scikit-learn's two photographs, coded whole")
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args()
    if (args.out / "byte_budget.json").exists() and not args.overwrite:
        p.error(f"{args.out / 'byte_budget.json'} exists; pass --overwrite to replace it")
    codec = cae.HyperpriorCodec.load(args.codec)
    sets = {f"CIFAR-100 test (first {args.cifar_images})": load_cifar100(args.data).test.images[: args.cifar_images],
            "photo crops (520)": photo_crops()[0]}
    if args.full_photos:
        from sklearn.datasets import load_sample_images

        sets["scikit-learn's 2 photos, whole (per 1,024 pixels)"] = np.stack(load_sample_images().images)  # both 427x640
    table = {}
    for name, images in sets.items():
        table[name] = {}
        per_1024 = 1024 / (images.shape[1] * images.shape[2])  # 1 for 32x32 images
        for q in range(1, codec.levels + 1):
            budget = codec.byte_budget(images, q)
            table[name][q] = {part: float(budget[part].mean()) * per_1024 for part in ("total",) + PARTS}
            print(f"{name}, quality {q}: " + ", ".join(f"{k} {v:.1f}" for k, v in table[name][q].items()) + " bytes", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "byte_budget.json", {
        "command": command_line("python tools/byte_budget.py", sys.argv[1:]),
        "meaning": "mean bytes per 32x32 image (per 1,024 pixels for whole photographs); z, y: information content under the shipped tables; "
                   "header: lead byte (magic and version), quality, size (versions 13-18 also model id, payload length, check byte); "
                   "ans: the coder's final state (from version 19 with the check word under it) and word rounding",
        "codec": args.codec, "parts": table, "versions": versions()})
    plot_byte_budget(table, PARTS).savefig(args.out / "byte_budget.png", dpi=100, bbox_inches="tight")
    print(f"wrote {args.out / 'byte_budget.json'} and {args.out / 'byte_budget.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
