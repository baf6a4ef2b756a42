"""Two codecs' RD curves from `bench rd` results, side by side: PSNR at given rates and the BD-rate of the second against the first.

    python tools/compare_rd.py results/level-weight-probe/cifar2000-base/rd.json results/level-weight-probe/cifar2000-weighted/rd.json

Each argument: an rd.json, optionally ::CURVE to pick one curve by name (default: the file's only or first learned
curve). PSNR at 0.5 / 1 / 2 / 4 bpp as rd.json's summary gives it (`bench.curves.psnr_at_rates`: linear in log-rate
between measured points, none outside the measured range); BD-rate as the benchmarks compute it (`bench.curves.bd_rate`).
"""

import json
import sys

from cae_helpers.bench.curves import bd_rate, psnr_at_rates


def curve(arg: str) -> tuple[str, list[dict]]:
    """(name, points) of the curve `arg` names: PATH or PATH::CURVE."""
    path, _, name = arg.partition("::")
    curves = json.load(open(path))["curves"]
    if name and name not in curves:
        raise SystemExit(f"{path} has no curve {name!r}; it has {sorted(curves)}")
    name = name or next((k for k in curves if "learned" in k), next(iter(curves)))
    return f"{path}::{name}", curves[name]


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    (name_a, a), (name_b, b) = curve(sys.argv[1]), curve(sys.argv[2])
    for name, c in ((name_a, a), (name_b, b)):
        cells = ", ".join(f"{k}={v:.3f} dB" if v is not None else f"{k}=-" for k, v in psnr_at_rates(c).items())
        print(f"{name}: {cells}")
    bd = bd_rate(b, a)
    print(f"BD-rate of the second against the first: {bd:+.2f} %" if bd is not None else "BD-rate: no shared range")
    return 0


if __name__ == "__main__":
    sys.exit(main())
