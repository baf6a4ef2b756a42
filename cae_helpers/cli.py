"""One command line: `python -m cae_helpers <command> ...` (`--help` on each command lists its options).

  compress          image files (PNG, JPEG, WebP, BMP, TIFF; any size) -> .cae files with the learned codec
  decompress        .cae files -> PNG
  train             train the reference autoencoder, evaluate it on the test images
  evaluate          evaluate a saved autoencoder.keras on the test images
  train-codec       train the variable-rate hyperprior codec (resumable, --time-limit)
  train-factorised  train one factorised-prior codec at one lambda (the earlier baseline)
  export-codec      turn a train-codec run's best epoch into a shippable codec (weights + integer tables)
  bench rd          rate-distortion curves against WebP, JPEG and AVIF, from real bytes (CIFAR or photo crops)
  bench photos      the same on full-size photographs
  bench speed       training and coding throughput

Every option is checked before any data is loaded (a bad value: one line, exit code 2).
Outputs go to --out (default: a folder under runs/, which git ignores); a folder that
already holds a finished result is refused unless --overwrite is given. TensorFlow's
start-up log lines are hidden; CAE_TF_LOGS=1 shows them. The training commands restart
themselves with TF_ENABLE_ONEDNN_OPTS=1 on a CPU where TensorFlow leaves oneDNN's kernels
off (they train faster there); set the variable yourself (0 or 1) to choose.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from pathlib import Path

from .entropy.rounding import RD_ROUNDING_WEIGHT

DATA_HELP = "cifar-100-python.tar.gz or its folder (default: $CIFAR100_PATH, else the Keras download)"


class Parser(argparse.ArgumentParser):
    """argparse, but a bad value is reported in one line (exit code 2) instead of the usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _number(kind, low=None, high=None, low_open=False, allow_zero=False):
    """An argparse type: a finite number of `kind` within [low, high] (or (low, high] with low_open)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if allow_zero and value == 0:
            return value
        bad_low = low is not None and (value <= low if low_open else value < low)
        if bad_low or (high is not None and value > high):
            lo = "" if low is None else (f"> {low}" if low_open else f">= {low}")
            hi = "" if high is None else f"<= {high}"
            raise argparse.ArgumentTypeError(f"must be {' and '.join(filter(None, (lo, hi)))}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


POSITIVE_INT = _number(int, 1)
NON_NEGATIVE_INT = _number(int, 0)
POSITIVE = _number(float, 0, low_open=True)
NON_NEGATIVE = _number(float, 0)
FRACTION = _number(float, 0, 1)
ROUNDING_HELP = ("the encoder's rate-distortion rounding: each latent value coded as whichever of the two integers around it "
                 "costs fewer bits + WEIGHT x its squared error (the same decoder and byte format; 0: the nearest integer, "
                 f"as before 2026-12-08; default: {RD_ROUNDING_WEIGHT:g}, chosen on held-out training images)")


def _per_class_count(text: str) -> int:
    value = POSITIVE_INT(text)
    if value % 100:
        raise argparse.ArgumentTypeError(f"must be a multiple of 100 (the same number from each class), got {value}")
    return value


def _keras_file(text: str) -> Path:
    import zipfile

    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    if not zipfile.is_zipfile(path):
        raise argparse.ArgumentTypeError(f"{text} is not a saved Keras model (.keras files are zip archives)")
    return path


def _out_dir(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a folder, got ''")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a folder")
    return path


def _common(p: argparse.ArgumentParser, out_default: str, data: bool = True) -> None:
    if data:
        p.add_argument("--data", default=None, help=DATA_HELP)
    p.add_argument("--out", type=_out_dir, default=Path(out_default), help="output folder")
    p.add_argument("--overwrite", action="store_true", help="allow replacing a finished result in --out")


def _reference_parser(sub) -> None:
    from .data import PROTOCOLS
    from .models import MODEL_NAMES
    from .training import PRECISIONS, TrainConfig

    d = TrainConfig()
    fmt = argparse.ArgumentDefaultsHelpFormatter
    t = sub.add_parser("train", help="train the reference autoencoder and evaluate it", formatter_class=fmt)
    e = sub.add_parser("evaluate", help="evaluate a saved autoencoder.keras", formatter_class=fmt)
    _common(t, "runs/reference")
    _common(e, "runs/evaluate")
    for s in (t, e):
        s.add_argument("--smoke", type=NON_NEGATIVE_INT, default=0, metavar="N",
                       help="use only N train and N/5 test images per class (quick check); 0: all")
    t.add_argument("--fresh", action="store_true", help="start over: move an existing checkpoint in --out aside instead of resuming it")
    t.add_argument("--model", choices=MODEL_NAMES, default=d.model, help="architecture")
    t.add_argument("--latent-dim", type=POSITIVE_INT, default=d.latent_dim, help="latent values per image")
    t.add_argument("--epochs", type=POSITIVE_INT, default=d.epochs, help="most epochs (early stopping may end sooner)")
    t.add_argument("--batch-size", type=POSITIVE_INT, default=d.batch_size, help="images per step")
    t.add_argument("--learning-rate", type=POSITIVE, default=d.learning_rate, help="Adam's learning rate")
    t.add_argument("--patience", type=NON_NEGATIVE_INT, default=d.patience, help="early-stopping patience, epochs")
    t.add_argument("--protocol", choices=PROTOCOLS, default=d.protocol,
                   help="reference: validate on the test set, keep last weights (the reference notebook); "
                        "heldout: validate on 5,000 training images, keep the best weights")
    t.add_argument("--val-size", type=_per_class_count, default=d.val_size, help="heldout validation images (a multiple of 100: class-balanced)")
    t.add_argument("--seed", type=NON_NEGATIVE_INT, default=d.seed, help="random seed")
    t.add_argument("--precision", choices=PRECISIONS, default=d.precision, help="dtype policy; auto: mixed_bfloat16 where it measured faster than float32 (CPUs with AMX or AVX-512 BF16, GPUs), else float32")
    t.add_argument("--deterministic", action="store_true", help="TF op determinism (slower)")
    t.add_argument("--latent-noise", type=NON_NEGATIVE, default=d.latent_noise,
                   help="width of uniform noise added to the code in training (quantisation-aware); 0: off")
    e.add_argument("--model-path", type=_keras_file, required=True, help="autoencoder.keras saved by train")


def _training_parser(sub, name: str, help_text: str, out_default: str) -> argparse.ArgumentParser:
    """A resumable training command's parser with its shared options (data, out, smoke, fresh)."""
    t = sub.add_parser(name, help=help_text, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _common(t, out_default)
    t.add_argument("--smoke", type=NON_NEGATIVE_INT, default=0, metavar="N", help="only N training images per class; 0: all")
    t.add_argument("--fresh", action="store_true", help="start over: move an existing checkpoint in --out aside instead of resuming it")
    return t


def _codec_parser(sub) -> None:
    """`train-codec`: one option per HyperpriorConfig field."""
    from .hyperprior import OUTPUT_PRECISIONS, HyperpriorConfig
    from .training import PRECISIONS

    d = HyperpriorConfig()
    c = _training_parser(sub, "train-codec", "train the variable-rate hyperprior codec (resumable)", "runs/hyperprior")
    c.add_argument("--time-limit", type=NON_NEGATIVE, default=0, metavar="HOURS",
                   help="stop after the first epoch ending past this many hours (0: none); the same command resumes")
    c.add_argument("--workers", type=POSITIVE_INT, default=1,
                   help="threads preparing batches ahead of the model (NumPy batches: JAX or PyTorch, or --large-patch)")
    types = {"augment": FRACTION, "decay_at": FRACTION, "learning_rate": POSITIVE, "clip_norm": POSITIVE,
             "max_zoom": _number(float, 1), "seed": NON_NEGATIVE_INT, "context_slices": NON_NEGATIVE_INT,
             "coded_channels": NON_NEGATIVE_INT, "encoder_blocks": NON_NEGATIVE_INT,
             "decoder_blocks": NON_NEGATIVE_INT, "level_weight_power": _number(float, 0, 1), "large_patch": _patch_side, "init_from": _codec_folder}
    for f in dataclasses.fields(HyperpriorConfig):
        default = getattr(d, f.name)
        text = CODEC_HELP.get(f.name, f.name.replace("_", " "))
        if f.name == "lambdas":
            c.add_argument("--lambdas", type=_lambdas, default=default, help="one lambda per quality level, comma-separated, increasing")
        elif f.name == "precision":
            c.add_argument("--precision", choices=PRECISIONS, default=default, help="dtype policy of the transforms")
        elif f.name == "output_precision":
            c.add_argument("--output-precision", choices=OUTPUT_PRECISIONS, default=default, help=text)
        elif isinstance(default, bool):
            c.add_argument("--" + f.name.replace("_", "-"), action="store_true", help=text)
        else:
            kind = types.get(f.name, POSITIVE_INT if isinstance(default, int) else POSITIVE)
            c.add_argument("--" + f.name.replace("_", "-"), type=kind, default=default, help=text)


CODEC_HELP = {
    "filters": "channels of the analysis and synthesis transforms (N)",
    "latent_channels": "channels of the latent y (M)",
    "coded_channels": "code only y's first C channels (the others feed the hyper-analysis alone: a pruned codec; 0: all M)",
    "hyper_filters": "channels of the hyper transforms",
    "hyper_channels": "channels of the hyper-latent z",
    "hyper_kernel": "kernel of the hyper-analysis' first and the hyper-synthesis' last convolution (1: cheaper)",
    "context_slices": "code y in this many channel slices, each conditioned on the slices before "
                      "(channel-wise context, Minnen & Singh 2020; must divide the coded channels; 0: none)",
    "downsamples": "stride-2 stages of the analysis transform (latent side: 32 / 2^this)",
    "epochs": "epochs in the whole schedule (the learning-rate drop is placed from it)",
    "batch_size": "images per step",
    "learning_rate": "Adam's learning rate",
    "decay_at": "share of the steps before the tenfold learning-rate drop",
    "clip_norm": "global gradient-norm clip (tames rare GDN spikes)",
    "augment": "share of training images replaced by a random crop of themselves upscaled (smooth content)",
    "max_zoom": "largest upscaling of those crops",
    "large_patch": "every other batch: the same images as P x P patches (mosaics of them, or one upscaled), "
                   "so the model also sees inputs larger than 32x32; 0: off",
    "passes": "passes over the training images per epoch (fewer, longer epochs: each epoch ends with a validation and a checkpoint)",
    "init_from": "start from this saved codec's weights (a folder with weights.npz and config.json; same architecture)",
    "init_partial": "--init-from may hold another architecture: copy the parts whose shapes fit (the analysis and "
                    "synthesis transforms, typically), carry the gains over to the new lambdas, start the rest fresh",
    "output_precision": "how the four output convolutions (y, x_hat, z, means and scales) compute under a mixed policy: "
                        "compute (in its 16-bit type, cast to float32 after: faster on CPUs with bfloat16 units) or "
                        "float32 (as runs before this option); inference is float32 either way",
    "continuous_levels": "draw each training image's quality level from the whole range [0, K - 1] (lambda and gains "
                         "log-linear between levels), not only the K integers, so fractional qualities are trained too",
    "level_weight_power": "weigh each image's loss by (lambda / lambda_mid)^-P (normalised to mean 1), so the low levels' "
                          "small losses are not drowned by the high levels' large ones; 0: every level weighs 1",
    "tune_encoder": "train only the encoder (analysis and hyper-analysis) of --init-from's codec, on the loss of what "
                    "the coder really sends and decodes (hard rounding, the decoder's bin means); the decoder stays as it is "
                    "(with --tune-blocks-only: only the encoder or decoder blocks that codec lacks train)",
    "encoder_blocks": "residual blocks (two 3x3 convolutions, the second starting at zero) added to the analysis before its "
                      "output: encoder capacity the decoder and the bytes do not see; --init-from's codec may have fewer",
    "decoder_blocks": "residual blocks (two 3x3 convolutions at half the image's side, the second starting at zero) added to "
                      "the synthesis before its output: decoder capacity at the same bytes; --init-from's codec may have fewer",
    "tune_blocks_only": "with --tune-encoder: train only the encoder or decoder blocks --init-from's codec lacks, on the coded "
                        "path (every weight that codec has stays as it is)",
    "val_size": "class-balanced training images held out for validation",
    "seed": "random seed (weights, batches, augmentation)",
}


def _rescale(text: str) -> "str | float":
    """--rescale: "auto", "1" or "off" (full size) or a scale in sixteenths such as 0.75."""
    from .rescale import candidate_scales

    if text in ("auto", "off"):
        return 1.0 if text == "off" else text
    value = _number(float, 0, 1, low_open=True)(text)
    try:
        candidate_scales(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return value


def compress_rescale(args, codec) -> "str | float | None":
    """compress's coding size: --rescale as given, else "auto" where the image is coded whole, else full size (None)."""
    given = getattr(args, "rescale", None)
    if given is not None:
        return None if given == 1 else given
    whole = args.layout == "whole" or (args.layout == "auto" and not codec.tiles_by_default)
    return "auto" if whole else None


def _patch_side(text: str) -> int:
    from .hyperprior import large_patch_problem

    value = NON_NEGATIVE_INT(text)
    if large_patch_problem(value):
        raise argparse.ArgumentTypeError(large_patch_problem(value))
    return value


def _codec_folder(text: str) -> str:
    if text and not (Path(text) / "weights.npz").is_file():
        raise argparse.ArgumentTypeError(f"{text} holds no weights.npz: not a saved codec folder")
    return text


def _lambdas(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not all(math.isfinite(v) and v > 0 for v in values) or list(values) != sorted(set(values)):
        raise argparse.ArgumentTypeError(f"must be positive and increasing, got {text}")
    return values


def _file_parsers(sub) -> None:
    from .codec import DEFAULT_MODEL, ZOO

    fmt = argparse.ArgumentDefaultsHelpFormatter
    c = sub.add_parser("compress", help="image files -> .cae files (learned hyperprior codec)", formatter_class=fmt)
    d = sub.add_parser("decompress", help=".cae files -> PNG", formatter_class=fmt)
    c.add_argument("inputs", nargs="+", metavar="IN", help="image files or folders of them")
    d.add_argument("inputs", nargs="+", metavar="IN", help=".cae files or folders of them")
    for s in (c, d):
        s.add_argument("-o", "--out", type=Path, default=None,
                       help="output file (one input) or folder; default: beside each input")
        s.add_argument("--overwrite", action="store_true", help="replace existing output files")
    c.add_argument("--codec", type=Path, default=ZOO / DEFAULT_MODEL, help="codec folder (weights.npz, tables.npz)")
    d.add_argument("--codec", type=Path, default=None,
                   help=f"codec folder (weights.npz, tables.npz); default: {ZOO / DEFAULT_MODEL}, or for a file it does not "
                        "decode, the shipped codec that made it (named in the header of format versions 3-18; "
                        "found by trial decoding for 19-24)")
    c.add_argument("-q", "--quality", type=_number(float, 1), default=4, help="1 (fewest bytes) .. 8 (best quality); fractions allowed")
    c.add_argument("--max-bytes", type=_number(int, 1), default=None, metavar="N",
                   help="a budget per file: each image at the highest quality up to --quality (in 1/16 steps) whose "
                        "byte string fits in N bytes, found by bisection (about 7 codings instead of 1); an image that "
                        "does not fit even at quality 1 is skipped with a message")
    c.add_argument("--compare", choices=("none", "webp"), default="webp",
                   help="also report WebP (method 6) at the same number of bytes or fewer")
    c.add_argument("--drop-alpha", action="store_true", help="code only the colours of images with an alpha channel")
    c.add_argument("--refine", type=NON_NEGATIVE_INT, default=0, metavar="STEPS",
                   help="encoder-side latent refinement: this many gradient steps per image on its own rate + distortion "
                        "(same decoder; fewer bytes and higher PSNR, most on photographs: 8-23 %% of the bytes at 100 steps, "
                        "two thirds of that at 25; 100 steps take about 50 s per 0.3 megapixel on 2 cores, 25 about 15 s; "
                        "whole images up to 1 megapixel, any size with --layout tiles; 0: none)")
    c.add_argument("--rescale", type=_rescale, default=argparse.SUPPRESS, metavar="auto|off|SCALE",  # unset: see compress_rescale
                   help="code the image whole at a smaller size that the decoder resizes back (Lanczos): auto: the encoder "
                        "tries full size, 3/4 and 1/2 of each side (not 3/4 where it pads back to full size's latent grid, as "
                        "on 32x32 images) and keeps the least rate + lambda x distortion (about 2.5x the encoding time; "
                        "pays at low qualities, most on photographs); a scale in sixteenths such as "
                        "0.75 or 0.5; off (or 1): full size. Default: auto where the image is coded whole, off with tiles")
    c.add_argument("--no-colour", dest="colour", action="store_false",
                   help="do not add mean-colour corrections (by default, where the codec ships tables for them, the encoder "
                        "looks at the pixels its bytes decode to and adds each 32x32 block's mean error where that lowers rate + "
                        "lambda x distortion: format versions 22-24; pays on smooth content from about quality 3; it costs a "
                        "synthesis pass for images up to a megapixel coded whole, none with --rescale auto, whose choice has "
                        "made it, and a whole decode for tiles and larger images); with this flag it writes versions 19-21")
    c.add_argument("--rounding", type=NON_NEGATIVE, default=None, metavar="WEIGHT", help=ROUNDING_HELP)
    c.add_argument("--layout", choices=("auto", "tiles", "whole"), default="auto",
                   help="tiles: independent 32x32 tiles; whole: one pass over the image; auto: whole, or tiles for images "
                        "larger than 32x32 where the codec was trained on 32x32 inputs alone (the shipped one saw larger ones)")


def _export_parser(sub) -> None:
    x = sub.add_parser("export-codec", help="a train-codec run's best epoch -> a codec folder (float16 weights + integer tables)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    x.add_argument("--run", type=Path, required=True, help="the train-codec --out folder (its backup/ holds the best epoch)")
    x.add_argument("--integer-hs", action="store_true",
                   help="ship h_s in exact integer arithmetic (cae_helpers.integer_hs): every machine then picks the same "
                        "entropy-coding table for each latent by construction (a codec of its own identity; a model "
                        "without channel context)")
    _common(x, "runs/codec", data=False)


def _factorised_parser(sub) -> None:
    from .learned import RDConfig
    from .training import PRECISIONS

    d = RDConfig()
    f = _training_parser(sub, "train-factorised", "train one factorised-prior codec at one lambda (resumable)", "runs/factorised")
    f.add_argument("--lmbda", type=POSITIVE, default=d.lmbda, help="rate-distortion trade-off (higher: more bits, better quality)")
    for name in ("filters", "latent_channels", "downsamples", "epochs", "batch_size", "val_size"):
        f.add_argument("--" + name.replace("_", "-"), type=POSITIVE_INT, default=getattr(d, name),
                       help=CODEC_HELP.get(name, name.replace("_", " ")))
    f.add_argument("--learning-rate", type=POSITIVE, default=d.learning_rate, help="Adam's learning rate")
    f.add_argument("--decay-at", type=FRACTION, default=d.decay_at, help="share of the steps before the tenfold learning-rate drop")
    f.add_argument("--clip-norm", type=POSITIVE, default=d.clip_norm, help="global gradient-norm clip")
    f.add_argument("--seed", type=NON_NEGATIVE_INT, default=d.seed, help="random seed")
    f.add_argument("--precision", choices=PRECISIONS, default=d.precision, help="dtype policy")
    f.add_argument("--init-from", default=None, help="a saved codec folder whose weights start the training")


def _hyperprior_options(p: argparse.ArgumentParser, codecs: str, refine: str, rescale: str) -> None:
    """The options bench rd and bench photos share for the hyperprior codecs they code, each with its own help text."""
    p.add_argument("--hyperprior", action="append", default=[], help=codecs)
    p.add_argument("--qualities", type=_number(float, 1), nargs="+", default=None, help="hyperprior qualities to code (default: every level)")
    p.add_argument("--refine", type=NON_NEGATIVE_INT, default=0, metavar="STEPS", help=refine)
    p.add_argument("--rescale", action="store_true", help=rescale)
    p.add_argument("--no-colour", dest="colour", action="store_false",
                   help="no mean-colour corrections (byte format 19-21): by default a codec that ships their tables adds them "
                        "where they pay, and its curves are named so")
    p.add_argument("--rounding", type=NON_NEGATIVE, default=None, metavar="WEIGHT", help=ROUNDING_HELP + "; its curves are named so")


def _bench_parser(sub) -> None:
    b = sub.add_parser("bench", help="benchmarks: rd (rate-distortion), photos (full-size photographs), speed")
    bsub = b.add_subparsers(dest="bench", required=True, parser_class=Parser)
    fmt = argparse.ArgumentDefaultsHelpFormatter
    rd = bsub.add_parser("rd", help="rate-distortion curves from real bytes", formatter_class=fmt)
    _common(rd, "runs/rd")
    rd.add_argument("--model", action="append", default=[], help="autoencoder.keras to add (repeatable)")
    rd.add_argument("--learned", action="append", default=[],
                    help="a factorised codec folder, or a folder of them (weights/learned): one RD point each (repeatable)")
    _hyperprior_options(
        rd, "a saved hyperprior codec folder (cae_helpers/zoo/hyperprior): one point per quality (repeatable)",
        refine="also the hyperprior with encoder-side latent refinement of this many steps (a curve of its own; 0: none)",
        rescale="also the hyperprior choosing each image's coding size (compress --rescale auto): a curve of its own "
                "(with --refine, refined too: a fourth curve)")
    rd.add_argument("--max-bytes", type=_number(int, 1), default=None, metavar="N",
                    help="code the hyperprior's images within N bytes each: at each --qualities value as the highest "
                         "quality, each image at the highest quality that fits (compress --max-bytes; its curves are named so)")
    rd.add_argument("--images", choices=("cifar", "photos"), default="cifar",
                    help="cifar: the CIFAR-100 test images; photos: 32x32 crops of scikit-learn's sample photographs")
    rd.add_argument("--steps", type=POSITIVE, nargs="+", default=[0.02, 0.05, 0.1, 0.2, 0.4, 0.8],
                    help="quantisation steps for the entropy-coded latent, in units of the latent's std on training images")
    rd.add_argument("--per-class", type=NON_NEGATIVE_INT, default=0, help="only N test images per class (quick check); 0: all 10,000")
    rd.add_argument("--no-classic", action="store_true", help="skip WebP/JPEG/AVIF")
    rd.add_argument("--merge", action="append", default=[], help="rd.json of an earlier run on the same images whose curves to include (a --hyperprior "
                    "codec's curve found there under the same name, refinement steps and size choice included, with the same "
                    "qualities is kept, not coded again)")
    ph = bsub.add_parser("photos", help="full-size photographs: ours vs WebP, JPEG, AVIF", formatter_class=fmt)
    _common(ph, "runs/photos", data=False)
    _hyperprior_options(
        ph, "a saved hyperprior codec folder (repeatable; default: classic codecs only)",
        refine="also the whole-image hyperprior with encoder-side latent refinement of this many steps (0: none)",
        rescale="also the whole-image hyperprior choosing its coding size per photo (compress --rescale auto)")
    ph.add_argument("--photos", choices=("sklearn", "skimage"), default="sklearn",
                    help="scikit-learn's two sample photographs, or scikit-image's four (the independent check: never trained or tuned on)")
    sp = bsub.add_parser("speed", help="training and coding throughput, peak memory", formatter_class=fmt)
    _common(sp, "runs/speed")
    sp.add_argument("--model", default=None, help="autoencoder.keras for the coding figures (default: untrained reference model)")
    sp.add_argument("--train-images", type=POSITIVE_INT, default=10000, help="training images per timed epoch")
    sp.add_argument("--step", type=POSITIVE, default=0.5, help="codec quantisation step, in latent units")
    sp.add_argument("--repeats", type=POSITIVE_INT, default=2, help="timed passes (the best counts)")
    sp.add_argument("--quality-epochs", type=NON_NEGATIVE_INT, default=0,
                    help="also train plain fp32 and the fast path this many epochs on all training images and compare test PSNR")
    sp.add_argument("--only-quality", action="store_true", help="run only the equal-epochs comparison")
    sp.add_argument("--codecs", action="store_true", help="also the learned codecs' training images/s (factorised, hyperprior; batch 32)")
    sp.add_argument("--only-codecs", action="store_true", help="run only the learned codecs' training images/s (writes codecs.json)")
    sp.add_argument("--full-run", default=None, metavar="DIR",
                    help="a finished `python -m cae_helpers train --out DIR` run, timed on this machine: its wall time and memory are summarised")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    p = Parser(prog="python -m cae_helpers", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    _file_parsers(sub)
    _reference_parser(sub)
    _codec_parser(sub)
    _factorised_parser(sub)
    _export_parser(sub)
    _bench_parser(sub)
    return p


FINISHED_MARKERS = {"photos": "photos.json", "compress": None, "decompress": None, "train": "metrics.json", "evaluate": "metrics.json", "train-codec": None, "export-codec": "weights.npz",
                    "train-factorised": "weights.npz", "rd": "rd.json", "speed": "speed.json"}


def _check_out(args, p: argparse.ArgumentParser) -> None:
    """Refuse to replace a finished result unless --overwrite (a run with a resumable backup/ goes on)."""
    marker = FINISHED_MARKERS.get(getattr(args, "bench", None) or args.command)
    if getattr(args, "bench", None) == "speed":
        marker = "quality.json" if args.only_quality else "codecs.json" if args.only_codecs else "speed.json"
    if marker and (args.out / marker).is_file() and not args.overwrite and not (args.out / "backup" / "state.json").is_file():
        p.error(f"{args.out / marker} exists: pass --overwrite to replace it, or choose another --out")


def _check_combinations(args, p: argparse.ArgumentParser) -> None:
    """Refuse options that need another one (each alone passes its own type check)."""
    if args.command == "bench" and getattr(args, "refine", 0) and not args.hyperprior:
        p.error("--refine refines the hyperprior codec's latents: it needs --hyperprior")
    if args.command == "bench" and getattr(args, "rescale", False) and not args.hyperprior:
        p.error("--rescale chooses the hyperprior codec's coding size: it needs --hyperprior")
    if args.command == "bench" and getattr(args, "max_bytes", None) and not args.hyperprior:
        p.error("--max-bytes sets the hyperprior codec's byte budget: it needs --hyperprior")
    if args.command == "compress" and getattr(args, "rescale", 1) != 1 and args.layout == "tiles":
        p.error("--rescale codes each image whole: it cannot be combined with --layout tiles")
    if args.command == "train-codec" and args.init_partial and not args.init_from:
        p.error("--init-partial says how to start from --init-from: it needs --init-from")


TRAINING_COMMANDS = ("train", "train-codec", "train-factorised")


def onednn_restart_wanted(command: str, environ: dict, backend: str, onednn: bool, gpu: bool) -> bool:
    """Whether a training command should restart itself with TensorFlow's oneDNN kernels on.

    TensorFlow leaves them off on x86 CPUs without AVX-512 VNNI / BF16 or AMX (an AMD EPYC Zen 2, for one), where they
    train 1.35-1.9x faster (README, "Training speed"); it reads TF_ENABLE_ONEDNN_OPTS once, on import, so the only way
    to turn them on is a new process. A value the user set (0 or 1) is theirs; coding commands never restart (their
    pixels were checked without oneDNN).
    """
    return (command in TRAINING_COMMANDS and "TF_ENABLE_ONEDNN_OPTS" not in environ and backend == "tensorflow"
            and not onednn and not gpu and os.name == "posix")


def _restart_with_onednn(argv: list[str]) -> None:
    """Replace this process by the same command with TF_ENABLE_ONEDNN_OPTS=1 (TensorFlow is imported again)."""
    print("oneDNN's kernels are off in TensorFlow on this CPU and train faster: restarting with TF_ENABLE_ONEDNN_OPTS=1 "
          "(set TF_ENABLE_ONEDNN_OPTS=0 to train without them)", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "cae_helpers", *argv], {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1"})


def _maybe_restart(command: str, argv: list[str]) -> None:
    """Training commands of the program (not of `main` called in-process): restart with oneDNN where it pays."""
    import keras

    from .conv_grads import onednn_on

    if keras.backend.backend() != "tensorflow" or command not in TRAINING_COMMANDS:
        return
    import tensorflow as tf

    gpu = bool(tf.config.list_physical_devices("GPU"))
    if onednn_restart_wanted(command, dict(os.environ), "tensorflow", onednn_on(), gpu):
        _restart_with_onednn(argv)


def run() -> int:
    """Entry point of `python -m cae_helpers` and the `cae-helpers` script: `main`, training with oneDNN where it pays."""
    return main(sys.argv[1:], restart=True)


def main(argv: list[str] | None = None, restart: bool = False) -> int:
    """The command line, in this process (`restart=True`: training commands may restart it, see `onednn_restart_wanted`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    p = build_parser()
    args = p.parse_args(argv)
    _check_out(args, p)
    _check_combinations(args, p)
    if restart:
        _maybe_restart(args.command, argv)
    from .training.loop import init_multihost

    init_multihost()  # a no-op unless CAE_COORDINATOR is set (see README, "Past one machine")
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures go to files; no screen needed
    from .errors import CheckpointError, DataError, RunLockedError, SettingsMismatchError

    if getattr(args, "fresh", False):
        _move_aside(args.out / "backup")
    try:
        if args.command == "bench":
            from .bench import photos, rd, speed

            return {"rd": rd.run_rd, "speed": speed.run_speed, "photos": photos.run_photos}[args.bench](args, argv)
        run = {"compress": _compress, "decompress": _decompress, "train": _train, "evaluate": _evaluate, "train-codec": _train_codec, "train-factorised": _train_factorised,
               "export-codec": _export_codec}
        return run[args.command](args, argv)
    except (DataError, CheckpointError, RunLockedError, SettingsMismatchError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _move_aside(backup: Path) -> None:
    """--fresh: keep an old checkpoint, renamed, instead of resuming it."""
    if backup.exists():
        target = backup.with_name(f"backup-old-{time.strftime('%Y%m%d-%H%M%S')}")
        backup.rename(target)
        print(f"--fresh: moved the old checkpoint to {target}", flush=True)


def _load(args):
    from .data import balanced_subset, load_cifar100

    data = load_cifar100(args.data)
    train, test = data.train, data.test
    if args.smoke:
        train, test = balanced_subset(train, args.smoke), balanced_subset(test, max(1, args.smoke // 5))
    return data, train, test


def _train(args, argv) -> int:
    """Train the reference (or initial) autoencoder, then evaluate it on the test images."""
    from .data import protocol_splits
    from .plots import plot_history
    from .training import TrainConfig, resolve_precision, train

    start = time.perf_counter()
    cfg = TrainConfig(model=args.model, latent_dim=args.latent_dim, epochs=args.epochs, batch_size=args.batch_size,
                      learning_rate=args.learning_rate, patience=args.patience, protocol=args.protocol,
                      val_size=args.val_size if not args.smoke else 100 * max(1, args.smoke // 5),
                      seed=args.seed, precision=args.precision, deterministic=args.deterministic,
                      latent_noise=args.latent_noise)
    data, train_split, test = _load(args)
    fit, val = protocol_splits(train_split, test, cfg.protocol, cfg.val_size, cfg.seed)
    out = args.out
    resuming = (out / "backup" / "state.json").is_file()
    print(f"{cfg.model} model, {cfg.protocol} protocol: {len(fit)} training images, {len(val)} validation images"
          f"{' (the test set)' if cfg.protocol == 'reference' else ''}, up to {cfg.epochs} epochs, "
          f"precision {resolve_precision(cfg.precision)}, into {out} ({'resuming' if resuming else 'fresh'}); "
          "the time left is printed after each epoch", flush=True)
    from .training import ProgressLog

    result = train(cfg, fit, val, out, verbose=0, callbacks=[ProgressLog(cfg.epochs)], retrain=args.overwrite)
    kept = result.best_epoch if cfg.keep_best else result.epochs_run
    plot_history(result.history, f"{cfg.model} model, {cfg.protocol} protocol", kept_epoch=kept).savefig(out / "history.png", dpi=80)
    extra = {"config": cfg.to_dict(), "fit_images": len(fit), "validation_images": len(val),
             "validation_is_test_set": cfg.protocol == "reference", **result.record(),
             "weights": "best validation epoch" if cfg.keep_best else "last epoch", "images_per_s": result.images_per_s(len(fit))}
    _report(args, argv, data, test, result.autoencoder, result.encoder, extra, start)
    return 0


def _evaluate(args, argv) -> int:
    """Evaluate a saved autoencoder on the test images."""
    from .training import load_autoencoder

    start = time.perf_counter()
    data, _, test = _load(args)
    ae, enc, _ = load_autoencoder(args.model_path)
    _report(args, argv, data, test, ae, enc, {"model_path": str(args.model_path)}, start)
    return 0


def _report(args, argv, data, test, ae, enc, extra: dict, start: float) -> dict:
    """Evaluate on `test`, write metrics.json and the figures, print a summary."""
    from .evaluation import evaluate, metrics_record
    from .io import write_json
    from .plots import pair_captions, plot_per_class, showOrigDec

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    m = evaluate(ae, enc, test.images, test.fine)
    rec = m.pop("rec")
    showOrigDec(test.images, rec, num=10, captions=pair_captions(test.images[:10], rec[:10])).savefig(
        out / "orig_vs_dec.png", dpi=80, bbox_inches="tight")
    plot_per_class(m["psnr_by_class_float"], data.fine_names).savefig(out / "psnr_by_class.png", dpi=80)
    evaluated_on = f"{len(test)} CIFAR-100 test images" + (" (smoke subset)" if args.smoke else "")
    metrics = metrics_record(m, evaluated_on, data.source, argv, extra, time.perf_counter() - start)
    write_json(out / "metrics.json", metrics)
    print(f"{evaluated_on}: mean PSNR {m['psnr_mean_float']:.2f} dB (reference definition), "
          f"pooled {m['psnr_pooled_float']:.2f} dB, uint8 {m['psnr_mean_uint8']:.2f} dB, SSIM {m['ssim_mean_uint8']:.4f}, "
          f"compression rate {100 * m['compression_rate']:.2f} % ({m['code_bytes']} bytes/image)")
    print(f"wrote {out / 'metrics.json'}")
    return metrics


def _codec_data(args, val_size: int, seed: int):
    """(data, fit, val): the training images split class-balanced into fit and validation."""
    from .data import balanced_subset, load_cifar100, protocol_splits

    data = load_cifar100(args.data)
    train_split = balanced_subset(data.train, args.smoke) if args.smoke else data.train
    val_size = min(val_size, max(100, len(train_split) // 1000 * 100))  # whole images per class, at most a tenth
    fit, val = protocol_splits(train_split, data.test, "heldout", val_size, seed)
    return data, fit, val


def _train_codec(args, argv) -> int:
    """Train (or resume) the hyperprior codec; write its weights (best epoch so far) and history."""
    from .hyperprior import HyperpriorConfig, save_hyperprior
    from .io import command_line, versions, write_json
    from .training import resolve_precision
    from .training.codec import train_hyperprior

    config = HyperpriorConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(HyperpriorConfig)})
    data, fit, val = _codec_data(args, config.val_size, config.seed)
    out = args.out
    resuming = (out / "backup" / "state.json").is_file()
    print(f"hyperprior codec: {len(fit)} training images ({config.augment:.0%} zoomed crops"
          + (f"; every other batch as {config.large_patch}x{config.large_patch} patches" if config.large_patch else "")
          + (f"; starting from {config.init_from}" if config.init_from else "") + f"), {len(val)} validation images, "
          f"{config.epochs} epochs, {config.levels} quality levels, precision {resolve_precision(config.precision)}"
          f"{' (output convolutions too)' if config.output_precision == 'compute' else ' (output convolutions float32)'}, "
          f"into {out} ({'resuming' if resuming else 'fresh'})"
          + (f", stopping after {args.time_limit} h" if args.time_limit else "") + "; the time left is printed after each epoch", flush=True)
    _log_sitting(out, argv)
    model, info = train_hyperprior(config, fit.images, val.images, out, time_limit_s=args.time_limit * 3600 or None,
                                   workers=args.workers)
    h = info["history"]
    info["train_wall_time_s_total"] = sum(h.get("epoch_time_s", []))
    save_hyperprior(model, out, {"command": command_line("python -m cae_helpers", argv), "data": data.source,
                                 "best_epoch": info["best_epoch"], "epochs_done": info["epochs_done"],
                                 "steps_done": info["steps_done"], "train_wall_time_s": info["train_wall_time_s_total"],
                                 "finished": info["finished"], "versions": versions()})
    write_json(out / "history.json", info)
    best = info["best_epoch"] - 1
    print(f"epochs {info['epochs_done']}/{config.epochs}; best epoch {best + 1}: val bpp {h['val_bpp'][best]:.3f}, "
          f"val PSNR {-10 * math.log10(h['val_mse'][best]):.2f} dB (all levels mixed); wrote {out}"
          + ("" if info["finished"] else "; run the same command to go on"))
    return 0


def _file_jobs(args, suffixes, new_suffix) -> list[tuple[Path, Path]]:
    """(input, output) pairs; refuses before any work if an output exists (without --overwrite)."""
    from .files import expand_inputs, output_path

    sources = expand_inputs(args.inputs, suffixes)
    many = len(sources) > 1
    if many and args.out is not None and args.out.exists() and not args.out.is_dir():
        raise SystemExit(f"error: {args.out} is a file, but there are {len(sources)} inputs: give a folder")
    jobs = [(src, output_path(src, args.out, new_suffix, many)) for src in sources]
    clashes = [dst for _, dst in jobs if dst.exists()]
    if clashes and not args.overwrite:
        raise SystemExit(f"error: {clashes[0]} exists{f' (and {len(clashes) - 1} more)' if len(clashes) > 1 else ''}: "
                         "pass --overwrite to replace")
    return jobs


def webp_comparison(image, nbytes: int, psnr: float, refined: bool, rescaled: bool = False) -> str:
    """The summary line's WebP part: WebP's PSNR at the same bytes, and where WebP is ahead unrefined, what to try."""
    from .files import webp_at_budget
    from .metrics import psnr_per_image

    webp = webp_at_budget(image, nbytes)
    if webp is None:
        return "; WebP: nothing fits that budget"
    webp_psnr = float(psnr_per_image(image[None], webp[1][None])[0])
    text = f"; WebP q{webp[2]} at {len(webp[0]):,} bytes: PSNR {webp_psnr:.2f} dB"
    if webp_psnr > psnr and not refined:
        text += (" (ahead here; on photographs " + ("" if rescaled else "--rescale auto gains at low qualities for about 2.5x the "
                 "encoding time, and ") + "--refine 25 or 100 is slower and saves about 10-20 % of the bytes; same decoder)")
    return text


def _compress(args, argv) -> int:
    """Compress image files; one summary line per file (bytes, bpp, PSNR, WebP at the same bytes)."""
    from tqdm.auto import tqdm

    from .codec import HyperpriorCodec
    from .errors import CodecError
    from .files import SUFFIXES, read_image
    from .metrics import psnr_per_image

    jobs = _file_jobs(args, SUFFIXES, ".cae")
    codec = HyperpriorCodec.load(args.codec)
    if not 1 <= args.quality <= codec.levels:
        print(f"error: --quality must be in 1..{codec.levels} for {args.codec}, got {args.quality}", file=sys.stderr)
        return 2
    failed, rescale = 0, compress_rescale(args, codec)
    for src, dst in tqdm(jobs, desc="compress", unit="file", disable=len(jobs) < 2):
        try:
            image = read_image(src, args.drop_alpha)
        except CodecError as err:
            tqdm.write(f"skipped {err}")
            failed += 1
            continue
        try:
            blob = codec.compress_image(image, args.quality, progress=True, tiles={"auto": None, "tiles": True, "whole": False}[args.layout],
                                        refine=args.refine, rescale=rescale, max_bytes=args.max_bytes, colour=args.colour,
                                        rounding=args.rounding)
        except ValueError as err:  # an image the chosen options cannot code (for example too large to refine)
            tqdm.write(f"skipped {src}: {err}")
            failed += 1
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(blob)
        h, w = image.shape[:2]
        psnr = float(psnr_per_image(image[None], codec.decompress_image(blob, progress=True)[None])[0])
        header = codec.read_header(blob)
        size = f"{h}x{w}" + (f" (coded at {header.coded().height}x{header.coded().width})" if header.rescaled else "")
        size += " with mean-colour corrections" if header.colour else ""
        line = f"{src} -> {dst}: {size}, {len(blob):,} bytes, {8 * len(blob) / (h * w):.3f} bpp, PSNR {psnr:.2f} dB"
        if args.compare == "webp":
            line += webp_comparison(image, len(blob), psnr, refined=args.refine > 0, rescaled=rescale is not None)
        tqdm.write(line)
    return 1 if failed else 0


def _decompress(args, argv) -> int:
    """Decompress .cae files to PNG."""
    from tqdm.auto import tqdm

    from .codec import DEFAULT_MODEL, HyperpriorCodec, shipped_codec
    from .errors import CodecError, OtherModelError
    from .files import write_png

    jobs = _file_jobs(args, (".cae",), ".png")
    codec = HyperpriorCodec.load(args.codec) if args.codec else shipped_codec(DEFAULT_MODEL)
    failed = 0
    for src, dst in tqdm(jobs, desc="decompress", unit="file", disable=len(jobs) < 2):
        blob = src.read_bytes()
        try:
            try:
                image = codec.decompress_image(blob, progress=True)
            except OtherModelError as err:  # another shipped codec made it: its header names it (3-18) or it decodes it (19-24)
                if args.codec or err.maker is None:
                    raise
                image = shipped_codec(err.maker).decompress_image(blob, progress=True)
        except CodecError as err:
            tqdm.write(f"skipped {src}: {err}")
            failed += 1
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        write_png(dst, image)
        tqdm.write(f"{src} -> {dst}: {image.shape[0]}x{image.shape[1]}")
    return 1 if failed else 0


def _log_sitting(out: Path, argv) -> None:
    """Append this sitting (command, start, CPU, versions) to out/sittings.json: a run's provenance across sessions."""
    import datetime
    import json

    from .io import command_line, versions, write_json

    path = out / "sittings.json"
    sittings = json.loads(path.read_text()) if path.is_file() else []
    state = out / "backup" / "state.json"
    sittings.append({"command": command_line("python -m cae_helpers", argv), "started": datetime.datetime.now().isoformat(timespec="seconds"),
                     "from_epoch": json.loads(state.read_text())["epoch"] if state.is_file() else 0, "versions": versions()})
    write_json(path, sittings)


def _export_codec(args, argv) -> int:
    """Write the run's best epoch as a codec folder and print what it has been trained for."""
    import json

    from .codec import codec_from_run
    from .io import command_line

    codec, info = codec_from_run(args.run)
    if args.integer_hs:
        from dataclasses import replace

        from .integer_hs import IntegerHyperSynthesis

        codec = replace(codec, integer_hs=IntegerHyperSynthesis.from_codec(codec))
    sittings = args.run / "sittings.json"
    history = info.pop("history")
    start = Path(codec.model.config.init_from or "none") / "config.json"  # read before --out may replace it
    if start.is_file():  # a fine-tuned codec: keep the record of the training it started from
        earlier = {k: v for k, v in json.loads(start.read_text()).items() if k != "config"}
        info["started_from"] = earlier
        info["steps_done_in_all"] = info["steps_done"] + earlier.get("steps_done_in_all", earlier.get("steps_done", 0))
    codec.save(args.out, {"exported_by": command_line("python -m cae_helpers", argv), **info,
                          "sittings": json.loads(sittings.read_text()) if sittings.is_file() else []})
    best = info["best_epoch"] - 1
    print(f"{args.run}: best epoch {info['best_epoch']} exported ({info['epochs_done']} of {info['epochs_planned']} epochs done), "
          f"{info['steps_done']:,} steps, {info['train_wall_time_s'] / 3600:.2f} h of training; "
          f"val bpp {history['val_bpp'][best]:.3f}, val PSNR {-10 * math.log10(history['val_mse'][best]):.2f} dB (levels mixed); "
          f"wrote {args.out}{' with an integer h_s' if args.integer_hs else ''}")
    print(f"{args.out}: its tables are not yet fitted (a zoo codec's are): before comparing it with one, run "
          f"`python tools/fit_bin_means.py --codec {args.out} --out ... --write` and `python tools/fit_z_levels.py --codec {args.out} --out ... --write` "
          "(each also takes --data); unfitted, it loses about 0.3-0.5 dB against its fitted self")
    return 0


def _train_factorised(args, argv) -> int:
    """Train one factorised-prior codec; write weights.npz, config.json and history.json."""
    import shutil

    from .io import command_line, versions, write_json
    from .learned import RDConfig, save_learned
    from .training.codec import train_factorised

    config = RDConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(RDConfig)})
    data, fit, val = _codec_data(args, config.val_size, config.seed)
    out = args.out
    model, info = train_factorised(config, fit.images, val.images, out, verbose=2)
    save_learned(model, config, out, {"command": command_line("python -m cae_helpers", argv),
                                      "data": data.source, "best_epoch": info["best_epoch"], "versions": versions()})
    write_json(out / "history.json", info)
    shutil.rmtree(out / "backup", ignore_errors=True)
    h = info["history"]
    best = info["best_epoch"] - 1
    print(f"best epoch {best + 1}: val bpp {h['val_bpp'][best]:.3f}, val PSNR (noise-free rounding) "
          f"{-10 * math.log10(h['val_mse'][best]):.2f} dB; wrote {out}")
    return 0
