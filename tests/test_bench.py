"""Rate-distortion benchmark pieces: BD-rate, interpolation, Pillow round trips, the CLI on tiny data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cae_helpers.bench.classic import pillow_round_trip
from cae_helpers.bench.curves import at_rate, bd_rate, rd_point
from cae_helpers.cli import main


def _curve(bpps, psnrs):
    return [{"bpp": b, "psnr_mean_uint8": q} for b, q in zip(bpps, psnrs)]


def test_bd_rate_known_shifts():
    anchor = _curve([0.5, 1, 2, 4, 8], [20, 24, 28, 32, 36])
    assert bd_rate(anchor, anchor) == pytest.approx(0.0, abs=1e-9)
    half = _curve([0.25, 0.5, 1, 2, 4], [20, 24, 28, 32, 36])  # same quality at half the bits
    assert bd_rate(half, anchor) == pytest.approx(-50.0, abs=1e-6)
    assert bd_rate(anchor, half) == pytest.approx(100.0, abs=1e-6)
    assert bd_rate(anchor[:3], anchor) is None  # too few points for a cubic
    assert bd_rate(_curve([1, 2, 3, 4], [40, 41, 42, 43]), anchor) is None  # no common quality range


def test_at_rate_interpolates_in_log_rate():
    c = _curve([1, 4], [20, 30])
    assert at_rate(c, 2) == pytest.approx(25.0)
    assert at_rate(c, 0.5) is None and at_rate(c, 8) is None


def test_pillow_round_trip_and_point():
    imgs = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    files, dec, enc_s, dec_s = pillow_round_trip(imgs, "WEBP", lossless=True)
    assert np.array_equal(dec, imgs) and all(f[:4] == b"RIFF" for f in files)
    p = rd_point(imgs, dec, np.array([len(f) for f in files]), enc_s, dec_s, quality=100)
    assert p["bpp"] == pytest.approx(8 * np.mean([len(f) for f in files]) / 1024)
    assert np.isinf(p["psnr_mean_uint8"]) and p["ssim_mean_uint8"] == pytest.approx(1.0)
    files, dec, _, _ = pillow_round_trip(imgs, "JPEG", quality=50, subsampling=0)
    assert files[0][:2] == b"\xff\xd8" and dec.shape == imgs.shape


def test_cli_with_a_model_on_tiny_data(tiny_archive, tmp_path):
    from cae_helpers import build_autoencoder
    from cae_helpers.io import save_model

    ae, _, _ = build_autoencoder(filters=(4, 4, 4), latent_dim=8)
    save_model(ae, tmp_path / "ae.keras")
    assert main(["bench", "rd", "--data", str(tiny_archive), "--model", str(tmp_path / "ae.keras"), "--per-class", "1",
                 "--no-classic", "--steps", "0.1", "0.5", "--out", str(tmp_path / "rd")]) == 0
    rd = json.loads((tmp_path / "rd" / "rd.json").read_text())
    float_pt = rd["curves"]["reference model, float32 code"][0]
    assert float_pt["bpp"] == 8 * 4 * 8 / 1024 and rd["curves"]["reference model, 8-bit code"][0]["bytes_mean"] == 8
    coded = rd["curves"]["reference model + entropy-coded latent"]
    assert len(coded) == 2 and coded[0]["bpp"] > coded[1]["bpp"]  # a finer step costs more bits
    assert (tmp_path / "rd" / "rd.png").is_file() and (tmp_path / "rd" / "rd_ssim.png").is_file() and "versions" in rd


def test_rd_puts_the_refined_and_resized_hyperprior_beside_the_plain_one(tiny_archive, tmp_path, capsys):
    from cae_helpers.bench.curves import rd_rounded_name, refined_name, rescaled_name
    from cae_helpers.bench.rd import HYPERPRIOR
    from cae_helpers.codec import ZOO
    from cae_helpers.entropy.rounding import RD_ROUNDING_WEIGHT

    assert main(["bench", "rd", "--data", str(tiny_archive), "--hyperprior", str(ZOO / "hyperprior"), "--qualities", "1",
                 "--refine", "5", "--rescale", "--per-class", "1", "--no-classic", "--out", str(tmp_path / "rd")]) == 0
    curves = json.loads((tmp_path / "rd" / "rd.json").read_text())["curves"]
    named = rd_rounded_name  # the encoder's default rate-distortion rounding: every curve says so
    plain, refined = curves[named(HYPERPRIOR)][0], curves[named(refined_name(HYPERPRIOR, 5))][0]
    assert (plain["refine_steps"], refined["refine_steps"]) == (0, 5) and plain["quality"] == refined["quality"] == 1
    assert plain["rounding_weight"] == RD_ROUNDING_WEIGHT and refined["bytes_mean"] != plain["bytes_mean"]
    sized = curves[named(rescaled_name(HYPERPRIOR))][0]  # --rescale: the size chosen per image, a curve of its own
    assert (sized["rescale"], plain["rescale"], sized["quality"]) == ("auto", None, 1) and sized["bytes_mean"] != plain["bytes_mean"]
    assert plain["smaller_copy_share"] == 0 and 0 < sized["smaller_copy_share"] <= 1
    both = curves[named(refined_name(rescaled_name(HYPERPRIOR), 5))][0]  # --refine and --rescale: the chosen size, refined
    assert (both["rescale"], both["refine_steps"]) == ("auto", 5) and both["smaller_copy_share"] == sized["smaller_copy_share"]
    capsys.readouterr()
    assert main(["bench", "rd", "--data", str(tiny_archive), "--hyperprior", str(ZOO / "hyperprior"), "--qualities", "1",
                 "--refine", "5", "--rescale", "--per-class", "1", "--no-classic", "--merge", str(tmp_path / "rd" / "rd.json"),
                 "--out", str(tmp_path / "again")]) == 0
    assert capsys.readouterr().out.count("kept from --merge") == 4
    again = json.loads((tmp_path / "again" / "rd.json").read_text())["curves"]
    assert all(again[name] == curves[name] for name in curves)  # the same records, timings too
    assert main(["bench", "rd", "--data", str(tiny_archive), "--hyperprior", str(ZOO / "hyperprior"), "--qualities", "1",
                 "--rounding", "0", "--per-class", "1", "--no-classic", "--out", str(tmp_path / "nearest")]) == 0
    nearest = json.loads((tmp_path / "nearest" / "rd.json").read_text())["curves"][HYPERPRIOR][0]  # --rounding 0: the plain name
    assert nearest["rounding_weight"] == 0 and nearest["bytes_mean"] != plain["bytes_mean"]


def test_rd_measures_the_default_codec_in_its_own_byte_format(tiny_archive, tmp_path):
    """The default codec writes versions 16-18 (per-level z tables): the benchmark reads their headers against it."""
    from cae_helpers.codec import DEFAULT_MODEL, ZOO

    assert main(["bench", "rd", "--data", str(tiny_archive), "--hyperprior", str(ZOO / DEFAULT_MODEL), "--qualities", "1",
                 "--rescale", "--per-class", "1", "--no-classic", "--out", str(tmp_path / "rd")]) == 0
    curves = json.loads((tmp_path / "rd" / "rd.json").read_text())["curves"]
    shares = sorted(c[0]["smaller_copy_share"] for c in curves.values() if c and "smaller_copy_share" in c[0])
    assert len(shares) == 2 and shares[0] == 0 and 0 < shares[1] <= 1


def test_equal_epochs_quality_runs_both_paths(monkeypatch):
    """One model with stock float32 layers, one with the fast layers in the automatic precision, each trained."""
    from cae_helpers import models
    from cae_helpers.bench.speed import equal_epochs_quality
    from cae_helpers.training import resolve_precision

    built, real = [], models.build_autoencoder

    def spy(**kwargs):
        built.append((kwargs["dtype"], kwargs["fast_layers"]))
        return real(**kwargs)

    monkeypatch.setattr(models, "build_autoencoder", spy)
    rng = np.random.default_rng(1)
    out = equal_epochs_quality(rng.integers(0, 256, (128, 32, 32, 3), dtype=np.uint8),
                               rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8), epochs=1)
    assert built == [("float32", False), (resolve_precision("auto"), True)]
    assert out["plain_fp32_train_s"] > 0 and out["fast_train_s"] > 0
    assert np.isfinite(out["plain_fp32_psnr_mean_float"]) and np.isfinite(out["fast_psnr_mean_float"])


def test_gap_rows_against_webp_and_published():
    from cae_helpers.bench.curves import gap_rows, published_curves
    from cae_helpers.report import gaps_table

    rd = {"curves": {"WebP": _curve([0.5, 1, 2, 4], [20, 24, 29, 34]), "ours": _curve([0.25, 1, 4], [22, 28, 38])},
          "published": {"curves": published_curves()}}
    rows = gap_rows(rd, "ours")
    assert [r["bpp"] for r in rows] == [0.5, 1, 2, 4]
    assert rows[1]["ours"] == 28 and rows[1]["gap to WebP"] == pytest.approx(4.0)
    assert rows[2]["ours"] == pytest.approx(33.0)  # halfway in log-rate between 1 and 4 bpp
    balle = "Ballé 2018 hyperprior (CIFAR-10, published)"
    assert rows[1][f"gap to {balle}"] == pytest.approx(28 - at_rate(published_curves()[balle], 1))
    assert gap_rows(rd, "missing")[0]["ours"] is None
    table = gaps_table(rd, "ours")
    assert table.count("\n") == 5 and "+4.00" in table


def test_published_curves_are_rd_curves_with_their_source():
    """Typed-in figures: each curve rises in rate and quality, and the source names where each came from."""
    from cae_helpers.bench.curves import PUBLISHED, PUBLISHED_SOURCE

    for name, pts in PUBLISHED.items():
        rates, psnr = np.array(pts).T
        assert len(pts) >= 3 and np.all(np.diff(rates) > 0) and np.all(np.diff(psnr) > 0), name
        assert 0.1 < rates[0] and rates[-1] < 6 and 15 < psnr[0] and psnr[-1] < 50, name
    assert "UQDM" in PUBLISHED_SOURCE and "COIN++" in PUBLISHED_SOURCE


def test_published_bd_table_reads_bd_rate_against_each_published_curve():
    from cae_helpers.report import published_bd_table

    paper = _curve([0.5, 1, 2, 4], [24, 28, 33, 40])
    half = [p | {"bpp": p["bpp"] / 2} for p in paper]  # the same qualities at half the bits
    rd = {"curves": {"ours": half}, "published": {"curves": {"paper": paper, "short": paper[:3]}}}
    rows = published_bd_table(rd, "ours").splitlines()
    assert rows[2] == "| paper | -50.0 % | 24.0-40.0 |"
    assert rows[3].startswith("| short | n/a (under 4 points")


def test_full_run_summary_and_target_verdicts(tmp_path):
    from cae_helpers.bench.speed import full_run_summary, target_verdicts

    (tmp_path / "history.json").write_text(json.dumps({"epochs_run": 40, "train_wall_time_s": 1920.0, "resumed_from_epoch": 0}))
    (tmp_path / "metrics.json").write_text(json.dumps({"command": "python -m cae_helpers train", "wall_time_s": 2000.0,
                                                      "peak_rss_mib": 5000.0, "psnr_mean_float": 23.5}))
    run = full_run_summary(tmp_path)
    assert run["full_run_seconds_per_epoch"] == 48.0 and run["full_run_projected_50_epoch_minutes"] == 40.0
    result = run | {"train_speedup": 3.0, "compress_images_per_s": 3000.0, "decompress_images_per_s": 3000.0,
                    "webp_m6_encode_images_per_s": 2000.0, "webp_m6_decode_images_per_s": 8000.0,
                    "webp_m4_encode_images_per_s": 6000.0, "webp_m4_decode_images_per_s": 6000.0, "psnr_difference_db": -0.12}
    verdicts = target_verdicts(result)
    assert verdicts["train_speedup"]["met"] and verdicts["full_run_projected_50_epoch_minutes"]["met"]  # 40.0 <= 40
    assert not verdicts["full_run_peak_rss_mib"]["met"]
    assert verdicts["round_trip_vs_webp_m6"] == {"value": 1500.0, "min": 1600.0, "met": False}
    assert verdicts["round_trip_vs_webp_m4"]["min"] == 3000.0 and not verdicts["round_trip_vs_webp_m4"]["met"]
    assert verdicts["psnr_difference_db"]["value"] == pytest.approx(0.12) and not verdicts["psnr_difference_db"]["met"]
    assert "train_hyperprior_vs_factorised" not in verdicts  # no codec figures, no verdict on them
    codecs = target_verdicts({"train_hyperprior_vs_factorised": 0.97})["train_hyperprior_vs_factorised"]
    assert codecs == {"value": 0.97, "min": 1.0, "met": False}
    assert target_verdicts({"train_hyperprior_vs_factorised": 1.02})["train_hyperprior_vs_factorised"]["met"]
    (tmp_path / "history.json").write_text(json.dumps({"epochs_run": 40, "train_wall_time_s": 1.0, "resumed_from_epoch": 12}))
    with pytest.raises(ValueError, match="resumed"):
        full_run_summary(tmp_path)


def test_report_tables_and_nearest_point():
    from cae_helpers.bench.curves import nearest_point
    from cae_helpers.report import points_table, rd_summary_table, runs_table

    pts = [{"lmbda": l, "bpp": b, "bytes_mean": 128 * b, "psnr_mean_uint8": q, "psnr_pooled_uint8": q - 1, "ssim_mean_uint8": 0.9}
           for l, b, q in ((0.01, 0.5, 25.0), (0.1, 1.2, 29.0), (1.0, 4.0, 38.0))]
    assert nearest_point(pts, 1.0)["lmbda"] == 0.1 and nearest_point(pts, 3.0)["lmbda"] == 1.0
    table = points_table(pts)
    assert table.count("\n") == 4 and "| 0.1 | 1.200 | 153.6 | 29.00 | 28.00 | 0.9000 | – / – |" in table
    rd = {"summary": {"WebP": {"bd_rate_vs_webp_percent": 0.0, "psnr_at_1bpp": 24.1}}}
    assert "| WebP | +0.0 % | – | 24.10 |" in rd_summary_table(rd)
    rd["summary"]["WebP"]["bd_rate_vs_webp_per_photo"] = {"a.jpg": -3.25, "b.jpg": None}
    assert "| 24.10 | a.jpg -3.2 %, b.jpg – |" in rd_summary_table(rd, (0.5, 1), per_photo=True)
    run = {"config": {"protocol": "heldout", "keep_best": True}, "epochs_run": 38, "psnr_mean_float": 23.61,
           "psnr_pooled_float": 22.83, "psnr_mean_uint8": 23.6, "ssim_mean_uint8": 0.7341, "compression_rate": 5 / 6}
    assert "| nb | heldout | best | 38 | 23.61 | 22.83 | 23.60 | 0.7341 | 83.33 % |" in runs_table([("nb", run)])


def test_headline_table_one_row_per_codec_across_sets():
    from cae_helpers.report import headline_table

    published = {"psnr_at": {"Balle": {"psnr_at_1bpp": 29.4, "psnr_at_2bpp": 34.8}}}
    cifar = {"title": "CIFAR-100 test (10 images)", "published": published,
             "summary": {"ours": {"bd_rate_vs_webp_percent": -33.1, "psnr_at_1bpp": 26.94, "psnr_at_2bpp": 32.0}}}
    crops = {"title": "photo crops (5, not CIFAR)", "published": published, "summary": {"ours": {"bd_rate_vs_webp_percent": 13.6}}}
    table = headline_table({"CIFAR": cifar, "crops": crops}, ["ours", "Balle", "peer"], rates=(1, 2))
    rows = table.splitlines()
    assert rows[0] == "| codec | CIFAR: BD-rate vs WebP | CIFAR: PSNR @ 1 / 2 bpp | crops: BD-rate vs WebP | crops: PSNR @ 1 / 2 bpp |"
    assert rows[2] == "| ours | -33.1 % | 26.94 / 32.00 | +13.6 % | – / – |"
    assert rows[3] == "| Balle | n/a | 29.40 / 34.80 | not measured | – |"  # published CIFAR-10 figures: not beside photos
    assert rows[4] == "| peer | not measured | – | not measured | – |"


@pytest.mark.parametrize("kind", ["factorised", "hyperprior"])
def test_codec_train_throughput_times_an_epoch(kind):
    from cae_helpers.bench.speed import codec_train_throughput

    images = np.random.default_rng(2).integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)
    assert codec_train_throughput(images, kind, repeats=1) > 0
    with pytest.raises(ValueError, match="unknown codec kind"):
        codec_train_throughput(images, "other")


def test_codec_curves_are_named_by_their_folder_beside_the_default():
    from cae_helpers.bench.curves import codec_name
    from cae_helpers.bench.photos import OURS_WHOLE
    from cae_helpers.bench.rd import HYPERPRIOR

    assert codec_name(HYPERPRIOR, "cae_helpers/zoo/hyperprior") == HYPERPRIOR  # the committed results keep their names
    assert codec_name(HYPERPRIOR, "cae_helpers/zoo/hyperprior-v2/") == "learned codec (hyperprior, one model: hyperprior-v2)"
    assert codec_name(OURS_WHOLE, "runs/x") == "learned codec (hyperprior, whole image: x)"
