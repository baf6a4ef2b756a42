"""A byte budget per image: `compress(..., max_bytes=N)` codes each image at the highest quality that fits in N bytes."""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers.entropy import container
from tiny import blocky_images


@pytest.fixture(scope="module")
def codec(default_codec):
    return default_codec


@pytest.fixture(scope="module")
def images():
    return blocky_images(6, cells=4, seed=7, noise=6)  # 8x8 blocks: cheap at low qualities, costly at high ones


def test_each_string_fits_and_the_next_quality_up_would_not(codec, images):
    budget = 120
    blobs = codec.compress(images, 8, max_bytes=budget)
    top = codec.level16(8)
    assert len(blobs) == len(images) and all(len(b) <= budget for b in blobs)
    levels = [codec.read_header(b).level16 for b in blobs]
    assert len(set(levels)) > 1  # the budget picks different qualities for different content
    for image, blob, level16 in zip(images, blobs, levels):
        np.testing.assert_array_equal(codec.decompress([blob])[0], codec.decompress(codec.compress(image[None], 1 + level16 / 16))[0])
        if level16 < top:
            assert len(codec.compress(image[None], 1 + (level16 + 1) / 16)[0]) > budget


def test_a_generous_budget_gives_the_quality_asked_for(codec, images):
    plain = codec.compress(images, 2.5)
    assert codec.compress(images, 2.5, max_bytes=max(map(len, plain))) == plain
    assert {container.version_of(b) for b in plain} <= {19, 22}  # 22: with mean-colour corrections where they pay


def test_a_budget_too_small_names_the_images_and_bad_budgets_are_refused(codec, images):
    from cae_helpers.codec import pretrained_codec

    with pytest.raises(ValueError, match=r"6 of 6 images do not fit in 8 bytes even at quality 1 \(images \[0, 1, 2, 3, 4, 5\]\)"):
        codec.compress(images, 8, max_bytes=8)
    for bad in (0, -3, 12.5):
        with pytest.raises(ValueError, match="max_bytes must be a positive whole number"):
            codec.compress(images, 8, max_bytes=bad)
        with pytest.raises(ValueError, match="max_bytes must be a positive whole number"):
            pretrained_codec(quality=8, max_bytes=bad)
    bound = pretrained_codec(quality=8, max_bytes=130)
    assert all(len(b) <= 130 for b in bound.compress(images))


def test_the_command_line_takes_a_budget(tmp_path, images, capsys):
    from PIL import Image

    from cae_helpers.cli import main

    Image.fromarray(images[0]).save(tmp_path / "a.png")
    assert main(["compress", str(tmp_path / "a.png"), "-q", "8", "--max-bytes", "130", "--rescale", "off", "--compare", "none"]) == 0
    assert len((tmp_path / "a.cae").read_bytes()) <= 130 and "bytes" in capsys.readouterr().out
