"""tools/device_slim.sh, in a throwaway clone: it removes only committed files, refuses over uncommitted ones, and --back restores."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def clone(tmp_path):
    """A local clone of this repository's HEAD with the working tree's copy of the script (tested as it stands)."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs git and this repository's history")
    subprocess.run(["git", "clone", "-q", str(ROOT), str(tmp_path / "repo")], check=True)
    repo = tmp_path / "repo"
    shutil.copy(ROOT / "tools" / "device_slim.sh", repo / "tools" / "device_slim.sh")
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "script as tested",
                    "--allow-empty"], check=True)
    return repo


def slim(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "tools/device_slim.sh", *args], cwd=repo, capture_output=True, text=True)


def test_slim_keeps_one_codec_and_back_restores_everything(clone):
    done = slim(clone)
    assert done.returncode == 0, done.stderr
    assert not (clone / "results").exists() and not (clone / "weights").exists()
    assert sorted(p.name for p in (clone / "cae_helpers" / "zoo").iterdir() if p.is_dir()) == ["hyperprior-continuous"]
    assert (clone / "cae_helpers" / "codec.py").is_file() and "MiB" in done.stdout
    back = slim(clone, "--back")
    assert back.returncode == 0, back.stderr
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True)
    assert status.stdout == ""


def test_slim_refuses_uncommitted_changes_and_unknown_codecs(clone):
    results = next((clone / "results").rglob("README.md"))
    results.write_text(results.read_text() + "\nan edit not yet committed\n")
    refused = slim(clone)
    assert refused.returncode == 1 and "uncommitted" in refused.stderr and results.is_file()
    assert (clone / "weights").exists()  # nothing removed
    unknown = slim(clone, "no-such-codec")
    assert unknown.returncode == 1 and "no zoo codec named no-such-codec" in unknown.stderr
