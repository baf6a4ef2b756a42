"""Print the README's results tables (markdown) from the committed results files.

    python tools/results_table.py
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(rel: str):
    path = ROOT / rel
    return json.loads(path.read_text()) if path.is_file() else None


def learned() -> None:
    """The learned codec's points and its gaps to WebP and the published curves."""
    import sys

    sys.path.insert(0, str(ROOT))
    from cae_helpers.bench import format_gaps, gap_rows

    rd = _load("results/rd-learned/rd.json")
    if rd is None:
        return
    print()
    print("| lambda | bpp | PSNR mean (uint8) | PSNR pooled | SSIM | compress / decompress images/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for p in sorted(rd["curves"]["learned codec (factorised prior)"], key=lambda p: p["bpp"]):
        print(f"| {p['lmbda']} | {p['bpp']:.3f} | {p['psnr_mean_uint8']:.2f} | {p['psnr_pooled_uint8']:.2f} | "
              f"{p['ssim_mean_uint8']:.4f} | {p['encode_images_per_s']:,.0f} / {p['decode_images_per_s']:,.0f} |")
    print()
    print(format_gaps(gap_rows(rd)))


def main() -> None:
    print("| run | protocol | weights | epochs | PSNR mean (float) | PSNR pooled (float) | PSNR mean (uint8) | SSIM | compression | command |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("| reference notebook (published, Colab T4) | reference | last | 35 | 23.65 | | | | 83.33 % | |")
    for rel in ("results/reference/metrics.json", "results/speed/reference-run/metrics.json", "results/notebook/metrics.json"):
        m = _load(rel)
        if m is None:
            continue
        cfg = m["config"]
        cmd = m.get("command", "the notebook (README's papermill command)")
        print(f"| `{rel}` | {cfg['protocol']} | {'best' if cfg['keep_best'] else 'last'} | {m['epochs_run']} | "
              f"{m['psnr_mean_float']:.2f} | {m['psnr_pooled_float']:.2f} | {m['psnr_mean_uint8']:.2f} | "
              f"{m['ssim_mean_uint8']:.4f} | {100 * m['compression_rate']:.2f} % | `{cmd}` |")
    rd = _load("results/rd/rd.json")
    if rd is None:
        return
    print()
    print("| codec | BD-rate vs WebP | PSNR @ 0.5 bpp | @ 1 bpp | @ 2 bpp | @ 4 bpp |")
    print("| --- | --- | --- | --- | --- | --- |")
    fmt = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    for name, s in rd["summary"].items():
        bd = s["bd_rate_vs_webp_percent"]
        print(f"| {name} | {'n/a' if bd is None else f'{bd:+.1f} %'} | " + " | ".join(fmt(s[f'psnr_at_{r}bpp']) for r in (0.5, 1, 2, 4)) + " |")
    print()
    print("| single point | bpp | PSNR mean (uint8) | SSIM |")
    print("| --- | --- | --- | --- |")
    for name, pts in rd["curves"].items():
        if len(pts) == 1:
            p = pts[0]
            print(f"| {name} | {p['bpp']:.2f} | {p['psnr_mean_uint8']:.2f} | {p['ssim_mean_uint8']:.4f} |")


if __name__ == "__main__":
    main()
    learned()
