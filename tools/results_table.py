"""Print the README's results tables (markdown) from the committed results files.

    python tools/results_table.py               # the reference runs and the factorised codecs
    python tools/results_table.py --hyperprior  # the headline table and the hyperprior codec's tables
    python tools/results_table.py --v2          # the second hyperprior model beside the shipped one
    python tools/results_table.py --pruned      # the pruned 40-channel model beside the shipped one
    python tools/results_table.py --coded       # the model coding 40 of its 128 latent channels beside the shipped one
"""

import sys

import json
from pathlib import Path

from cae_helpers.bench.curves import codec_name, coloured_name, rd_rounded_name, rescaled_name
from cae_helpers.codec import DEFAULT_MODEL
from cae_helpers.report import gaps_table, headline_table, points_table, published_bd_table, rd_summary_table, runs_table

ROOT = Path(__file__).resolve().parents[1]
RUNS = ("results/reference/metrics.json", "results/speed/reference-run/metrics.json", "results/notebook/metrics.json",
        "results/notebook-zen2/metrics.json")


def _load(rel: str):
    path = ROOT / rel
    return json.loads(path.read_text()) if path.is_file() else None


HYPERPRIOR = "learned codec (hyperprior, one model)"  # cae_helpers.bench.rd.HYPERPRIOR: the first shipped model's curve
SHIPPED = codec_name(HYPERPRIOR, DEFAULT_MODEL)  # the default codec's curve
SIZED = rescaled_name(SHIPPED)  # the default codec choosing each image's coding size (the command line's default)
COLOURED, COLOURED_SIZED = coloured_name(SHIPPED), coloured_name(SIZED)  # with mean-colour corrections (byte format 22-24): the default since 2026-12-07
ROUNDED, ROUNDED_SIZED = rd_rounded_name(COLOURED), rd_rounded_name(COLOURED_SIZED)  # the same, the encoder rounding by rate and distortion: since 2026-12-08
FLOAT_HS = codec_name(HYPERPRIOR, "hyperprior-continuous")  # the same network and tables with h_s in float64: the default 2026-12-06 to 12-07
FLOAT_HS_COLOURED = coloured_name(FLOAT_HS)
PREVIOUS = codec_name(HYPERPRIOR, "hyperprior-coded-long")  # the default from 2026-12-05 to 12-06: the same network, 28,140 steps less training
EARLIER = codec_name(HYPERPRIOR, "hyperprior-coded")  # the default from 2026-12-02 to 12-05: 168,840 steps less training
LABELS = {ROUNDED: f"learned codec (`{DEFAULT_MODEL}`, the default: one model, 40 of 128 latent channels coded, integer h_s, mean-colour corrections, rate-distortion rounding)",
          ROUNDED_SIZED: f"learned codec (`{DEFAULT_MODEL}`, the same, the size chosen per image: `rescale=\"auto\"`, the command line's default)",
          COLOURED: f"learned codec (`{DEFAULT_MODEL}` with each latent value rounded to the nearest integer: `rounding=0`, the encoder before 2026-12-08)",
          COLOURED_SIZED: f"learned codec (`{DEFAULT_MODEL}` rounding to the nearest integer, the size chosen per image)",
          FLOAT_HS_COLOURED: "learned codec (`hyperprior-continuous`: the same network with h_s in float64, the default 2026-12-06 to 12-07)",
          FLOAT_HS: "learned codec (`hyperprior-continuous` without the corrections: `colour=False`, byte format 19)",
          rescaled_name(FLOAT_HS): "learned codec (`hyperprior-continuous` without the corrections, the size chosen per image)",
          PREVIOUS: "learned codec (`hyperprior-coded-long`: the same network before the continuous levels, the default 2026-12-05 to 12-06)",
          EARLIER: "learned codec (`hyperprior-coded`: the same network before the longer schedule, the default 2026-12-02 to 12-05)",
          HYPERPRIOR: "learned codec (`hyperprior`, all 128 coded: the default until 2026-12-02; byte format 7)"}
ZOO_CURVES = (ROUNDED, ROUNDED_SIZED, COLOURED, COLOURED_SIZED, FLOAT_HS_COLOURED, FLOAT_HS, rescaled_name(FLOAT_HS), PREVIOUS, EARLIER)
# the zoo codecs' curves in today's byte format (22-24 with mean-colour corrections, 19 and 21 without; the 2-byte header at 32x32) come from these runs on the same images; the rest
# of each table (WebP, the other codecs, the first model in format 7) from the older run
DEFAULT_FROM = {"rd-hyperprior-coded": "rd-rounding-cifar10000", "rd-photos-coded": "rd-rounding-photos"}
HEADLINE = (*ZOO_CURVES, HYPERPRIOR, "CompressAI bmshj2018-hyperprior (same data and compute)", "learned codec (factorised prior)",
            "WebP", "AVIF", "JPEG 4:2:0", "Ballé 2018 hyperprior (CIFAR-10, published)", "Minnen 2020 (CIFAR-10, published)",
            "CompressAI bmshj2018-hyperprior trained on CIFAR-10 (COIN++, published)",
            "CompressAI cheng2020-anchor trained on CIFAR-10 (COIN++, published)")


def with_default(rel: str) -> dict:
    """results/<rel>/rd.json with the zoo codecs' curves (the default full size and size chosen, the previous defaults)
    and the published curves from its `DEFAULT_FROM` run (the newer file quotes every published curve the older one does)."""
    rd, current = _load(f"results/{rel}/rd.json"), _load(f"results/{DEFAULT_FROM[rel]}/rd.json")
    if current is None or current["images"] != rd["images"]:
        return rd
    names = [n for n in ZOO_CURVES if n in current["curves"]]
    return rd | {"summary": rd["summary"] | {n: current["summary"][n] for n in names},
                 "curves": rd["curves"] | {n: current["curves"][n] for n in names},
                 "published": current.get("published", rd.get("published", {}))}


def hyperprior_tables() -> None:
    """The headline table, then the default codec's points, summaries and gaps (CIFAR, photo crops, full photos)."""
    cifar, crops = with_default("rd-hyperprior-coded"), with_default("rd-photos-coded")
    photos = _load("results/photos-format10-refine100/photos.json")  # byte format 10
    print(headline_table({"CIFAR-100 test": cifar, "photo crops": crops}, list(HEADLINE), labels=LABELS))
    print()
    print(points_table(cifar["curves"][ROUNDED], label="quality"))
    for table in (rd_summary_table(cifar), gaps_table(cifar, ROUNDED), published_bd_table(cifar, ROUNDED), rd_summary_table(crops),
                  rd_summary_table(photos, rates=(0.25, 0.5, 1, 2))):
        print()
        print(table)
    refine_tables()


def refine_tables() -> None:
    """Encoder-side refinement beside the plain codec: full photos (both sets), CIFAR (1,000 test images), photo crops."""
    for rel, rates in (("photos-skimage-coded-refine100/photos.json", (0.25, 0.5, 1, 2)),
                       ("rd-refine-cifar1000-coded/rd.json", (0.5, 1, 2, 4)), ("rd-photos-coded-refine/rd.json", (0.5, 1, 2, 4))):
        if (found := _load(f"results/{rel}")) is not None:
            print()
            print(f"`results/{rel}`:")
            print(rd_summary_table(found, rates=rates))


SECOND_MODELS = {"--v2": ("hyperprior-v2", "v2"), "--pruned": ("hyperprior-pruned", "pruned"),
                 "--coded": ("hyperprior-coded", "coded")}  # flag: (zoo folder, results suffix)


def second_model_tables(folder: str, suffix: str) -> None:
    """Another zoo model's points on CIFAR, then it beside the shipped one on CIFAR, the photo crops and the full photographs."""
    name = codec_name(HYPERPRIOR, f"cae_helpers/zoo/{folder}")
    cifar, crops, photos = (_load(f"results/{d}") for d in (f"rd-hyperprior-{suffix}/rd.json", f"rd-photos-{suffix}/rd.json",
                                                             f"photos-{suffix}/photos.json"))
    print(points_table(cifar["curves"][name], label="quality"))
    for table in (rd_summary_table(cifar, rates=(0.25, 0.5, 1, 2, 4)), gaps_table(cifar, name),
                  rd_summary_table(crops, rates=(0.25, 0.5, 1, 2, 4))):
        print()
        print(table)
    if photos is not None:
        print()
        print(rd_summary_table(photos, rates=(0.25, 0.5, 1, 2)))


def main() -> None:
    if "--hyperprior" in sys.argv[1:]:
        return hyperprior_tables()
    for flag, (folder, suffix) in SECOND_MODELS.items():
        if flag in sys.argv[1:]:
            return second_model_tables(folder, suffix)
    runs = [(f"`{rel}`", m) for rel in RUNS if (m := _load(rel)) is not None]
    print(runs_table(runs))
    print()
    for rel, m in runs:
        print(f"- {rel}: `{m.get('command', 'the notebook (README papermill command)')}`")
    if (rd := _load("results/rd/rd.json")) is not None:
        print()
        print(rd_summary_table(rd))
    if (rdl := _load("results/rd-learned/rd.json")) is not None:
        print()
        print(points_table(rdl["curves"]["learned codec (factorised prior)"]))
        print()
        print(gaps_table(rdl))


if __name__ == "__main__":
    main()
