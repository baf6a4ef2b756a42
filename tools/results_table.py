"""Print the README's results tables (markdown) from the committed results files.

    python tools/results_table.py
"""

import json
from pathlib import Path

from cae_helpers.report import gaps_table, points_table, rd_summary_table, runs_table

ROOT = Path(__file__).resolve().parents[1]
RUNS = ("results/reference/metrics.json", "results/speed/reference-run/metrics.json", "results/notebook/metrics.json")


def _load(rel: str):
    path = ROOT / rel
    return json.loads(path.read_text()) if path.is_file() else None


def main() -> None:
    runs = [(f"`{rel}`", m) for rel in RUNS if (m := _load(rel)) is not None]
    print(runs_table(runs))
    print()
    for rel, m in runs:
        print(f"- {rel}: `{m.get('command', 'the notebook (README papermill command)')}`")
    if (rd := _load("results/rd/rd.json")) is not None:
        print()
        print(rd_summary_table(rd))
    if (rdl := _load("results/rd-learned/rd.json")) is not None:
        print()
        print(points_table(rdl["curves"]["learned codec (factorised prior)"]))
        print()
        print(gaps_table(rdl))


if __name__ == "__main__":
    main()
