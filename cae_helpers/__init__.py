"""cae_helpers: convolutional autoencoders for CIFAR-100, the reference notebook's logic made importable.

Modules: data (loading, splits), models (Keras builders), metrics (PSNR variants, SSIM,
sizes), training (config + fit), evaluation, plots (showOrigDec), io (atomic writes,
versions), cli (`python -m cae_helpers`).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ start-up chatter out of notebooks and logs

from .data import Cifar100, Split, balanced_split, balanced_subset, load_cifar100, protocol_splits, to_float, to_uint8  # noqa: E402
from .errors import DataError  # noqa: E402
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
from .plots import plot_history, plot_per_class, showOrigDec, show_samples  # noqa: E402
from .training import TrainConfig, TrainResult, load_autoencoder, train  # noqa: E402

__version__ = "0.1.0"
