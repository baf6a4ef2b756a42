"""tools/smooth_probe.py: crops grouped by smoothness, and the squared error split into mean colour and the rest."""

from __future__ import annotations

import numpy as np
import pytest

from tiny import blocky_images, random_images
from tool_module import load_tool


def _tool():
    return load_tool("smooth_probe")  # it imports val_loss from its own folder


def test_quartiles_put_flat_images_first_and_noise_last():
    x = np.concatenate([random_images(4, seed=1), blocky_images(4, cells=2)]).astype(np.float32) / 255
    groups = _tool().smoothness_quartiles(x)
    assert [len(g) for g in groups] == [2, 2, 2, 2]
    assert set(np.concatenate(groups[:2])) == {4, 5, 6, 7} and set(np.concatenate(groups[2:])) == {0, 1, 2, 3}


class _Offset:
    """A stand-in model: decodes x plus a fixed colour shift plus a +-d checkerboard, at 100 bits an image."""

    def __init__(self, shift: float, d: float):
        self.shift, self.d = shift, d

    def __call__(self, x, levels):
        board = np.indices(x.shape[1:3]).sum(axis=0) % 2 * 2 - 1  # (H, W) of +-1, mean 0
        return x + self.shift + self.d * board[None, :, :, None], np.full(len(x), 100.0), levels


def test_error_splits_into_the_mean_colour_and_the_rest():
    x = np.full((3, 32, 32, 3), 0.5, np.float32)
    got = _tool().quartile_figures(_Offset(shift=4 / 255, d=2 / 255), x, level=0)
    assert got["dc"] == pytest.approx(16.0, rel=1e-4) and got["rest"] == pytest.approx(4.0, rel=1e-4)
    assert got["bits"] == 100.0
    assert got["psnr"] == pytest.approx(10 * np.log10(255**2 / 20.0), abs=1e-3)
