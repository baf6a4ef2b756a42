"""tools/cifar_pack.py: a packed part of CIFAR-100 unpacks to the same images and labels (lossless WebP)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

from cae_helpers.data import DataWarning, balanced_subset, load_cifar100

TOOL = Path(__file__).resolve().parents[1] / "tools" / "cifar_pack.py"


def test_pack_then_unpack_gives_back_the_chosen_images(tiny_archive, tmp_path):
    for args in (["pack", "--data", str(tiny_archive), "--per-class", "2", "--test-images", "100", "--out", str(tmp_path / "packed")],
                 ["unpack", str(tmp_path / "packed"), "--out", str(tmp_path / "cifar-100-python")]):
        subprocess.run([sys.executable, str(TOOL), *args], check=True, capture_output=True)
    original = load_cifar100(tiny_archive)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # a part is not the official data set, and says so
        back = load_cifar100(tmp_path / "cifar-100-python")
    chosen = balanced_subset(original.train, 2)
    assert len(back.train) == 200 and len(back.test) == 100
    np.testing.assert_array_equal(back.train.images, chosen.images)
    np.testing.assert_array_equal(back.train.fine, chosen.fine)
    np.testing.assert_array_equal(back.train.coarse, chosen.coarse)
    assert back.fine_names == original.fine_names
