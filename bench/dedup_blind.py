"""Duplicate detection on the blind labelled set (tests/data/dedup-blind.jsonl): 690
uk/ru/en pairs written from a description of the kinds only, by sessions that never saw
refeed's rules, code or earlier pairs (issue 19).

The set is split once by a fixed hash of each pair id into a development half (rules
may be tuned on it; its misses are printed) and a held-out half (only its numbers are
printed). Each language's items — both sides of every pair, in published order — go
through the real normalize step into one real store, as polls would store them; a pair
is merged when both its items end in one cluster. Items of different pairs that end in
one cluster are false merges too, and are counted.

    .venv/bin/python bench/dedup_blind.py                 # both halves
    .venv/bin/python bench/dedup_blind.py --misses        # and the development half's misses
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from refeed.config import SourceConfig
from refeed.dedup import DedupPolicy
from refeed.model import Entry, FetchResult, ProcessedFeed, Taxonomy
from refeed.normalize import normalize_entry
from refeed.storage import Store

PAIRS = Path(__file__).parent.parent / "tests" / "data" / "dedup-blind.jsonl"
NOW = datetime(2030, 1, 1, tzinfo=UTC)  # after every pair: no date is clamped
HALVES = ("development", "held-out")


def half_of(pair_id: str) -> str:
    """The half a pair belongs to, fixed by its id's hash (never by its content)."""
    return HALVES[hashlib.sha256(pair_id.encode()).digest()[0] % 2]


def read_pairs(path: Path = PAIRS) -> list[dict[str, Any]]:
    """The labelled pairs."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def to_entry(item: dict[str, Any]) -> Entry:
    """One item as refeed normalizes it from a feed."""
    published = datetime.fromisoformat(item["published"].replace("Z", "+00:00"))
    raw: dict[str, Any] = {
        "id": item["guid"], "title": item["title"], "summary": item["summary"],
        "summary_detail": {"type": "text/html"}, "link": item["link"],
        "published_parsed": published.astimezone(UTC).timetuple(),
    }
    if item.get("content"):
        raw["content"] = [{"value": item["content"], "type": "text/html"}]
    source = SourceConfig(id=item["source"], url="https://source.example/feed",
                          language=item["language"])
    return normalize_entry(raw, source, Taxonomy(), NOW)


@dataclass(frozen=True)
class Verdict:
    """What became of one pair."""

    pair: dict[str, Any]
    merged: bool


@dataclass(frozen=True)
class Run:
    """The verdicts of one store, and how many cross-pair false merges it made."""

    verdicts: list[Verdict]
    cross_merges: list[tuple[str, str]]  # pair ids whose items ended in one cluster


def store_pairs(pairs: Sequence[dict[str, Any]], policy: DedupPolicy, folder: Path) -> Run:
    """Store both items of every pair (one language) in published order; read clusters."""
    items = [(pair["id"], side, pair[side]) for pair in pairs for side in ("a", "b")]
    items.sort(key=lambda item: (item[2]["published"], item[0], item[1]))
    store = Store.open(folder / "timeline.db")
    try:
        sources = sorted({item["source"] for _, _, item in items})
        store.sync_sources([SourceConfig(id=source, url=f"https://{source}.example/feed")
                            for source in sources])
        keys: dict[tuple[str, str], tuple[str, str]] = {}
        with store.batch():
            for pair_id, side, item in items:
                entry = to_entry(item)
                keys[pair_id, side] = (entry.source_id, entry.key)
                fetched = FetchResult(source_id=entry.source_id, url="https://x.example/")
                store.record_poll(fetched, ProcessedFeed(entries=(entry,)), now=entry.published,
                                  next_due=entry.published + timedelta(hours=1), policy=policy)
        roots = {(source, key): root for source, key, root in store.db.execute(
            "SELECT source_id, key, coalesce(duplicate_of, id) FROM entries")}
    finally:
        store.close()
    root_of = {item: roots[keys[item]] for item in keys}
    verdicts = [Verdict(pair, root_of[pair["id"], "a"] == root_of[pair["id"], "b"])
                for pair in pairs]
    members: dict[int, set[str]] = defaultdict(set)
    for (pair_id, _), root in root_of.items():
        members[root].add(pair_id)
    cross = [tuple(sorted(ids))[:2] for ids in members.values() if len(ids) > 1]
    return Run(verdicts, [(first, second) for first, second in cross])


def evaluate(pairs: Sequence[dict[str, Any]], policy: DedupPolicy) -> Run:
    """Every language's pairs through a store of its own."""
    verdicts: list[Verdict] = []
    cross: list[tuple[str, str]] = []
    by_language: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pair in pairs:
        by_language[pair["a"]["language"]].append(pair)
    for language in sorted(by_language):
        with tempfile.TemporaryDirectory(prefix="refeed-dedup-blind-") as folder:
            run = store_pairs(by_language[language], policy, Path(folder))
        verdicts += run.verdicts
        cross += run.cross_merges
    return Run(verdicts, cross)


def scores(verdicts: Iterable[Verdict], cross_merges: int = 0) -> tuple[float, float, int]:
    """Precision, recall and the number of pairs; cross-pair merges count as false."""
    counted = list(verdicts)
    true_pos = sum(v.merged and v.pair["label"] == "duplicate" for v in counted)
    false_pos = sum(v.merged and v.pair["label"] != "duplicate" for v in counted) + cross_merges
    duplicates = sum(v.pair["label"] == "duplicate" for v in counted)
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    return precision, true_pos / duplicates if duplicates else 1.0, len(counted)


def report(run: Run, half: str, show_misses: bool) -> None:
    """Precision and recall of one half, overall, per language and per kind."""
    chosen = [v for v in run.verdicts if half_of(v.pair["id"]) == half]
    ids = {v.pair["id"] for v in chosen}
    cross = [pair for pair in run.cross_merges if pair[0] in ids or pair[1] in ids]
    precision, recall, count = scores(chosen, len(cross))
    print(f"{half}: {count} pairs: precision {precision:.3f}, recall {recall:.3f}"
          f" ({len(cross)} false merges across pairs)")
    for language in ("uk", "ru", "en"):
        in_language = [v for v in chosen if v.pair["a"]["language"] == language]
        lang_cross = sum(1 for pair in cross if pair[0].startswith(language))
        precision, recall, count = scores(in_language, lang_cross)
        print(f"  {language}: {count} pairs, precision {precision:.3f}, recall {recall:.3f}")
    kinds: Counter[tuple[str, str, bool]] = Counter(
        (v.pair["label"], v.pair["kind"], v.merged) for v in chosen)
    print(f"  {'kind':<30}{'label':<11}{'pairs':>6}{'merged':>8}")
    for label, kind in sorted({(label, kind) for label, kind, _ in kinds}):
        total = kinds[label, kind, True] + kinds[label, kind, False]
        print(f"  {kind:<30}{label:<11}{total:>6}{kinds[label, kind, True]:>8}")
    if show_misses and half == "development":
        for verdict in chosen:
            if verdict.merged != (verdict.pair["label"] == "duplicate"):
                wrong = "merged" if verdict.merged else "missed"
                print(f"  {wrong}: {verdict.pair['id']} {verdict.pair['kind']}")
        for first, second in cross:
            print(f"  merged across pairs: {first} + {second}")


def main() -> None:
    """Both halves' numbers (the development half's misses with ``--misses``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", action="store_true",
                        help="list the development half's wrong verdicts")
    args = parser.parse_args()
    pairs = read_pairs()
    halves = Counter(half_of(pair["id"]) for pair in pairs)
    print(f"{PAIRS.name}: {len(pairs)} pairs, {dict(halves)}")
    run = evaluate(pairs, DedupPolicy())
    for half in HALVES:
        report(run, half, args.misses)


if __name__ == "__main__":
    main()
