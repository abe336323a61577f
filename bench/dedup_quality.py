"""Duplicate detection quality on the labelled pairs in tests/data/dedup-pairs.jsonl.

Each pair goes through the real normalize step (both entries as feed items of their
sources) and the real ``same_story`` rule; prints precision and recall overall, per kind,
and for a sweep of similarity thresholds, so the default can be chosen on evidence.

    .venv/bin/python bench/dedup_quality.py
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from refeed.config import SourceConfig
from refeed.dedup import DedupPolicy, same_story
from refeed.model import Entry, StoredEntry, Taxonomy
from refeed.normalize import normalize_entry

PAIRS = Path(__file__).parent.parent / "tests" / "data" / "dedup-pairs.jsonl"
NOW = datetime(2030, 1, 1, tzinfo=UTC)  # after every pair: no date is clamped


def read_pairs(path: Path = PAIRS) -> list[dict[str, Any]]:
    """The labelled pairs."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def to_entry(item: dict[str, Any], key: str) -> Entry:
    """One side of a pair as refeed normalizes it."""
    published = datetime.fromisoformat(item["published"])
    raw = {
        "id": key, "title": item["title"], "summary": item["summary"],
        "summary_detail": {"type": "text/html"}, "link": item["link"],
        "published_parsed": published.astimezone(UTC).timetuple(),
    }
    source = SourceConfig(id=item["source"], url="https://source.example/feed",
                          language=item["language"])
    return normalize_entry(raw, source, Taxonomy(), NOW)


def as_stored(entry: Entry) -> StoredEntry:
    """An entry as the store hands it to the dedup rule."""
    return StoredEntry(
        id=1, source_id=entry.source_id, key=entry.key, revision="", published=entry.published,
        canonical_url=entry.canonical_url, content_hash=entry.content_hash, duplicate_of=None,
        title=entry.title, language=entry.language, signature=entry.signature,
        shingles=entry.shingles, numbers=entry.numbers,
    )


def judge(pairs: list[dict[str, Any]], policy: DedupPolicy) -> Counter[tuple[str, str, bool]]:
    """(label, kind, merged) counts over ``pairs``."""
    verdicts: Counter[tuple[str, str, bool]] = Counter()
    for pair in pairs:
        first = to_entry(pair["a"], f"{pair['id']}-a")
        second = as_stored(to_entry(pair["b"], f"{pair['id']}-b"))
        verdicts[(pair["label"], pair["kind"], same_story(first, second, policy))] += 1
    return verdicts


def precision_recall(verdicts: Counter[tuple[str, str, bool]]) -> tuple[float, float]:
    """Precision and recall of merging, from :func:`judge`'s counts."""
    true_pos = sum(n for (label, _, merged), n in verdicts.items()
                   if merged and label == "duplicate")
    false_pos = sum(n for (label, _, merged), n in verdicts.items()
                    if merged and label != "duplicate")
    dup_total = sum(n for (label, _, _), n in verdicts.items() if label == "duplicate")
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    return precision, (true_pos / dup_total if dup_total else 1.0)


def main() -> None:
    """Print the default's numbers per kind, then a threshold sweep."""
    pairs = read_pairs()
    labels = Counter(pair["label"] for pair in pairs)
    print(f"{PAIRS.name}: {len(pairs)} pairs {dict(labels)}")
    policy = DedupPolicy()
    started = time.perf_counter()
    verdicts = judge(pairs, policy)
    elapsed = time.perf_counter() - started
    precision, recall = precision_recall(verdicts)
    print(f"default (threshold {policy.threshold}): precision {precision:.3f}, "
          f"recall {recall:.3f}   ({len(pairs) / elapsed:,.0f} pairs/s incl. normalize)")
    print(f"{'kind':<28}{'label':<11}{'pairs':>6}{'merged':>8}")
    kinds = sorted({(label, kind) for label, kind, _ in verdicts})
    for label, kind in kinds:
        total = verdicts[(label, kind, True)] + verdicts[(label, kind, False)]
        print(f"{kind:<28}{label:<11}{total:>6}{verdicts[(label, kind, True)]:>8}")
    print("threshold sweep:")
    for threshold in (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9):
        swept = judge(pairs, replace(policy, threshold=threshold))
        precision, recall = precision_recall(swept)
        print(f"  {threshold:.2f}: precision {precision:.3f}, recall {recall:.3f}")


if __name__ == "__main__":
    main()
