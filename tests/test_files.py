"""Compressing image files from the command line: sizes, EXIF orientation, greyscale, alpha, 16-bit, clashes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cae_helpers.cli import main
from cae_helpers.entropy import container
from cae_helpers.errors import CodecError
from cae_helpers.files import read_image, webp_at_budget


@pytest.fixture(scope="module")
def codec_dir(tmp_path_factory):
    import keras

    from cae_helpers.codec import HyperpriorCodec
    from cae_helpers.hyperprior import HyperpriorConfig, build_hyperprior

    keras.utils.set_random_seed(0)
    cfg = HyperpriorConfig(filters=8, latent_channels=8, hyper_filters=8, hyper_channels=4, lambdas=(0.001, 0.01), precision="float32")
    folder = tmp_path_factory.mktemp("codec")
    HyperpriorCodec.from_model(build_hyperprior(cfg)).save(folder)
    return folder


def _rgb(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_exif_orientation_is_applied_as_viewers_do(tmp_path):
    img = _rgb(10, 20)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(img).save(tmp_path / "r.jpg", exif=exif, quality=100)
    shown = read_image(tmp_path / "r.jpg")
    assert shown.shape == (20, 10, 3)


def test_greyscale_is_coded_as_rgb_alpha_and_16_bit_are_refused(tmp_path):
    Image.fromarray(np.full((8, 9), 77, np.uint8)).save(tmp_path / "g.png")
    grey = read_image(tmp_path / "g.png")
    assert grey.shape == (8, 9, 3) and np.all(grey == 77)
    Image.fromarray(np.zeros((8, 8, 4), np.uint8)).save(tmp_path / "a.png")
    with pytest.raises(CodecError, match="alpha"):
        read_image(tmp_path / "a.png")
    assert read_image(tmp_path / "a.png", drop_alpha=True).shape == (8, 8, 3)
    Image.fromarray(np.full((8, 8), 4000, np.uint16)).save(tmp_path / "d.png")
    with pytest.raises(CodecError, match="16-bit"):
        read_image(tmp_path / "d.png")
    (tmp_path / "x.png").write_bytes(b"not an image")
    with pytest.raises(CodecError, match="not an image"):
        read_image(tmp_path / "x.png")


def test_webp_at_budget_fits_the_budget():
    img = _rgb(32, 32)
    data, decoded, q = webp_at_budget(img, 2000)
    assert len(data) <= 2000 and decoded.shape == img.shape and 0 <= q <= 100
    assert webp_at_budget(img, 10) is None


def test_compress_and_decompress_files_of_odd_sizes(codec_dir, tmp_path, capsys):
    for name, (h, w) in {"one": (1, 1), "row": (1, 97), "odd": (33, 65)}.items():
        Image.fromarray(_rgb(h, w)).save(tmp_path / f"{name}.png")
    out = tmp_path / "out"
    assert main(["compress", str(tmp_path), "-o", str(out), "--codec", str(codec_dir), "-q", "1.5"]) == 0
    text = capsys.readouterr().out
    assert text.count(" -> ") == 3 and "bpp" in text and "PSNR" in text and "WebP" in text
    assert main(["decompress", str(out), "--codec", str(codec_dir)]) == 0
    for name, (h, w) in {"one": (1, 1), "row": (1, 97), "odd": (33, 65)}.items():
        assert np.asarray(Image.open(out / f"{name}.png")).shape == (h, w, 3)
    assert main(["compress", str(tmp_path / "one.png"), "--codec", str(codec_dir), "-q", "3"]) == 2  # 2 levels only
    with pytest.raises(SystemExit, match="exists"):
        main(["compress", str(tmp_path / "one.png"), "-o", str(out / "one.cae"), "--codec", str(codec_dir)])
    assert container.version_of((out / "odd.cae").read_bytes()) == container.TILED_VERSION and container.version_of((out / "one.cae").read_bytes()) == container.VERSION  # auto: tiles above 32x32
    assert main(["compress", str(tmp_path / "odd.png"), "-o", str(out / "whole.cae"), "--codec", str(codec_dir),
                 "--layout", "whole", "--rescale", "off", "--compare", "none", "-q", "2"]) == 0
    assert container.version_of((out / "whole.cae").read_bytes()) == container.VERSION
    assert main(["compress", str(tmp_path / "odd.png"), "-o", str(out / "half.cae"), "--codec", str(codec_dir),
                 "--rescale", "0.5", "--compare", "none", "-q", "2"]) == 0
    assert container.version_of((out / "half.cae").read_bytes()) == container.RESCALED_VERSION and "33x65 (coded at 17x33)" in capsys.readouterr().out  # resized back on decoding
    assert main(["decompress", str(out / "half.cae"), "--codec", str(codec_dir)]) == 0
    assert np.asarray(Image.open(out / "half.png")).shape == (33, 65, 3)


def test_compress_chooses_the_coding_size_by_default_where_it_codes_whole(codec_dir, tmp_path):
    from types import SimpleNamespace

    from cae_helpers.cli import compress_rescale
    from cae_helpers.codec import HyperpriorCodec

    whole, tiled = SimpleNamespace(tiles_by_default=False), SimpleNamespace(tiles_by_default=True)
    given = lambda rescale, layout: SimpleNamespace(rescale=rescale, layout=layout)  # noqa: E731
    assert compress_rescale(given(None, "auto"), whole) == "auto" and compress_rescale(given(None, "whole"), tiled) == "auto"
    assert compress_rescale(given(None, "auto"), tiled) is None and compress_rescale(given(None, "tiles"), whole) is None
    assert compress_rescale(given(1.0, "whole"), whole) is None and compress_rescale(given(0.5, "auto"), tiled) == 0.5
    Image.fromarray(_rgb(40, 24)).save(tmp_path / "a.png")
    assert main(["compress", str(tmp_path / "a.png"), "-o", str(tmp_path / "default.cae"), "--codec", str(codec_dir),
                 "--layout", "whole", "--compare", "none", "-q", "1"]) == 0
    codec = HyperpriorCodec.load(codec_dir)
    chosen = codec.compress_image(np.asarray(Image.open(tmp_path / "a.png")), 1, tiles=False, rescale="auto")
    assert container.version_of(chosen) == container.RESCALED_VERSION and (tmp_path / "default.cae").read_bytes() == chosen  # the default is --rescale auto, byte for byte
    assert main(["compress", str(tmp_path / "a.png"), "-o", str(tmp_path / "t.cae"), "--codec", str(codec_dir),
                 "--layout", "tiles", "--compare", "none", "-q", "1"]) == 0
    assert container.version_of((tmp_path / "t.cae").read_bytes()) == container.TILED_VERSION  # tiles: full size, no error about --rescale
    with pytest.raises(SystemExit):
        main(["compress", str(tmp_path / "a.png"), "--codec", str(codec_dir), "--layout", "tiles", "--rescale", "auto"])


def test_damaged_cae_file_is_skipped_with_a_message(codec_dir, tmp_path, capsys):
    Image.fromarray(_rgb(16, 16)).save(tmp_path / "a.png")
    assert main(["compress", str(tmp_path / "a.png"), "--codec", str(codec_dir), "--compare", "none", "-q", "2"]) == 0
    blob = (tmp_path / "a.cae").read_bytes()
    (tmp_path / "a.cae").write_bytes(blob[:-3])
    assert main(["decompress", str(tmp_path / "a.cae"), "-o", str(tmp_path / "back.png"), "--codec", str(codec_dir)]) == 1
    assert "skipped" in capsys.readouterr().out and not (tmp_path / "back.png").exists()
    with pytest.raises(SystemExit, match="a.png exists"):  # beside the input would replace the original
        main(["decompress", str(tmp_path / "a.cae"), "--codec", str(codec_dir)])


def test_photo_benchmark_counts_whole_files(codec_dir, tmp_path, monkeypatch, capsys):
    import json

    from cae_helpers.bench import photos
    from cae_helpers.bench.curves import codec_name, rd_rounded_name, refined_name, rescaled_name

    fake = {"a.jpg": _rgb(40, 56, 1), "b.jpg": _rgb(24, 24, 2)}
    monkeypatch.setattr(photos, "sample_photos", lambda source: fake if source == "sklearn" else None)
    assert main(["bench", "photos", "--hyperprior", str(codec_dir), "--qualities", "1", "2", "--refine", "3", "--rescale",
                 "--out", str(tmp_path / "p")]) == 0
    result = json.loads((tmp_path / "p" / "photos.json").read_text())
    # named by folder, and last by the encoder's default rate-distortion rounding
    tiled, whole_base = codec_name(photos.OURS, codec_dir), codec_name(photos.OURS_WHOLE, codec_dir)
    tiled, whole_name, r = rd_rounded_name(tiled), rd_rounded_name(whole_base), rd_rounded_name
    ours = result["curves"][tiled]
    assert [p["quality"] for p in ours] == [1, 2]
    for p in ours:
        per = p["photos"]
        assert per["a.jpg"]["bpp"] == pytest.approx(8 * per["a.jpg"]["bytes"] / (40 * 56))
        assert p["bpp"] == pytest.approx((per["a.jpg"]["bpp"] + per["b.jpg"]["bpp"]) / 2)
    assert set(result["curves"]) >= {"WebP", "JPEG 4:4:4", "AVIF", whole_name} and (tmp_path / "p" / "photos.png").is_file()
    whole = result["curves"][whole_name]
    assert [p["layout"] for p in ours] == ["32x32 tiles"] * 2 and [p["layout"] for p in whole] == ["whole image"] * 2
    assert ours[0]["photos"]["a.jpg"]["bytes"] != whole[0]["photos"]["a.jpg"]["bytes"]  # 40x56: two layouts, two strings
    refined = result["curves"][r(refined_name(whole_base, 3))]
    assert [(p["layout"], p["refine_steps"]) for p in refined] == [("whole image", 3)] * 2 and whole[0]["refine_steps"] == 0
    sized = result["curves"][r(rescaled_name(whole_base))]
    assert [p["rescale"] for p in sized] == ["auto"] * 2 and whole[0]["rescale"] is None
    assert all(p["photos"][n]["scale16"] in (16, 12, 8) for p in sized for n in fake)
    assert r(refined_name(rescaled_name(whole_base), 3)) in result["curves"]
    per_photo = result["summary"][whole_name]["bd_rate_vs_webp_per_photo"]
    assert set(per_photo) == set(fake)  # each photograph's own BD-rate (None where the curves do not overlap)
    bars = capsys.readouterr().err  # a progress bar per layout, one tick per photo coded (2 qualities x 2 photos)
    assert all(f"{name}: 100%" in bars for name in (tiled, whole_name, r(refined_name(whole_base, 3)))) and "4/4" in bars


def test_the_independent_photo_set_is_scikit_images():
    from cae_helpers.bench.photos import SKIMAGE_PHOTOS, sample_photos

    held_out = sample_photos("skimage")
    assert tuple(held_out) == SKIMAGE_PHOTOS and all(p.dtype == np.uint8 and p.shape[2] == 3 for p in held_out.values())
    assert set(sample_photos("sklearn")) == {"china.jpg", "flower.jpg"}
    with pytest.raises(ValueError, match="sklearn"):
        sample_photos("kodak")


def test_compress_refine_option_codes_small_files_and_skips_large_ones(codec_dir, tmp_path, capsys):
    Image.fromarray(_rgb(40, 56, 3)).save(tmp_path / "small.png")
    Image.fromarray(np.zeros((1040, 1040, 3), np.uint8)).save(tmp_path / "large.png")  # past one megapixel padded
    out = tmp_path / "out"
    assert main(["compress", str(tmp_path), "-o", str(out), "--codec", str(codec_dir), "--refine", "5", "--compare", "none",
                 "--layout", "whole", "--rescale", "off", "-q", "2"]) == 1  # one file skipped
    text = capsys.readouterr().out
    assert "small.png -> " in text and "skipped" in text and "large.png" in text and "refinement takes images up to" in text
    assert (out / "small.cae").is_file() and not (out / "large.cae").exists()
    assert main(["decompress", str(out / "small.cae"), "--codec", str(codec_dir)]) == 0


def test_the_webp_comparison_suggests_refinement_only_where_webp_is_ahead_unrefined():
    from cae_helpers.cli import webp_comparison

    img = _rgb(32, 32)
    behind = webp_comparison(img, 2000, psnr=0.0, refined=False)  # any WebP file beats 0 dB
    assert "WebP q" in behind and "--refine" in behind and "--rescale auto" in behind
    assert "--rescale" not in webp_comparison(img, 2000, psnr=0.0, refined=False, rescaled=True)
    assert "--refine" not in webp_comparison(img, 2000, psnr=0.0, refined=True)
    assert "--refine" not in webp_comparison(img, 2000, psnr=99.0, refined=False)
    assert webp_comparison(img, 10, psnr=0.0, refined=False) == "; WebP: nothing fits that budget"
