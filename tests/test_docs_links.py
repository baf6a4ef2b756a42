"""The README and docs/*.md: every relative link names a file that exists and every #anchor a heading in it (GitHub's rules)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor in a markdown page (outside code fences; repeats get -1, -2, ...)."""
    out, seen, fence = set(), {}, False
    for line in page.read_text().split("\n"):
        fence ^= line.startswith("```")
        if not fence and re.match(r"#{1,6} ", line):
            base = slug(line.lstrip("#"))
            out.add(base if base not in seen else f"{base}-{seen[base]}")
            seen[base] = seen.get(base, 0) + 1
    return out


def links(page: Path) -> list[str]:
    """The page's link targets outside code fences, web addresses left out."""
    out, fence = [], False
    for line in page.read_text().split("\n"):
        fence ^= line.startswith("```")
        if not fence:
            out += [t for t in LINK.findall(line) if not re.match(r"[a-z]+:", t)]
    return out


def test_the_anchor_rule_is_githubs():
    assert slug(" Decoding at the bins' means (byte format 10)") == "decoding-at-the-bins-means-byte-format-10"
    assert slug(" The default since 2026-12-07: `hyperprior-exact`, the headline figures rerun") == \
        "the-default-since-2026-12-07-hyperprior-exact-the-headline-figures-rerun"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_resolves(page):
    broken = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def test_the_readme_points_to_every_page_in_docs():
    named = {(ROOT / t.partition("#")[0]).resolve() for t in links(ROOT / "README.md") if t.startswith("docs/")}
    assert set(PAGES[1:]) <= named, "a page in docs/ that the README does not link"
