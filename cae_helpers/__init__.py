"""cae_helpers: convolutional autoencoders and learned image codecs for CIFAR-100, in Keras 3.

Layout (one job per module):
  data          CIFAR-100 loading (offline archive or Keras download), class-balanced splits
  pixels        uint8 <-> float32 pixel conversion
  models        the reference notebook's autoencoders
  layers        custom layers: GDN, fast BatchNorm and upsampling, uniform noise
  entropy/      priors (factorised, Gaussian), the latent coder and its byte format
  learned       the factorised-prior learned codec (a model per lambda)
  hyperprior    the variable-rate mean-scale hyperprior codec
  training/     the resumable fit loop and its recipes (reference, codecs)
  metrics, evaluation   PSNR variants, SSIM, sizes; evaluating a model on test images
  plots         every figure (showOrigDec, histories, per-class PSNR, RD curves)
  bench/        rate-distortion and speed benchmarks, the classic codecs
  cli           `python -m cae_helpers <command>`
TensorFlow's C++ start-up log lines are kept off stderr on import (CAE_TF_LOGS=1 shows them).
"""

from .io import import_tensorflow_quietly

import_tensorflow_quietly()

from .data import Cifar100, Split, balanced_split, balanced_subset, load_cifar100, protocol_splits  # noqa: E402
from .errors import CodecError, DataError  # noqa: E402
from .evaluation import evaluate, per_class_psnr, reconstruct  # noqa: E402
from .metrics import (  # noqa: E402
    bits_per_pixel,
    code_nbytes,
    compression_rate,
    mean_psnr,
    mse_per_image,
    pooled_psnr,
    psnr_per_image,
    quality_report,
    ssim_per_image,
)
from .models import build_autoencoder, build_initial_autoencoder, build_model  # noqa: E402
from .pixels import to_float, to_uint8  # noqa: E402
from .codec import HyperpriorCodec, pretrained_codec  # noqa: E402
from .plots import pair_captions, plot_byte_budget, plot_bytes_histograms, plot_history, plot_per_class, plot_rd, showOrigDec, show_samples  # noqa: E402
from .training import TrainConfig, TrainResult, load_autoencoder, resolve_precision, train  # noqa: E402

__version__ = "0.2.0"

__all__ = [
    "Cifar100", "Split", "balanced_split", "balanced_subset", "load_cifar100", "protocol_splits",
    "CodecError", "DataError", "evaluate", "per_class_psnr", "reconstruct",
    "bits_per_pixel", "code_nbytes", "compression_rate", "mean_psnr", "mse_per_image", "pooled_psnr",
    "psnr_per_image", "quality_report", "ssim_per_image",
    "build_autoencoder", "build_initial_autoencoder", "build_model", "to_float", "to_uint8",
    "HyperpriorCodec", "pretrained_codec",
    "pair_captions", "plot_byte_budget", "plot_bytes_histograms", "plot_history", "plot_per_class", "plot_rd", "showOrigDec", "show_samples",
    "TrainConfig", "TrainResult", "load_autoencoder", "resolve_precision", "train", "__version__",
]
