"""Our hyperprior codec against CompressAI's, both trained for the same hours on the same cores and images.

    python tools/equal_compute.py --ours-commit cedc747 --peer results/compressai-peer/rd.json \
        --out results/compressai-peer/equal_compute.json

`--ours-commit`: the commit whose results/rd-hyperprior/rd.json measured our codec after that much training
(at cedc747: the weights of epoch 30, exported after 31 epochs = 1.84 h); its training time is the run's wall
time when the weights were exported, read from the same commit's zoo config. Prints and
writes the BD-rate of ours against the peer (negative: ours needs fewer bits at equal PSNR) and the PSNR of
each at 0.5 / 1 / 2 / 4 bpp. Refuses to replace --out without --overwrite.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

from cae_helpers.bench.curves import GAP_RATES, at_rate, bd_rate
from cae_helpers.bench.rd import HYPERPRIOR
from cae_helpers.io import command_line, versions, write_json

ROOT = Path(__file__).resolve().parents[1]


def at_commit(commit: str, path: str) -> dict:
    """A JSON file as committed at `commit`."""
    return json.loads(subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ours-commit", required=True, help="commit holding our rd-hyperprior/rd.json at the peer's training time")
    p.add_argument("--peer", required=True, type=Path, help="rd.json written by benchmarks/compressai/peer.py")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args()
    if args.out.exists() and not args.overwrite:
        p.error(f"{args.out} exists; pass --overwrite to replace it")
    ours_rd = at_commit(args.ours_commit, "results/rd-hyperprior/rd.json")
    info = at_commit(args.ours_commit, "cae_helpers/zoo/hyperprior/config.json")
    peer_rd = json.loads(args.peer.read_text())
    if peer_rd["images"] != ours_rd["images"]:
        p.error(f"the peer was measured on {peer_rd['images']!r}, ours on {ours_rd['images']!r}")
    ours = ours_rd["curves"][HYPERPRIOR]
    (peer_name, peer), = peer_rd["curves"].items()
    result = {
        "command": command_line("python tools/equal_compute.py", sys.argv[1:]), "images": ours_rd["images"],
        "ours": {"commit": args.ours_commit, "train_hours": info["train_wall_time_s"] / 3600, "steps": info["steps_done"],
                 "weights_epoch": info.get("best_epoch"), "epochs_done": info.get("epochs_done"), "cpu": ours_rd["versions"].get("cpu")},
        "peer": {"name": peer_name, "training": peer_rd["training"], "steps": [q["steps"] for q in peer],
                 "cpu": peer_rd["versions"].get("cpu")},
        "bd_rate_ours_vs_peer_percent": bd_rate(ours, peer),
        "psnr_at": {str(r): {"ours": at_rate(ours, r), "peer": at_rate(peer, r)} for r in GAP_RATES},
        "versions": versions(),
    }
    write_json(args.out, result)
    print(f"ours after {result['ours']['train_hours']:.2f} h ({result['ours']['steps']:,} steps) vs {peer_name} ({peer_rd['training']}):")
    print(f"  BD-rate of ours against the peer: {result['bd_rate_ours_vs_peer_percent']}")
    for r, v in result["psnr_at"].items():
        print(f"  {r} bpp: ours {v['ours']}, peer {v['peer']}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
