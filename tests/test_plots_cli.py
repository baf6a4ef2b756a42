"""showOrigDec and the other figures; the command line end to end on the tiny archive."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cae_helpers import pair_captions, plot_history, plot_per_class, showOrigDec, show_samples  # noqa: E402
from cae_helpers.cli import main  # noqa: E402


def test_showOrigDec_grid():
    orig = np.random.default_rng(0).integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    fig = showOrigDec(orig, orig / 255.0, num=10)
    assert len(fig.axes) == 20 and tuple(fig.get_size_inches()) == (20, 4)
    assert np.array_equal(fig.axes[0].images[0].get_array(), orig[0])
    assert not fig.axes[0].axison
    with pytest.warns(UserWarning, match="only 3"):
        assert len(showOrigDec(orig[:3], orig[:3], num=10).axes) == 6  # fewer images than num
    with pytest.raises(ValueError, match="pair up"):
        showOrigDec(orig, orig[:5])


def test_showOrigDec_captions_give_each_pairs_bytes_and_psnr():
    orig = np.full((3, 32, 32, 3), 100, np.uint8)
    dec = orig.copy()
    dec[1] += 1  # MSE 1: PSNR 48.13 dB
    captions = pair_captions(orig[1:], dec[1:], nbytes=[50, 60])
    assert captions == ["50 B, 48.1 dB", "60 B, inf dB"]  # identical pair: no error, infinite PSNR
    assert pair_captions(orig[1:2], dec[1:2] / 255.0) == ["48.1 dB"]  # float reconstructions rounded as stored
    fig = showOrigDec(orig[1:], dec[1:], num=2, captions=captions)
    assert fig.axes[2].texts[0].get_text() == "50 B, 48.1 dB"
    with pytest.raises(ValueError, match="captions"):
        showOrigDec(orig, dec, num=3, captions=captions)


def test_other_figures():
    assert len(plot_history({"loss": [0.1, 0.05], "val_loss": [0.2, 0.1]}).axes[0].lines) == 2
    marked = plot_history({"loss": [0.1, 0.05, 0.04], "val_loss": [0.2, 0.1, 0.12]}, kept_epoch=2).axes[0]
    assert len(marked.lines) == 3 and "epoch 2" in marked.get_legend().get_texts()[-1].get_text()
    bars = plot_per_class(np.linspace(20, 30, 100), [f"c{i}" for i in range(100)]).axes[0]
    assert bars.get_ylim()[0] == 0  # bar lengths start at 0 dB, not at the worst class
    assert len(show_samples(np.zeros((30, 32, 32, 3), np.uint8), np.arange(30), rows=3, cols=10).axes) == 30
    assert len(plot_per_class(np.linspace(20, 30, 100), [f"c{i}" for i in range(100)]).axes[0].patches) == 20


def test_cli_train_then_evaluate(tiny_archive, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--data", str(tiny_archive), "--out", str(out), "--smoke", "2", "--epochs", "1",
                 "--protocol", "heldout", "--precision", "float32"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["compression_rate"] == pytest.approx(5 / 6) and m["code_bytes"] == 512
    assert m["epochs_run"] == 1 and m["validation_is_test_set"] is False
    assert np.isfinite(m["psnr_mean_float"]) and 0 < m["ssim_mean_uint8"] <= 1
    assert len(m["psnr_by_class_float"]) == 100 and "keras" in m["versions"]
    assert m["command"].startswith("python -m cae_helpers train --data ")
    for name in ("orig_vs_dec.png", "history.png", "psnr_by_class.png", "autoencoder.keras"):
        assert (out / name).is_file()
    ev = tmp_path / "eval"
    assert main(["evaluate", "--data", str(tiny_archive), "--out", str(ev), "--smoke", "2",
                 "--model-path", str(out / "autoencoder.keras")]) == 0
    assert json.loads((ev / "metrics.json").read_text())["psnr_mean_float"] == pytest.approx(m["psnr_mean_float"], abs=1e-6)


def test_cli_missing_data_exits_with_message(tmp_path, capsys):
    import zipfile

    with zipfile.ZipFile(tmp_path / "m.keras", "w") as z:  # passes the model-path check; the data is what is missing
        z.writestr("config.json", "{}")
    assert main(["evaluate", "--data", str(tmp_path / "none.tar.gz"), "--out", str(tmp_path / "e"), "--model-path", str(tmp_path / "m.keras")]) == 2
    assert "not found" in capsys.readouterr().err


def test_cli_real_data_smoke(real_archive, tmp_path):
    out = tmp_path / "real"
    assert main(["train", "--data", str(real_archive), "--out", str(out), "--smoke", "10", "--epochs", "1"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["n_images"] == 200 and 8 < m["psnr_mean_float"] < 30


def test_bytes_histograms_one_line_per_set():
    from cae_helpers.plots import plot_bytes_histograms

    point = {"bytes_histogram": {"edges": [10, 20, 40, 80], "counts": [1, 5, 2]}, "bytes_p50": 25.0}
    fig = plot_bytes_histograms({"CIFAR": point, "photos": point}, "q4")
    assert len(fig.axes[0].patches) == 2 and fig.axes[0].get_xscale() == "log"


def test_rd_plot_leaves_out_curves_without_the_metric():
    from cae_helpers.plots import plot_rd

    ours = [{"bpp": 1.0, "psnr_mean_uint8": 27.0, "ssim_mean_uint8": 0.9}, {"bpp": 2.0, "psnr_mean_uint8": 31.0, "ssim_mean_uint8": 0.95}]
    peer = [{"bpp": 1.1, "psnr_mean_uint8": 26.0}]  # a merged curve measured without SSIM
    ssim_lines = plot_rd({"ours": ours, "peer": peer}, key="ssim_mean_uint8").axes[0].get_lines()
    assert [line.get_label() for line in ssim_lines] == ["ours"]
    assert [line.get_label() for line in plot_rd({"ours": ours, "peer": peer}).axes[0].get_lines()] == ["ours", "peer"]


def test_rd_plot_gives_every_curve_its_own_look_past_ten():
    """A merged results file has more curves than matplotlib has colours: no two lines may share colour and marker."""
    from cae_helpers.plots import plot_rd

    curves = {f"codec {i}": [{"bpp": 1.0, "psnr_mean_uint8": 20.0 + i}, {"bpp": 2.0, "psnr_mean_uint8": 25.0 + i}] for i in range(13)}
    published = {"paper": [{"bpp": 1.0, "psnr_mean_uint8": 30.0}, {"bpp": 2.0, "psnr_mean_uint8": 35.0}]}
    lines = plot_rd(curves, published=published).axes[0].get_lines()
    looks = {(line.get_color(), line.get_marker()) for line in lines}
    assert len(lines) == 14 and len(looks) == 14


def test_byte_budget_plot_stacks_shares_to_100_percent():
    from cae_helpers.plots import plot_byte_budget

    rows = {1: {"total": 40.0, "header": 9.0, "ans": 5.0, "z": 14.0, "y": 12.0}, 2: {"total": 100.0, "header": 9.0, "ans": 4.0, "z": 17.0, "y": 70.0}}
    ax = plot_byte_budget({"a": rows, "b": rows}).axes[0]
    tops = {}
    for bar in ax.patches:
        tops[bar.get_x()] = max(tops.get(bar.get_x(), 0), bar.get_y() + bar.get_height())
    assert len(ax.patches) == 8 and all(abs(t - 100) < 1e-9 for t in tops.values())
    assert ax.patches[0].get_height() == 100 * 9 / 40  # quality 1's header share
    assert [t.get_text() for t in ax.texts] == ["40 B", "100 B"]
