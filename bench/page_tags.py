"""Tags read from article pages, on pages written blind (tests/data/page-tags/: 72
uk/ru/en pages of eight invented sites, with their tags in the forms sites use and the
traps real pages have — tag menus, popular-tag clouds, related news with their own tag
links, category links, site-wide keywords; written from a description of the forms and
traps only, without sight of refeed's code).

A fixed hash of each page's id splits the set into a development half (the rules may
be tuned on it; ``--misses`` lists its wrong pages) and a held-out half (only its
numbers are printed). Precision and recall count tags over all pages of a half, each
tag compared case- and space-insensitively.

    .venv/bin/python bench/page_tags.py [--misses]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from refeed.pages import page_tags, parse_page

PAGES = Path(__file__).resolve().parent.parent / "tests" / "data" / "page-tags"
HALVES = ("development", "held-out")


def half_of(page_id: str) -> str:
    """The half a page belongs to, fixed by its id's hash."""
    return HALVES[hashlib.sha256(page_id.encode()).digest()[0] % 2]


def folded(tags: list[str] | tuple[str, ...]) -> set[str]:
    return {" ".join(tag.split()).casefold() for tag in tags}


def read_labels() -> dict[str, dict[str, object]]:
    """Each page's id and label."""
    labels: dict[str, dict[str, object]] = json.loads(
        (PAGES / "labels.json").read_text(encoding="utf-8"))
    return labels


def scores(half: str, misses: list[str] | None = None) -> tuple[float, float, int]:
    """Tag precision, recall and the number of pages of ``half``; each wrong page is
    described in ``misses`` when given."""
    found = wanted = right = pages = 0
    for page_id, label in sorted(read_labels().items()):
        if half_of(page_id) != half:
            continue
        root = parse_page((PAGES / f"{page_id}.html").read_bytes())
        got = folded(page_tags(root)) if root is not None else set()
        want = folded(list(label["tags"]))  # type: ignore[call-overload]
        found, wanted, right, pages = (found + len(got), wanted + len(want),
                                       right + len(got & want), pages + 1)
        if misses is not None and got != want:
            misses.append(f"{page_id}: extra {sorted(got - want)}, missed {sorted(want - got)}")
    return (right / found if found else 1.0), (right / wanted if wanted else 1.0), pages


def main() -> None:
    """Print each half's tag precision and recall."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", action="store_true", help="list the development misses")
    args = parser.parse_args()
    for half in HALVES:
        misses: list[str] | None = [] if args.misses and half == "development" else None
        precision, recall, pages = scores(half, misses)
        for miss in misses or []:
            print(f"  {miss}")
        print(f"{half}: {pages} pages: precision {precision:.3f}, recall {recall:.3f}")


if __name__ == "__main__":
    main()
