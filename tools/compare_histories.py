"""Two training runs' validation curves side by side, epoch by epoch: a markdown table and, with --plot, a figure.

    python tools/compare_histories.py runs/cc-scratch/backup/state.json weights/hyperprior-checkpoint/state.json \
        --labels "context, from scratch" "first model" --from-epoch 21 --plot results/cc-scratch/curves.png

Each argument is a `state.json` that `train-codec` keeps (its "history": one value per epoch of val_loss, val_bpp,
val_mse, epoch_time_s). The table lists the epochs both runs have; "val PSNR" is 10 log10(1 / val_mse) of the mean
MSE over the fixed level mix (dominated by the low levels, where the loss is dominated by the high ones), and
"best so far" the lowest validation loss up to that epoch (what the run keeps as its best weights).
"""

import argparse
import json
from pathlib import Path

import numpy as np


def load_history(path: Path) -> dict[str, list[float]]:
    """The per-epoch history of a train-codec state.json; a clear error when the file is not one."""
    try:
        state = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise SystemExit(f"{path}: cannot read a train-codec state.json ({err})") from None
    if not isinstance(state, dict) or "history" not in state or "val_loss" not in state["history"]:
        raise SystemExit(f"{path}: not a train-codec state.json (no history with val_loss)")
    return state["history"]


def val_psnr(history: dict) -> np.ndarray:
    """Per-epoch PSNR (dB) of the validation MSE on [0, 1] pixels: 10 log10(1 / val_mse)."""
    return 10 * np.log10(1 / np.asarray(history["val_mse"], np.float64))


def table(a: dict, b: dict, labels: tuple[str, str], first: int = 1) -> str:
    """A markdown table over the epochs both histories have, from epoch `first` on."""
    n = min(len(a["val_loss"]), len(b["val_loss"]))
    best_a, best_b = (np.minimum.accumulate(h["val_loss"]) for h in (a, b))
    psnr_a, psnr_b = val_psnr(a), val_psnr(b)
    head = (f"| epoch | val loss, {labels[0]} / {labels[1]} | best so far | val bpp | val PSNR (dB) | s per epoch |\n"
            "| --- | --- | --- | --- | --- | --- |")
    rows = [head]
    for i in range(first - 1, n):
        rows.append(f"| {i + 1} | {a['val_loss'][i]:.3f} / {b['val_loss'][i]:.3f} | {best_a[i]:.3f} / {best_b[i]:.3f} "
                    f"| {a['val_bpp'][i]:.3f} / {b['val_bpp'][i]:.3f} | {psnr_a[i]:.2f} / {psnr_b[i]:.2f} "
                    f"| {a['epoch_time_s'][i]:.0f} / {b['epoch_time_s'][i]:.0f} |")
    return "\n".join(rows)


def plot(a: dict, b: dict, labels: tuple[str, str], out: Path) -> None:
    """Validation loss (each epoch and best so far), val PSNR and val bpp against epoch, both runs; refuses to overwrite."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if out.exists():
        raise SystemExit(f"{out} exists; not overwriting it (remove it or choose another --plot path)")
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4))
    for h, label, colour in ((a, labels[0], "C0"), (b, labels[1], "C1")):
        epochs = range(1, len(h["val_loss"]) + 1)
        ax1.plot(epochs, h["val_loss"], colour, alpha=0.35, lw=1)
        ax1.plot(epochs, np.minimum.accumulate(h["val_loss"]), colour, lw=2, label=f"{label} (best so far)")
        ax2.plot(epochs, val_psnr(h), colour, label=label)
        ax3.plot(epochs, h["val_bpp"], colour, label=label)
    ax1.set(xlabel="epoch", ylabel="validation loss (bpp + lambda 255^2 MSE)", yscale="log", ylim=(None, 10))
    ax2.set(xlabel="epoch", ylabel="validation PSNR of the mean MSE (dB)", ylim=(24, None))
    ax3.set(xlabel="epoch", ylabel="validation bpp (mean over the level mix)", ylim=(None, 3.5))
    for ax in (ax1, ax2, ax3):
        ax.grid(alpha=0.3)
        ax.legend()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("states", nargs=2, type=Path, help="two train-codec state.json files")
    p.add_argument("--labels", nargs=2, default=("A", "B"), help="names for the two runs")
    p.add_argument("--from-epoch", type=int, default=1, help="first epoch in the table")
    p.add_argument("--plot", type=Path, help="also write the curves to this PNG (never overwritten)")
    args = p.parse_args()
    a, b = (load_history(s) for s in args.states)
    print(table(a, b, tuple(args.labels), args.from_epoch))
    if args.plot:
        plot(a, b, tuple(args.labels), args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
