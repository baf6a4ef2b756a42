"""tools/compare_histories.py: two runs' validation curves, epoch by epoch, from their state.json files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tool_module import load_tool


def _tool():
    return load_tool("compare_histories")


def _state(path: Path, val_loss: list[float]) -> Path:
    n = len(val_loss)
    history = {"val_loss": val_loss, "val_bpp": [2.0] * n, "val_mse": [1e-3] * n, "epoch_time_s": [100.0] * n}
    path.write_text(json.dumps({"epoch": n, "history": history}))
    return path


def test_table_covers_the_shared_epochs_with_running_bests(tmp_path):
    tool = _tool()
    a = tool.load_history(_state(tmp_path / "a.json", [5.0, 6.0, 4.0]))
    b = tool.load_history(_state(tmp_path / "b.json", [4.5, 4.0]))
    rows = tool.table(a, b, ("A", "B")).splitlines()
    assert len(rows) == 2 + 2  # header, rule, epochs 1-2 only: B has two
    assert rows[3].startswith("| 2 | 6.000 / 4.000 | 5.000 / 4.000 |")  # A's best so far stays 5 after its 6
    assert f"{10 * math.log10(1e3):.2f} / " in rows[3]


def test_a_file_that_is_not_a_state_is_refused_by_name(tmp_path):
    tool = _tool()
    (tmp_path / "x.json").write_text('{"epoch": 3}')
    with pytest.raises(SystemExit, match="x.json"):
        tool.load_history(tmp_path / "x.json")
    (tmp_path / "y.json").write_text("not json")
    with pytest.raises(SystemExit, match="y.json"):
        tool.load_history(tmp_path / "y.json")


def test_plot_is_written_once_and_never_overwritten(tmp_path):
    tool = _tool()
    h = tool.load_history(_state(tmp_path / "a.json", [5.0, 4.0]))
    out = tmp_path / "curves.png"
    tool.plot(h, h, ("A", "B"), out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = out.stat().st_mtime_ns
    with pytest.raises(SystemExit, match="not overwriting"):
        tool.plot(h, h, ("A", "B"), out)
    assert out.stat().st_mtime_ns == before
