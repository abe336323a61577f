"""Dedup decisions per second as the timeline grows: 10k, 100k and 1M stored entries.

Fills a real SQLite store with synthetic news entries (random sentences over a fixed
vocabulary, each with its MinHash signature and LSH bands, bulk-inserted), then stores a
batch of new entries — a share of them near-copies of stored ones — through the real
``Store.record_poll`` path and times it. If deciding cost O(timeline), the rate would
fall tenfold per step; through the indexes it should stay roughly flat.

    .venv/bin/python bench/dedup_scale.py [--sizes 10000,100000,1000000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from refeed.config import SourceConfig
from refeed.dedup import (
    DedupPolicy,
    band_keys,
    fact_keys,
    fingerprint,
    story_facts,
    text_likeness,
)
from refeed.model import Entry, FetchResult, ProcessedFeed
from refeed.storage import Store
from refeed.storage.codecs import iso, pack_signature

VOCABULARY = [  # letters only: digits would trip the title-number rule
    "".join(chr(ord("a") + (index // 26**power) % 26) for power in range(3))
    for index in range(5000)
]
START = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = DedupPolicy(window=timedelta(hours=72))


NAMES = [word.capitalize() + "ko" for word in VOCABULARY[:2000]]  # people and places
FACTS = False  # --facts: texts name two of NAMES and give a figure, as news does


def sentence(rng: random.Random, length: int = 24) -> str:
    """A random 'news text' of ``length`` words (with --facts, two names and a figure
    inside it, so every entry is indexed and looked up by its facts too)."""
    words = [rng.choice(VOCABULARY) for _ in range(length)]
    if FACTS:
        words[3], words[9] = rng.choice(NAMES), rng.choice(NAMES)
        words[14] = str(rng.randrange(10, 1000))
    return " ".join(words)


def make_entry(number: int, source: str, text: str, key: str = "") -> Entry:
    """A synthetic entry published ``number`` minutes after START."""
    moment = START + timedelta(minutes=number)
    likeness = text_likeness(text)
    facts = story_facts(text[:40], text)
    return Entry(
        source_id=source, key=key or f"{source}-{number}", guid=None,
        link=f"https://{source}.example/{number}", canonical_url=f"https://{source}.example/{number}",
        title=text[:40], summary=text, content="", authors=(), published=moment, updated=moment,
        dated=True, tags=(), language="en", enclosures=(),
        content_hash=fingerprint(text[:40], text), signature=likeness.signature,
        shingles=likeness.shingles, numbers=likeness.numbers, names=facts.names,
        headline=facts.headline, stem_signature=facts.stem_signature, stems=facts.stems,
        dates=facts.dates,
    )


def fill(store: Store, size: int, rng: random.Random) -> list[str]:
    """Bulk-insert ``size`` entries (with bands); returns their texts."""
    texts = [sentence(rng) for _ in range(size)]
    rows, bands, facts = [], [], []
    for number, text in enumerate(texts, start=1):
        entry = make_entry(number, f"s{number % 20}", text)
        facts += [(key, number) for key in fact_keys(entry)]
        rows.append((number, entry.source_id, entry.key, entry.link, entry.canonical_url,
                     entry.title, text, iso(entry.published), entry.content_hash,
                     pack_signature(entry.signature), entry.shingles))
        bands += [(band, key, number) for band, key in band_keys(entry.signature)]
    with store.db.atomic():
        store.db.conn.executemany(
            "INSERT INTO entries (id, source_id, key, link, canonical_url, title, summary, "
            "content, authors, published, updated, dated, enclosures, content_hash, revision, "
            "first_seen, last_seen, signature, shingles) VALUES (?, ?, ?, ?, ?, ?, ?, '', '[]', "
            "?, ?, 1, '[]', ?, 'r', ?, ?, ?, ?)",
            [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[7], r[8], r[7], r[7], r[9], r[10])
             for r in rows],
        )
        store.db.conn.executemany(
            "INSERT INTO entry_bands (band, key, entry_id) VALUES (?, ?, ?)", bands
        )
        store.db.conn.executemany(
            "INSERT OR IGNORE INTO entry_facts (key, entry_id) VALUES (?, ?)", facts)
    return texts


def measure(size: int, batch: int, seed: int) -> None:
    """Fill a store with ``size`` entries, then time storing ``batch`` new ones."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        store = Store.open(path)
        store.sync_sources([SourceConfig(id=f"s{n}", url="https://s.example/") for n in range(21)])
        started = time.perf_counter()
        texts = fill(store, size, rng)
        filled = time.perf_counter() - started
        incoming = []
        for index in range(batch):
            number = size - rng.randrange(min(size, 3000))  # near the newest entries
            base = texts[number - 1]
            if index % 4 == 0:  # a near-copy: one word changed
                words = base.split()
                words[rng.randrange(len(words))] = rng.choice(VOCABULARY)
                text = " ".join(words)
            else:
                text = sentence(rng)
            incoming.append(make_entry(number, "s20", text, key=f"new-{index}"))
        fetched = FetchResult(source_id="s20", url="u", body=b"x")
        started = time.perf_counter()
        counts = store.record_poll(fetched, ProcessedFeed(tuple(incoming)), now=START,
                                   next_due=START, policy=POLICY)
        elapsed = time.perf_counter() - started
        megabytes = path.stat().st_size / 2**20
        store.close()
    print(f"{size:>9,} stored  filled in {filled:6.1f} s  {megabytes:7.1f} MiB   "
          f"{batch} decisions in {elapsed:5.2f} s = {batch / elapsed:7,.0f}/s   "
          f"(new {counts.new}, duplicates {counts.duplicates})")


def main() -> None:
    """Parse options and measure each size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--facts", action="store_true",
                        help="texts with names and figures: the facts index is used too")
    arguments = parser.parse_args()
    global FACTS  # noqa: PLW0603 - one switch for the text generator
    FACTS = arguments.facts
    for size in (int(value) for value in arguments.sizes.split(",")):
        measure(size, arguments.batch, arguments.seed)


if __name__ == "__main__":
    main()
