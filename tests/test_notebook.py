"""The notebook runs top to bottom in smoke mode on the real archive and writes sane metrics."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "Convolutional_AutoEncoder_for_Cifar_dataset.ipynb"


def test_notebook_has_a_tagged_parameters_cell_and_no_logic():
    nb = json.loads(NOTEBOOK.read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    lines = [ln for ln in "".join(tagged[0]["source"]).splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines and all(re.match(r"^[A-Z_]+ = \S", ln) for ln in lines), lines  # plain settings papermill can override
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "def " not in code and "keras.layers" not in code  # models and metrics live in cae_helpers


def test_notebook_smoke_run_on_real_data(real_archive, tmp_path, monkeypatch):
    papermill = pytest.importorskip("papermill")
    monkeypatch.setenv("CAE_SMOKE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    papermill.execute_notebook(
        str(NOTEBOOK), str(tmp_path / "executed.ipynb"), cwd=str(NOTEBOOK.parent), progress_bar=False,
        parameters={"DATA_PATH": str(real_archive), "OUT_DIR": str(tmp_path / "out"), "VERBOSE": 2},
    )
    m = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert m["smoke"] is True and m["n_images"] == 1000 and m["epochs_run"] == 2
    assert m["config"]["protocol"] == "heldout" and m["validation_images"] == 500
    for key in ("psnr_mean_float", "psnr_pooled_float", "psnr_mean_uint8", "psnr_pooled_uint8"):
        assert math.isfinite(m[key]) and 8.0 < m[key] < 30.0, (key, m[key])  # two epochs on 1,500 images
    assert m["psnr_mean_float"] >= m["psnr_pooled_float"]
    assert 0.0 < m["ssim_mean_uint8"] < 1.0
    assert m["compression_rate"] == pytest.approx(5 / 6) and m["code_bytes"] == 512
    # section 9 coded the smoke test images with the shipped hyperprior codec, for real
    nb = json.loads((tmp_path / "executed.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
    found = re.search(r"hyperprior codec, quality [\d.]+: [\d.]+ bytes per image \(([\d.]+) bpp\), "
                      r"mean PSNR ([\d.]+) dB \(uint8\), 1,000 test images", text)
    assert found, "section 9 printed no hyperprior-codec result"
    assert 0.1 < float(found.group(1)) < 6 and float(found.group(2)) > 20
