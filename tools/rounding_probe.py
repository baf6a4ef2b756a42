"""Probe: which rounding of the latents buys the most PSNR at equal bytes, with the decoder as it is?

    python tools/rounding_probe.py --data ../shared/data/cifar-100-python.tar.gz --heldout 1000 --out results/rounding-probe/heldout

The plain encoder codes each latent value r = y - mu as round(r), the nearest integer, whatever the symbol costs.
Three rules that keep the decoder, the tables and the byte format as they are, and cost about as little:

- `rd W` (`compress(rounding=W)`, `entropy.rounding.rd_round`): of the two integers around r, the one with fewer bits
  under its own shipped table + W x its squared error from where the decoder puts it (moved toward its bin's mean);
- `rd-centre W`: the same with the error measured from the bin's centre (the decoder's bin-mean shift left out);
- `deadzone T`: round |r| down unless its fraction exceeds 0.5 + T (the dead zone of JPEG and H.264 encoders).

Every rule codes the images at each quality through `compress` / `decompress` (real byte strings, decoded pixels);
the curves are read as the targets read them (mean PSNR at given bpp, linear between qualities) and by BD-rate
against plain rounding. Choose a setting on held-out *training* images (--heldout), then measure it on test images.
Writes probe.json (curves, readings, command, versions), refusing to overwrite.
"""

import sys
from pathlib import Path

import numpy as np

from cae_helpers.bench.curves import bd_rate
from cae_helpers.codec import HyperpriorCodec
from cae_helpers.entropy.rounding import rd_round
from cae_helpers.io import command_line, versions, write_json
from cae_helpers.metrics import mean_psnr
from probe_cli import probe_images, probe_parser


def with_rule(codec: HyperpriorCodec, rule) -> HyperpriorCodec:
    """The codec whose encoder picks each latent symbol by `rule(r, table index, y coder)`."""
    codec.rounding_weight = 0.0  # so that compress() keeps this codec (another weight would make a copy without the rule)
    codec._rounded = lambda r, indexes, level: rule(r, indexes, codec.y_coder)
    return codec


def rules(args) -> dict:
    """{name: compress(codec, images, quality) -> byte strings}."""
    out = {"round": lambda c, x, q: c.compress(x, q, rounding=0)}
    for w in args.weights:
        out[f"rd {w:g}"] = lambda c, x, q, w=w: c.compress(x, q, rounding=w)
    for w in args.centre_weights:
        out[f"rd-centre {w:g}"] = lambda c, x, q, w=w: with_rule(c, lambda r, i, coder: rd_round(r, i, coder, w)).compress(x, q)
    for t in args.deadzones:
        dead = lambda r, i, coder, t=t: np.sign(r) * np.floor(np.abs(r) + 0.5 - t)  # noqa: E731
        out[f"deadzone {t:g}"] = lambda c, x, q, dead=dead: with_rule(c, dead).compress(x, q)
    return out


def curve(codec_dir: str, compress, images: np.ndarray, qualities, name: str) -> list[list[float]]:
    """[(quality, mean bpp, mean PSNR)] of real byte strings and decoded pixels, a fresh codec per rule."""
    codec, points = HyperpriorCodec.load(codec_dir), []
    for q in qualities:
        blobs = compress(codec, images, q)
        bpp = 8 * np.mean([len(b) for b in blobs]) / (images.shape[1] * images.shape[2])
        psnr = mean_psnr(images, codec.decompress(blobs))
        points.append([float(q), float(bpp), psnr])
        print(f"{name} quality {q:g}: {bpp:.4f} bpp, {psnr:.3f} dB", flush=True)
    return points


def at_rate(points: list, bpp: float) -> float:
    """Mean PSNR at a rate, linear between the curve's points (NaN outside them)."""
    p = np.asarray(points)
    order = np.argsort(p[:, 1], kind="stable")
    return float(np.interp(bpp, p[order, 1], p[order, 2], left=np.nan, right=np.nan))


def main() -> None:
    p = probe_parser(__doc__, "a folder for probe.json (refused if it exists)")
    p.add_argument("--qualities", type=float, nargs="+", default=[1, 1.5, 2, 3, 4, 5, 6, 7, 8])
    p.add_argument("--weights", type=float, nargs="*", default=[8, 16, 32], help="rd W: weights of rate-distortion rounding")
    p.add_argument("--centre-weights", type=float, nargs="*", default=[], help="rd-centre W: the error from the bin's centre")
    p.add_argument("--deadzones", type=float, nargs="*", default=[], help="deadzone T")
    p.add_argument("--rates", type=float, nargs="+", default=[0.5, 1, 2, 4])
    args = p.parse_args()
    out = Path(args.out)
    if out.exists():
        raise SystemExit(f"error: {out} exists; remove it first")
    images, which = probe_images(args)
    curves = {name: curve(args.codec, fn, images, args.qualities, name) for name, fn in rules(args).items()}
    readings = {name: {f"{r} bpp": at_rate(c, r) for r in args.rates} for name, c in curves.items()}
    as_rd = {name: [{"bpp": b, "psnr_mean_uint8": q} for _, b, q in c] for name, c in curves.items()}
    bd = {name: bd_rate(c, as_rd["round"]) for name, c in as_rd.items()}
    for name, v in readings.items():
        print(f"{name}: BD-rate {bd[name]:+.2f} % against round; " +
              ", ".join(f"{k} {d:.3f} dB ({d - readings['round'][k]:+.3f})" for k, d in v.items()))
    out.mkdir(parents=True)
    write_json(out / "probe.json", {"command": command_line("python tools/rounding_probe.py", sys.argv[1:]), "codec": args.codec,
                                    "images": which, "curves_quality_bpp_psnr": curves, "mean_psnr_at": readings,
                                    "bd_rate_vs_round_percent": bd, "versions": versions()})


if __name__ == "__main__":
    main()
