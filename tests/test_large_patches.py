"""Training on inputs larger than 32x32: mosaics and upscaled crops, passes per epoch, starting from a saved codec."""

from __future__ import annotations

import numpy as np
import pytest

from cae_helpers.codec import HyperpriorCodec
from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior, copy_weights, save_hyperprior
from cae_helpers.training.loop import ArrayBatches, FitSettings, crop_resize_numpy, mosaic_patches

from tiny import TINY


def _images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def test_crop_resize_to_another_size_samples_the_source_grid():
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype(np.float32)
    # the whole image to 63 pixels: every other output pixel is a source pixel, those between are means
    out = crop_resize_numpy(x, np.zeros(2), np.zeros(2), np.ones(2), np.array([False, True]), out_size=63)
    assert out.shape == (2, 63, 63, 3)
    np.testing.assert_allclose(out[0, ::2, ::2], x[0], atol=1e-6)
    np.testing.assert_allclose(out[1, ::2, ::2], x[1, :, ::-1], atol=1e-6)
    np.testing.assert_allclose(out[0, 1::2, ::2], (x[0, :-1] + x[0, 1:]) / 2, atol=1e-6)


def test_mosaics_hold_the_batch_images_in_their_cells():
    x = _images(8) / np.float32(255)
    out = mosaic_patches(x, np.random.default_rng(0), 64, share=0.0, max_zoom=4.0)  # no zoom: plain 2x2 mosaics (flips only)
    assert out.shape == (2, 64, 64, 3)
    cells = [out[0, :32, :32], out[0, :32, 32:], out[0, 32:, :32], out[0, 32:, 32:]]
    for cell, image in zip(cells, x[:4]):
        assert np.allclose(cell, image, atol=1e-6) or np.allclose(cell, image[:, ::-1], atol=1e-6)


def test_zoomed_patches_are_smooth_8bit_crops_of_one_image():
    x = _images(16) / np.float32(255)
    out = mosaic_patches(x, np.random.default_rng(1), 64, share=1.0, max_zoom=4.0)
    assert out.shape == (4, 64, 64, 3)
    np.testing.assert_array_equal(np.round(out * 255), out * 255)  # whole grey levels, like a real image
    # upscaled at least 2x: neighbouring pixels differ far less than in the (noise) source images
    assert np.abs(np.diff(out, axis=2)).mean() < 0.6 * np.abs(np.diff(x, axis=2)).mean()


def test_mosaic_patches_refuse_sizes_that_do_not_fit():
    x = _images(4) / np.float32(255)
    with pytest.raises(ValueError, match="multiple"):
        mosaic_patches(x, np.random.default_rng(0), 48, 0.5, 4.0)
    with pytest.raises(ValueError, match="cannot fill"):
        mosaic_patches(x[:3], np.random.default_rng(0), 64, 0.5, 4.0)


def test_large_patch_batches_alternate_and_stay_seeded():
    images = _images(64)
    a = ArrayBatches(images, 16, True, seed=2, augment=0.5, large_patch=64)
    b = ArrayBatches(images, 16, True, seed=2, augment=0.5, large_patch=64, workers=3)
    assert a[0][0].shape == (16, 32, 32, 3) and a[1][0].shape == (4, 64, 64, 3)
    for k in range(len(a)):
        np.testing.assert_array_equal(a[k][0], b[k][0])
    plain = ArrayBatches(images, 16, False, large_patch=64)  # validation batches stay as they are
    assert plain[1][0].shape == (16, 32, 32, 3)


def test_passes_go_over_every_image_that_many_times_per_epoch():
    images = _images(10)
    data = ArrayBatches(images, 4, True, seed=0, passes=3)
    assert len(data) == 8  # 30 images in batches of 4
    seen = np.concatenate([data[k][0] for k in range(len(data))])
    keys = sorted(map(bytes, (seen * 255).round().astype(np.uint8)))
    assert keys == sorted(map(bytes, np.repeat(images, 3, axis=0)))
    one = ArrayBatches(images, 4, True, seed=0)
    assert len(one) == 3
    with pytest.raises(ValueError, match="passes"):
        FitSettings(1, 4, passes=0)


def test_config_refuses_patch_sizes_the_mosaics_cannot_make():
    for bad in (32, 48, -64):
        with pytest.raises(ValueError, match="large_patch"):
            HyperpriorConfig(large_patch=bad)
    with pytest.raises(ValueError, match="passes"):
        HyperpriorConfig(passes=0)


def test_training_starts_from_a_saved_codec(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    saved = build_hyperprior(HyperpriorConfig(**TINY))
    save_hyperprior(saved, tmp_path / "start")
    model = build_hyperprior(HyperpriorConfig(**TINY, seed=5))
    copy_weights(model, tmp_path / "start")
    for a, b in zip(model.get_weights(), saved.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b, np.float16).astype(np.float32))  # what ships is float16
    other = build_hyperprior(HyperpriorConfig(**(TINY | {"filters": 12})))
    with pytest.raises(ValueError, match="filters: 8 there, 12 here"):
        copy_weights(other, tmp_path / "start")


def test_a_large_patch_run_trains_and_records_its_recipe(tiny_archive, tmp_path):
    import json

    from cae_helpers.data import load_cifar100, protocol_splits
    from cae_helpers.training.codec import train_hyperprior

    data = load_cifar100(tiny_archive)
    fit, val = protocol_splits(data.train, data.test, "heldout", 100)
    config = HyperpriorConfig(**(TINY | {"epochs": 1, "large_patch": 64, "passes": 2}))
    _, info = train_hyperprior(config, fit.images, val.images, tmp_path / "run")
    assert info["finished"] and info["steps_done"] == -(-len(fit.images) * 2 // 16)
    settings = json.loads((tmp_path / "run" / "backup" / "settings.json").read_text())
    assert settings["large_patch"] == 64 and settings["passes"] == 2 and "init_from" not in settings


def test_an_exported_fine_tune_keeps_the_record_it_started_from(tiny_archive, tmp_path):
    import json

    from cae_helpers.cli import main
    from cae_helpers.data import load_cifar100, protocol_splits
    from cae_helpers.training.codec import train_hyperprior

    save_hyperprior(build_hyperprior(HyperpriorConfig(**TINY)), tmp_path / "start", {"steps_done": 7, "exported_by": "earlier"})
    data = load_cifar100(tiny_archive)
    fit, val = protocol_splits(data.train, data.test, "heldout", 100)
    config = HyperpriorConfig(**(TINY | {"epochs": 1, "init_from": str(tmp_path / "start")}))
    _, info = train_hyperprior(config, fit.images, val.images, tmp_path / "run")
    assert main(["export-codec", "--run", str(tmp_path / "run"), "--out", str(tmp_path / "codec")]) == 0
    saved = json.loads((tmp_path / "codec" / "config.json").read_text())
    assert saved["started_from"]["exported_by"] == "earlier"
    assert saved["steps_done_in_all"] == 7 + info["steps_done"]
    assert main(["export-codec", "--run", str(tmp_path / "run"), "--out", str(tmp_path / "exact"), "--integer-hs"]) == 0
    plain, exact = (HyperpriorCodec.load(tmp_path / name) for name in ("codec", "exact"))
    assert plain.integer_hs is None and exact.integer_hs is not None and exact.model_id != plain.model_id


@pytest.mark.parametrize("args, message", [(["--large-patch", "48"], "multiple of 32"),
                                           (["--init-from", "."], "no weights.npz"),
                                           (["--passes", "0"], "--passes")])
def test_train_codec_refuses_bad_new_options_before_loading_data(args, message, capsys):
    from cae_helpers.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["train-codec", "--data", "/nonexistent", *args])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
