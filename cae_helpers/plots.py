"""Figures: originals vs reconstructions, sample grids, training curves, per-class PSNR."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from .validation import check_float_images, check_images


def _as_displayable(images: np.ndarray) -> np.ndarray:
    """uint8 as is; floats checked (finite, about [0, 1]) and clipped to [0, 1] for display."""
    images = check_images(images)
    return images if images.dtype == np.uint8 else np.clip(check_float_images(images, clip_ok=True), 0.0, 1.0)


def showOrigDec(orig: np.ndarray, dec: np.ndarray, num: int = 10, *, captions: Sequence[str] | None = None):  # noqa: N802
    """2 x num grid, originals on top and reconstructions below (the reference's helper); returns the figure.

    `captions` (one per pair, for example from `pair_captions`) are written under the reconstructions.
    """
    orig, dec = _as_displayable(orig), _as_displayable(dec)
    if len(orig) != len(dec):
        raise ValueError(f"orig and dec hold {len(orig)} and {len(dec)} images; they must pair up")
    if orig.shape[1:3] != dec.shape[1:3]:
        raise ValueError(f"orig and dec images differ in size: {orig.shape[1:3]} vs {dec.shape[1:3]}; they must pair up")
    if int(num) > len(orig):
        import warnings

        warnings.warn(f"num={num} but only {len(orig)} image pairs: showing {len(orig)}", stacklevel=2)
    num = min(int(num), len(orig))
    if num < 1:
        raise ValueError("num must be at least 1")
    fig, axes = plt.subplots(2, num, figsize=(20, 4), squeeze=False)
    for i in range(num):
        for row, images in enumerate((orig, dec)):
            axes[row, i].imshow(images[i])
            axes[row, i].axis("off")
    axes[0, 0].set_title("original", loc="left", fontsize=10)
    axes[1, 0].set_title("reconstruction", loc="left", fontsize=10)
    if captions is not None:
        if len(captions) < num:
            raise ValueError(f"{len(captions)} captions for {num} image pairs")
        for i in range(num):
            axes[1, i].text(0.5, -0.08, captions[i], transform=axes[1, i].transAxes, ha="center", va="top", fontsize=9)
    return fig


def pair_captions(orig: np.ndarray, dec: np.ndarray, nbytes: Sequence[int] | None = None) -> list[str]:
    """Per-pair caption: the reconstruction's PSNR (on uint8, dB) and, given them, its bytes."""
    from .metrics import psnr_per_image
    from .pixels import to_uint8

    to8 = lambda a: a if a.dtype == np.uint8 else to_uint8(_as_displayable(a))  # noqa: E731
    psnr = psnr_per_image(to8(np.asarray(orig)), to8(np.asarray(dec)))
    if nbytes is None:
        return [f"{p:.1f} dB" for p in psnr]
    return [f"{int(b)} B, {p:.1f} dB" for b, p in zip(nbytes, psnr)]


def show_samples(images: np.ndarray, labels: Sequence[int], names: Sequence[str] = (), rows: int = 3, cols: int = 10):
    """A rows x cols grid of images titled with their class names; returns the figure."""
    images = _as_displayable(images)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.8 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i])
            label = int(labels[i])
            ax.set_title(names[label] if names else str(label), fontsize=8)
    fig.tight_layout()
    return fig


def plot_history(history: dict[str, list[float]], title: str = "training", kept_epoch: int | None = None):
    """Training and validation loss per epoch (log scale), the kept epoch (1-based) marked; returns the figure."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for key in ("loss", "val_loss"):
        if key in history:
            ax.plot(np.arange(1, len(history[key]) + 1), history[key], marker=".", label=key)
    if kept_epoch is not None:
        ax.axvline(kept_epoch, color="0.4", linestyle="--", linewidth=1, label=f"weights kept: epoch {kept_epoch}")
    ax.set(xlabel="epoch", ylabel="MSE", yscale="log", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_per_class(psnr_by_class: np.ndarray, names: Sequence[str], top: int = 10):
    """Bar chart of the `top` best and worst classes by mean PSNR; returns the figure."""
    psnr_by_class = np.asarray(psnr_by_class, np.float64)
    order = np.argsort(psnr_by_class)
    picks = np.concatenate([order[:top], order[-top:]])
    fig, ax = plt.subplots(figsize=(10, 4))
    colors = ["tab:red"] * top + ["tab:green"] * top
    bars = ax.bar(range(len(picks)), psnr_by_class[picks], color=colors)
    ax.bar_label(bars, fmt="%.1f", fontsize=7)  # the values, since a bar's length starts at 0 dB
    ax.set_xticks(range(len(picks)), [names[i] if names else str(i) for i in picks], rotation=60, ha="right")
    ax.axhline(float(psnr_by_class.mean()), color="0.3", linestyle="--", linewidth=1,
               label=f"mean of all {len(psnr_by_class)} classes: {psnr_by_class.mean():.2f} dB")
    ax.set(ylabel="mean PSNR (dB)", ylim=(0, float(psnr_by_class.max()) * 1.1),
           title=f"{top} worst (red) and best (green) classes")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def _distinct_styles():
    """(colour, marker) pairs, endless: matplotlib's ten colours with round markers, then ten of tab20b's with squares, then both again with triangles, diamonds.

    Merged results files carry more than ten curves; with one palette and one marker the eleventh would look like the first.
    """
    import itertools

    second = [plt.get_cmap("tab20b")(i) for i in (0, 4, 8, 12, 16, 2, 6, 10, 14, 18)]  # darker shades of five other hues first
    palettes = itertools.cycle([plt.rcParams["axes.prop_cycle"].by_key()["color"], second])
    for marker in itertools.cycle("os^D"):
        for color in next(palettes):
            yield color, marker


def plot_rd(curves: dict[str, list[dict]], key: str = "psnr_mean_uint8", title: str = "", published: dict | None = None):
    """Quality vs bits per pixel, one line per codec (`published` curves dashed); returns the figure."""
    fig, ax = plt.subplots(figsize=(11, 5.5))
    styles = _distinct_styles()  # one look per line, measured and published alike
    for name, pts in curves.items():
        if any(key not in p for p in pts):
            continue  # a merged curve measured without this metric (e.g. a peer with PSNR only)
        pts = sorted(pts, key=lambda p: p["bpp"])
        color, marker = next(styles)
        ax.plot([p["bpp"] for p in pts], [p[key] for p in pts], marker=marker if len(pts) > 1 else "*", color=color,
                markersize=5 if len(pts) > 1 else 14, label=name, linewidth=2.5 if name.startswith("learned") else 1.5)
    if key == "psnr_mean_uint8":
        for name, pts in (published or {}).items():
            ax.plot([p["bpp"] for p in pts], [p[key] for p in pts], linestyle="--", marker="x", alpha=0.6, label=name,
                    color=next(styles)[0])
    ax.set(xlabel="bits per pixel (whole byte strings)",
           ylabel={"psnr_mean_uint8": "mean per-image PSNR, uint8 (dB)", "ssim_mean_uint8": "mean per-image SSIM, uint8"}.get(key, key),
           title=title, xlim=(0, None))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)  # beside the plot, not over the curves
    fig.tight_layout()
    return fig


def plot_bytes_histograms(sets: dict[str, dict], title: str = ""):
    """Bytes per image at one setting, one histogram per image set ({name: rd point with "bytes_histogram"}); returns the figure.

    A codec whose rate follows the content puts smooth images (photo crops) well left of busy ones (CIFAR).
    """
    fig, ax = plt.subplots(figsize=(8, 4))
    for name, point in sets.items():
        h = point["bytes_histogram"]
        edges, counts = np.asarray(h["edges"]), np.asarray(h["counts"], np.float64)
        ax.stairs(counts / counts.sum(), edges, label=f"{name} (median {point['bytes_p50']:.0f} bytes)", linewidth=2)
    ax.set_xscale("log")
    ax.set(xlabel="bytes per image (whole byte strings, log scale)", ylabel="share of images", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_byte_budget(table: dict[str, dict], parts: tuple = ("header", "ans", "z", "y")):
    """Share of each part in the mean bytes per image at each quality, one panel per image set; totals on top.

    `table`: {set name: {quality: {"total": bytes, part: bytes, ...}}}. Shares, not a log scale, because
    stacked bars on a log axis misstate proportions.
    """
    fig, axes = plt.subplots(1, len(table), figsize=(6 * len(table), 4), sharey=True, squeeze=False)
    for ax, (name, rows) in zip(axes[0], table.items()):
        labels = [str(q) for q in rows]
        bottom = np.zeros(len(labels))
        for part in parts:
            share = np.array([100 * r[part] / r["total"] for r in rows.values()])
            ax.bar(labels, share, bottom=bottom, label=part)
            bottom += share
        for x, r in enumerate(rows.values()):
            ax.text(x, 101, f"{r['total']:.0f} B", ha="center", va="bottom", fontsize=7)
        ax.set(title=name, xlabel="quality", ylabel="share of the mean bytes per image (%)", ylim=(0, 110))
    handles, labels = axes[0][0].get_legend_handles_labels()
    axes[0][-1].legend(handles[::-1], labels[::-1], fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # top part first
    fig.tight_layout()
    return fig
