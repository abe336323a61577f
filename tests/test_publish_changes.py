"""A publish merges what changed in the timeline since the last one into the listings it
kept: after any sequence of new entries, copies, edits, retags and prunes, its folder
holds exactly what a publish from scratch of the same timeline holds."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from refeed.config import Settings
from refeed.dedup import DedupPolicy
from refeed.errors import PublishError
from refeed.model import Entry, FetchResult, ProcessedFeed
from refeed.normalize import entry_tags, tagging_text
from refeed.pipeline import publish_all, retag_timeline
from refeed.publish import MANIFEST, read_manifest
from refeed.select import recount
from refeed.storage import ChangesMark, Store
from tests.factories import TAGS, build_site, config_settings, stored_timeline

START = datetime(2026, 11, 1, tzinfo=UTC)
POLICY = DedupPolicy(window=timedelta(days=30))
SOURCES = [("kyiv-uk", "uk"), ("kyiv-ru", "ru"), ("kyiv-en", "en"), ("wire-en", "en"),
           ("wire-uk", "uk")]
# feed categories as feeds spell them: aliases of configured tags, and feed tags
CATEGORIES = ["Putin", "Путін", "Путин", "Zelenskyy", "Зеленський", "переговори", "Economy",
              "economy", "Економіка", "Sport", "Kyiv", "Київ"]
WORDS = ["talks", "negotiations", "ceasefire", "grain", "Kyiv", "Київ", "переговори", "port",
         "energy", "prices", "drones", "summit", "elections", "market"]
NAMED = [
    {"id": "talks-en", "tags": ["negotiations"], "languages": ["en"], "limit": 3},
    {"id": "no-putin", "exclude_tags": ["putin"], "match": "(?i)kyiv|київ", "limit": 4},
    {"id": "wires", "sources": ["wire-en", "wire-uk"], "limit": 2},
    {"id": "quiet", "exclude": "(?i)talks|переговори"},
]


def settings_for(tmp_path: Path, tags: dict[str, Any]) -> Settings:
    """Small listings (so they fill, and entries fall out of them), every output kind."""
    sources = [{"id": source, "url": f"https://{source}.example/feed", "language": language}
               for source, language in SOURCES]
    return config_settings(tmp_path, sources, tags=tags, output_dir="out",
                         publish={"limit": 4, "tag_min_entries": 2, "feeds": NAMED})


class Newsroom:
    """Random changes to a real store, as polls, retention and edited config make them."""

    def __init__(self, store: Store, settings: Settings, seed: int) -> None:
        self.store, self.settings = store, settings
        self.random = random.Random(seed)
        self.now = START
        self.stories: list[Entry] = []  # every entry stored, latest version

    def entry(self, source: str, language: str, number: int) -> Entry:
        """A new entry of ``source``: random words, categories and date."""
        pick = self.random
        title = " ".join(pick.sample(WORDS, 3)).capitalize()
        summary = f"<p>{' '.join(pick.sample(WORDS, 6))}</p>"
        categories = tuple(pick.sample(CATEGORIES, pick.randint(0, 3)))
        published = self.now - timedelta(hours=pick.randint(0, 200))
        link = f"https://{source}.example/{number}"
        entry = Entry(
            source_id=source, key=link, guid=link, link=link, canonical_url=link, title=title,
            summary=summary, content="", authors=(), published=published, updated=published,
            dated=True, tags=(), language=language, enclosures=(),
            content_hash=f"hash-{source}-{number}", categories=categories,
        )
        return self.tagged(entry)

    def tagged(self, entry: Entry) -> Entry:
        """``entry`` with the tags normalize gives it under the current rules."""
        text = tagging_text(entry.title, entry.summary, entry.content)
        return replace(entry, tags=entry_tags(entry.categories, (), self.settings.taxonomy, text))

    def poll(self, source: str, entries: list[Entry]) -> None:
        """Store one successful poll of ``source``."""
        self.now += timedelta(minutes=30)
        fetched = FetchResult(source_id=source, url=f"https://{source}.example/feed",
                              http_status=200, body=b"<rss/>")
        self.store.record_poll(fetched, ProcessedFeed(tuple(entries)), now=self.now,
                               next_due=self.now, policy=POLICY)
        known = {(entry.source_id, entry.key) for entry in entries}
        self.stories = [s for s in self.stories if (s.source_id, s.key) not in known]
        self.stories += entries

    def step(self, action: str) -> None:
        """One random change of the kind ``action`` names."""
        pick = self.random
        source, language = pick.choice(SOURCES)
        if action == "new" or not self.stories:
            self.poll(source, [self.entry(source, language, len(self.stories) + n)
                               for n in range(pick.randint(1, 6))])
        elif action == "copy":  # another source's story: dedup makes it a copy
            story = pick.choice(self.stories)
            copy = replace(self.entry(source, story.language or "en", len(self.stories)),
                           canonical_url=story.canonical_url, content_hash=story.content_hash,
                           title=story.title)
            if pick.random() < 0.5:  # a copy without tags changes only its original's links
                copy = replace(copy, categories=(), tags=())
            self.poll(source, [copy] if copy.source_id != story.source_id else [])
        elif action == "bridge":  # one story by two stored ones' URL and text: they merge
            first, second = pick.sample(self.stories, 2) if len(self.stories) > 1 else [
                self.stories[0]] * 2
            bridge = replace(self.entry(source, language, len(self.stories)),
                             canonical_url=first.canonical_url,
                             content_hash=second.content_hash)
            self.poll(source, [bridge])
        elif action == "edit":  # the same entry, retitled, redated, recategorized
            story = pick.choice(self.stories)
            edited = replace(story, title=story.title + " (updated)",
                             categories=tuple(pick.sample(CATEGORIES, 2)),
                             published=story.published + timedelta(hours=pick.randint(-50, 50)))
            self.poll(story.source_id, [self.tagged(edited)])
        elif action == "retag":  # the config's tags: table gains an alias and a rule
            tags = TAGS | {"economy": {"aliases": ["Економіка"], "match": ["(?i)prices"]}}
            self.settings = settings_for(self.settings.database.parent, tags)
        else:
            self.store.prune(self.now, timedelta(hours=pick.randint(2, 12)))


OpenRoom = Callable[[int], Newsroom]


@pytest.fixture
def open_room(tmp_path: Path) -> Iterator[OpenRoom]:
    """Newsrooms (one per seed) over one new store: sources synced, and the tag rules
    recorded while the timeline is empty, as ``poll_all`` does. Closed after the test."""
    settings = settings_for(tmp_path, TAGS)
    store = Store.open(settings.database)
    store.sync_sources(settings.sources)
    retag_timeline(settings, store)
    yield lambda seed: Newsroom(store, settings, seed)
    store.close()


def published_and_expected(settings: Settings, store: Store) -> tuple[dict[str, bytes],
                                                                      dict[str, bytes]]:
    """Publish; return every file in the output folder (but the manifest) and what a
    publish from scratch makes of the same timeline."""
    registry = read_manifest(settings.output_dir).tags
    publish_all(settings, store)
    expected = build_site(settings, stored_timeline(store), registry)
    published = {path.relative_to(settings.output_dir).as_posix(): path.read_bytes()
                 for path in settings.output_dir.rglob("*")
                 if path.is_file() and path.name != MANIFEST}
    return published, expected


@pytest.mark.parametrize("seed", range(8))
def test_a_publish_after_any_changes_equals_a_publish_from_scratch(
    open_room: OpenRoom, seed: int
) -> None:
    room = open_room(seed)
    actions = ["new"] * 12 + ["copy"] * 8 + ["edit"] * 6 + ["bridge"] * 3 + ["prune"] * 2
    actions.append("retag")
    room.random.shuffle(actions)
    done = []
    for action in ["new", *actions]:
        room.step(action)
        done.append(action)
        published, expected = published_and_expected(room.settings, room.store)
        assert published.keys() == expected.keys(), done
        # tag usage, counted again only where tags changed, equals a full count
        assert read_manifest(room.settings.output_dir).spellings == (
            room.store.tag_spelling_counts()), done
        for path, data in expected.items():
            assert published[path] == data, (path, done)


def test_the_change_log_is_forgotten_once_published(open_room: OpenRoom) -> None:
    room = open_room(1)
    store = room.store
    room.poll("kyiv-en", [room.entry("kyiv-en", "en", n) for n in range(3)])
    start = ChangesMark(store.changes_mark().timeline, 0)
    changes = store.changes_since(start)
    assert changes is not None
    assert len(changes.entries) == 3
    publish_all(room.settings, store)
    assert store.db.execute("SELECT count(*) FROM timeline_changes").fetchone()[0] == 0
    assert store.changes_since(start) is None  # what it held is no longer known
    assert store.changes_since(ChangesMark("another timeline", 10**9)) is None
    manifest = read_manifest(room.settings.output_dir)
    assert (manifest.timeline, manifest.position) == (start.timeline, changes.mark.position)


# Each step changes tag rows as the store does: (sql, parameters). The timeline starts
# with originals 1 (economy), 2 (Economy, Sport) and 3 (economy, Kyiv), and copy 4 of 1
# (Economy).
TAG_STEPS = {
    "a copy's smaller spelling goes": [("DELETE FROM entry_tags WHERE entry_id = 4", ())],
    "an original's tag goes, its copy's stays": [
        ("DELETE FROM entry_tags WHERE entry_id = 1", ())],
    "a copy becomes an original": [("UPDATE entries SET duplicate_of = NULL WHERE id = 4", ())],
    "clusters merge": [("UPDATE entries SET duplicate_of = 1 WHERE id IN (2, 3)", ())],
    "an original is pruned with its copy": [("DELETE FROM entries WHERE id = 4", ()),
                                            ("DELETE FROM entries WHERE id = 1", ())],
    "a tag is added twice and removed once": [
        ("INSERT INTO entry_tags (entry_id, tag, folded, original) VALUES (3, 'Sport', "
         "'sport', 3)", ()),
        ("INSERT INTO entry_tags (entry_id, tag, folded, original) VALUES (4, 'SPORT', "
         "'sport', 1)", ()),
        ("DELETE FROM entry_tags WHERE entry_id = 3 AND folded = 'sport'", ())],
}


@pytest.mark.parametrize("steps", TAG_STEPS.values(), ids=TAG_STEPS.keys())
def test_tag_usage_recounted_from_the_change_log_equals_a_full_count(
    open_room: OpenRoom, steps: list[tuple[str, tuple[object, ...]]]
) -> None:
    room = open_room(0)
    store = room.store
    stories = [("kyiv-en", ("economy",)), ("kyiv-uk", ("Economy", "Sport")),
               ("kyiv-ru", ("economy", "Kyiv"))]
    for number, (source, tags) in enumerate(stories):
        room.poll(source, [replace(room.entry(source, "en", number), tags=tags)])
    copy = replace(room.entry("wire-en", "en", 9), tags=("Economy",),
                   canonical_url=room.stories[0].canonical_url)
    room.poll("wire-en", [copy])
    assert store.db.execute("SELECT duplicate_of FROM entries WHERE id = 4").fetchone() == (1,)
    before, mark = store.tag_spelling_counts(), store.changes_mark()
    with store.db.conn:
        for sql, parameters in steps:
            store.db.execute(sql, parameters)
    changes = store.changes_since(mark)
    assert changes is not None
    uses = changes.tag_uses
    assert recount(before, uses, store.tag_spellings(uses.keys())) == (
        store.tag_spelling_counts())


def test_a_file_that_does_not_hold_what_its_listing_says_is_not_reused(
    open_room: OpenRoom
) -> None:
    """A file replaced behind refeed's back (or by a publish that crashed before its
    manifest) holds other entries than its listing: none of them is taken for another."""
    room = open_room(5)
    for source, language in SOURCES:
        room.poll(source, [room.entry(source, language, n) for n in range(6)])
    publish_all(room.settings, room.store)
    out = room.settings.output_dir
    listings = read_manifest(out).listings
    assert len(listings["all"]) == len(listings["lang/en"]) == 4
    assert listings["all"] != listings["lang/en"]
    for fmt in ("atom", "rss", "json"):  # every format of all now lists lang/en's
        (out / f"all.{fmt}").write_bytes((out / f"lang/en.{fmt}").read_bytes())
    room.poll("kyiv-uk", [replace(room.entry("kyiv-uk", "uk", 99),
                                  published=room.now + timedelta(days=1))])
    published, expected = published_and_expected(room.settings, room.store)
    assert published == expected


def test_a_publish_that_fails_midway_leaves_no_listing_for_the_files_it_was_replacing(
    open_room: OpenRoom
) -> None:
    room = open_room(6)
    room.poll("kyiv-en", [room.entry("kyiv-en", "en", n) for n in range(6)])
    publish_all(room.settings, room.store)
    out = room.settings.output_dir
    room.poll("kyiv-en", [replace(room.entry("kyiv-en", "en", 99),
                                  published=room.now + timedelta(days=1))])
    blocked = out / "lang" / "en.rss"
    blocked.unlink()
    blocked.mkdir()  # replacing it fails: the publish stops among its writes
    with pytest.raises(PublishError):
        publish_all(room.settings, room.store)
    interim = read_manifest(out)
    assert "lang/ru" in interim.listings  # not rewritten: its listing stands
    assert "all" not in interim.listings
    assert "lang/en" not in interim.listings
    assert interim.stamp == ""
    blocked.rmdir()
    published, expected = published_and_expected(room.settings, room.store)
    assert published == expected


def test_a_snapshot_reads_the_change_log_and_the_entries_at_one_moment(
    open_room: OpenRoom
) -> None:
    """A poll committing while a publish reads must not show up in one of its reads and
    not in another (the next publish would count its tags twice)."""
    reader = open_room(2)
    store = reader.store
    poller = Store.open(reader.settings.database)  # another connection
    try:
        room = Newsroom(poller, reader.settings, 2)
        room.poll("kyiv-en", [room.entry("kyiv-en", "en", 0)])
        with store.snapshot():
            mark = store.changes_mark()
            room.poll("kyiv-en", [room.entry("kyiv-en", "en", 1)])  # another connection
            assert store.changes_mark() == mark
            assert len(stored_timeline(store)) == 1
        assert store.changes_mark().position > mark.position
        assert len(stored_timeline(store)) == 2
    finally:
        poller.close()


def test_retention_bounds_a_change_log_that_no_publish_reads(open_room: OpenRoom) -> None:
    room = open_room(3)
    store = room.store
    start = store.changes_mark()
    room.poll("kyiv-en", [room.entry("kyiv-en", "en", n) for n in range(5)])
    store.max_change_rows = 3
    store.prune(room.now, timedelta(days=3650))  # removes nothing but the log's oldest
    assert store.db.execute("SELECT count(*) FROM timeline_changes").fetchone() == (3,)
    assert store.changes_since(start) is None  # a publish from there selects anew
    published, expected = published_and_expected(room.settings, store)
    assert published == expected
