"""Markdown tables of results, the same for the notebook, the README (tools/results_table.py) and the CLI."""

from __future__ import annotations

from .bench.curves import GAP_RATES, bd_rate, gap_rows

PUBLISHED_REFERENCE = {"name": "reference notebook (published, Colab T4)", "protocol": "reference", "weights": "last",
                       "epochs_run": 35, "psnr_mean_float": 23.65, "compression_rate": 5 / 6}


def _fmt(value, spec: str = ".2f", none: str = "–") -> str:
    return none if value is None else format(value, spec)


def runs_table(runs: list[tuple[str, dict]], published: bool = True) -> str:
    """One row per evaluated run (name, metrics.json contents): protocol, weights kept, epochs, PSNRs, SSIM, rate."""
    lines = ["| run | protocol | weights | epochs | PSNR mean (float) | PSNR pooled (float) | PSNR mean (uint8) | SSIM | compression |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    if published:
        p = PUBLISHED_REFERENCE
        lines.append(f"| {p['name']} | reference | last | 35 | 23.65 | | | | 83.33 % |")
    for name, m in runs:
        cfg = m.get("config", {})
        keep = cfg.get("keep_best")
        lines.append(f"| {name} | {cfg.get('protocol', '?')} | {'best' if keep else 'last'} | {m.get('epochs_run', '?')} | "
                     f"{_fmt(m.get('psnr_mean_float'))} | {_fmt(m.get('psnr_pooled_float'))} | {_fmt(m.get('psnr_mean_uint8'))} | "
                     f"{_fmt(m.get('ssim_mean_uint8'), '.4f')} | {100 * m['compression_rate']:.2f} % |")
    return "\n".join(lines)


def rd_summary_table(rd: dict, rates: tuple = GAP_RATES, per_photo: bool = False) -> str:
    """Each codec of an rd.json: BD-rate against WebP and PSNR at each rate (– where a curve does not reach it).

    `per_photo`: a last column with each photograph's own BD-rate against WebP (a photos.json's `bd_rate_vs_webp_per_photo`).
    """
    lines = ["| codec | BD-rate vs WebP | " + " | ".join(f"PSNR @ {r} bpp" for r in rates) + (" | each photo's own |" if per_photo else " |"),
             "| --- | --- | " + " | ".join("---" for _ in rates) + (" | --- |" if per_photo else " |")]
    for name, s in rd["summary"].items():
        bd = s["bd_rate_vs_webp_percent"]
        own = ", ".join(f"{k} {'–' if v is None else f'{v:+.1f} %'}" for k, v in s.get("bd_rate_vs_webp_per_photo", {}).items())
        lines.append(f"| {name} | {'n/a' if bd is None else f'{bd:+.1f} %'} | "
                     + " | ".join(_fmt(s.get(f"psnr_at_{r}bpp")) for r in rates) + (f" | {own} |" if per_photo else " |"))
    return "\n".join(lines)


def points_table(points: list[dict], label: str = "lmbda") -> str:
    """The measured points of one curve: its setting, bpp, PSNR (mean, pooled), SSIM, coding speed."""
    lines = [f"| {label} | bpp | bytes | PSNR mean (uint8) | PSNR pooled | SSIM | compress / decompress images/s |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for p in sorted(points, key=lambda p: p["bpp"]):
        lines.append(f"| {p.get(label, '')} | {p['bpp']:.3f} | {p['bytes_mean']:.1f} | {p['psnr_mean_uint8']:.2f} | "
                     f"{p['psnr_pooled_uint8']:.2f} | {p['ssim_mean_uint8']:.4f} | "
                     f"{_fmt(p.get('encode_images_per_s'), ',.0f')} / {_fmt(p.get('decode_images_per_s'), ',.0f')} |")
    return "\n".join(lines)


def gaps_table(rd: dict, name: str = "learned codec (factorised prior)", rates: tuple = GAP_RATES) -> str:
    """`name`'s PSNR at each rate and its gap (dB, positive: ours better) to WebP and the published curves."""
    rows = gap_rows(rd, name, rates)
    others = [k for k in rows[0] if k not in ("bpp", "ours") and not k.startswith("gap to")]
    fmt = lambda v, sign=False: "–" if v is None else (f"{v:+.2f}" if sign else f"{v:.2f}")  # noqa: E731
    lines = ["| bpp | ours (dB) | " + " | ".join(f"{o} (dB) / gap" for o in others) + " |",
             "| --- | --- | " + " | ".join("---" for _ in others) + " |"]
    for row in rows:
        lines.append(f"| {row['bpp']} | {fmt(row['ours'])} | " +
                     " | ".join(f"{fmt(row[o])} / {fmt(row['gap to ' + o], True)}" for o in others) + " |")
    return "\n".join(lines)


def published_bd_table(rd: dict, name: str) -> str:
    """`name`'s BD-rate against each published curve in `rd` (%, negative: fewer bits), over the PSNR range both span."""
    ours = rd["curves"][name]
    lines = ["| published curve (another test set: quoted for scale) | BD-rate of ours against it | PSNR range both span (dB) |",
             "| --- | --- | --- |"]
    for other, pts in rd.get("published", {}).get("curves", {}).items():
        lo = max(min(p["psnr_mean_uint8"] for p in c) for c in (ours, pts))
        hi = min(max(p["psnr_mean_uint8"] for p in c) for c in (ours, pts))
        bd = bd_rate(ours, pts)
        lines.append(f"| {other} | {'n/a (under 4 points or no overlap)' if bd is None else f'{bd:+.1f} %'} | "
                     f"{f'{lo:.1f}-{hi:.1f}' if lo < hi else '–'} |")
    return "\n".join(lines)


def _headline_cells(rd: dict, name: str, rates: tuple) -> list[str]:
    """BD-rate and PSNR-at-rates cells of one codec in one rd.json ("not measured" where it has no curve there)."""
    s = rd["summary"].get(name)
    if s is None and rd.get("title", "").startswith("CIFAR"):  # published curves are CIFAR-10 figures: beside CIFAR only
        s = rd.get("published", {}).get("psnr_at", {}).get(name)
    if s is None:
        return ["not measured", "–"]
    bd = s.get("bd_rate_vs_webp_percent")
    return ["n/a" if bd is None else f"{bd:+.1f} %", " / ".join(_fmt(s.get(f"psnr_at_{r}bpp")) for r in rates)]


def headline_table(sets: dict[str, dict], names: list[str], rates: tuple = (1, 2, 4), labels: dict[str, str] | None = None) -> str:
    """One row per codec; per image set ({title: rd.json}) its BD-rate vs WebP and PSNR at `rates` (published curves too).

    `labels`: the row title of a curve name where it should differ from the name (default: the name).
    """
    labels = labels or {}
    lines = ["| codec | " + " | ".join(f"{t}: BD-rate vs WebP | {t}: PSNR @ {' / '.join(map(str, rates))} bpp" for t in sets) + " |",
             "| --- |" + " --- | --- |" * len(sets)]
    for name in names:
        lines.append(f"| {labels.get(name, name)} | " + " | ".join(c for rd in sets.values() for c in _headline_cells(rd, name, rates)) + " |")
    return "\n".join(lines)
