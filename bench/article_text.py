"""Full text from article pages: refeed's extraction scored on the article-extraction
benchmark (../shared/corpus/articles/: 181 real pages and the text a person marked as
the article), the benchmark's way — token precision, recall and F1 of the extracted
text against that text (whitespace tokens, multiset overlap), averaged over pages.

    .venv/bin/python bench/article_text.py
"""

from __future__ import annotations

import gzip
import json
import statistics
import time
from collections import Counter
from pathlib import Path

from lxml import html as lxml_html

from refeed.normalize import sanitize_html
from refeed.pages import article_html

ARTICLES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "articles"


def tokens_scores(extracted: str, truth: str) -> tuple[float, float, float]:
    """Token precision, recall and F1 of ``extracted`` against ``truth``."""
    got, want = Counter(extracted.split()), Counter(truth.split())
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0, 0.0, 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def text_of(fragment: str) -> str:
    """The text a reader sees of stored HTML, paragraphs apart."""
    if not fragment.strip():
        return ""
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    for block in root.iter("p", "li", "h1", "h2", "h3", "h4", "blockquote", "tr", "br"):
        block.tail = "\n" + (block.tail or "")
    return str(root.text_content())


def main() -> None:
    """Print mean precision, recall and F1, and the time per page."""
    truth = json.loads((ARTICLES / "ground-truth.json").read_text(encoding="utf-8"))
    scores, seconds, empty = [], [], 0
    for digest, item in sorted(truth.items()):
        page = gzip.decompress((ARTICLES / "html" / f"{digest}.html.gz").read_bytes())
        started = time.perf_counter()
        stored = sanitize_html(article_html(page, item["url"]),
                               item["url"])
        seconds.append(time.perf_counter() - started)
        text = text_of(stored)
        empty += not text.strip()
        scores.append(tokens_scores(text, item["articleBody"]))
    precision, recall, f1 = (statistics.mean(column) for column in zip(*scores, strict=True))
    print(f"{len(scores)} pages: precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f};"
          f" {empty} empty; {statistics.mean(seconds) * 1000:.0f} ms a page (p95 "
          f"{sorted(seconds)[int(len(seconds) * 0.95)] * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
