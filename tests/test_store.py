"""The SQLite timeline: schema, migrations, transactions, queries — on real files."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from refeed.config import SourceConfig
from refeed.dedup import BANDS, DedupPolicy, band_keys
from refeed.errors import StoreError
from refeed.model import (
    Entry,
    ErrorInfo,
    FetchResult,
    ProcessedFeed,
    StoreCounts,
    Validators,
)
from refeed.select import Output
from refeed.storage import EntryQuery, Store
from refeed.storage._ingest import MAX_CANDIDATES
from refeed.storage._timeline import READ_CHUNK
from refeed.storage.codecs import entry_row, iso
from refeed.storage.migrations import migrations
from tests.factories import (
    STORY,
    candidates,
    likeness_of,
    make_entry,
    stored_tag_usage,
    stored_timeline,
    validators,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POLICY = DedupPolicy(window=timedelta(hours=72))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A new database with sources ``a`` and ``b``."""
    opened = Store.open(tmp_path / "sub" / "refeed.db")
    opened.sync_sources([SourceConfig(id="a", url="https://a.example/feed"),
                         SourceConfig(id="b", url="https://b.example/feed")])
    return opened


def fetched(source_id: str = "a", **changes: object) -> FetchResult:
    """A successful 200 fetch result."""
    result = FetchResult(
        source_id=source_id, url=f"https://{source_id}.example/feed", http_status=200,
        body=b"<rss/>", validators=Validators('"v1"', "Sun, 04 Oct 2026 06:00:00 GMT"),
    )
    return replace(result, **changes)  # type: ignore[arg-type]


def record(store: Store, result: FetchResult, *entries: Entry) -> StoreCounts:
    """Record one poll of ``result`` with ``entries``."""
    return store.record_poll(
        result, ProcessedFeed(entries), now=NOW, next_due=NOW + timedelta(minutes=15),
        policy=POLICY,
    )


def test_open_creates_wal_database_with_schema_and_migrations_table(store: Store) -> None:
    assert store.db.journal_mode == "wal"
    assert {"sources", "entries", "entry_tags", "entries_fts"} <= set(store.db.table_names())
    assert [m.name for m in migrations.applied(store.db)] == [
        "m001_initial_schema", "m002_language_evidence_and_categories",
        "m003_near_duplicate_signatures", "m004_retention_tombstones", "m005_document_digests",
        "m006_timeline_index", "m007_duplicate_index", "m008_facets_index",
        "m009_timeline_version", "m010_search_index_on_text_changes",
        "m011_source_pace_and_body_error", "m012_search_index_merges_later",
        "m013_tag_rows_know_their_original", "m014_language_timeline_index",
        "m015_bands_without_rowid", "m016_timeline_changes", "m017_no_timeline_version",
        "m018_dedup_overrides", "m019_story_facts", "m020_named_dates", "m021_entry_pages",
    ]


def test_reopening_applies_no_migration_twice(tmp_path: Path) -> None:
    Store.open(tmp_path / "db").close()
    again = Store.open(tmp_path / "db")
    assert len(migrations.applied(again.db)) == 21
    assert migrations.pending(again.db) == []


def test_bands_stored_before_they_were_keyed_still_find_near_duplicates(
    tmp_path: Path,
) -> None:
    """m015 moves the signature bands into a table keyed by them: a story stored by an
    earlier version is still found by a near-copy that shares no URL or hash with it."""
    path = tmp_path / "refeed.db"
    earlier = sqlite_utils.Database(path)
    migrations.apply(earlier, stop_before="m015_bands_without_rowid")
    for source in ("a", "b"):  # stored as that version stored them: rows and bands
        earlier.execute("INSERT INTO sources (id, url) VALUES (?, ?)",
                        [source, f"https://{source}.example/feed"])
    story = make_entry(canonical_url=None, content_hash="x", **likeness_of(STORY))
    row = entry_row(story, "r", NOW) | {"first_seen": iso(NOW), "duplicate_of": None}
    columns = {column.name for column in earlier["entries"].columns}  # that version's
    story_id = earlier["entries"].insert(
        {name: value for name, value in row.items() if name in columns}).last_pk
    earlier.conn.executemany("INSERT INTO entry_bands (band, key, entry_id) VALUES (?, ?, ?)",
                             [(band, key, story_id) for band, key in band_keys(story.signature)])
    earlier.conn.commit()
    bands = earlier.execute("SELECT band, key, entry_id FROM entry_bands ORDER BY band").fetchall()
    assert len(bands) == BANDS  # the story is long enough to be banded
    earlier.close()
    upgraded = Store.open(path)
    assert upgraded.db.execute(
        "SELECT band, key, entry_id FROM entry_bands ORDER BY band").fetchall() == bands
    edited = STORY.replace("no casualties", "nobody hurt")
    copy = make_entry(source_id="b", key="b-1", canonical_url=None, content_hash="y",
                      **likeness_of(edited))
    assert record(upgraded, fetched("b"), copy) == StoreCounts(duplicates=1)


def test_unusable_path_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot open database"):
        Store.open(tmp_path / "file" / "refeed.db")


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        Store.open(path)


def test_entries_and_validators_commit_together(store: Store) -> None:
    counts = record(store, fetched(), make_entry(), make_entry(key="guid-2",
                    canonical_url="https://x.example/2", content_hash="h2"))
    assert counts == StoreCounts(new=2)
    assert validators(store, "a") == Validators('"v1"', "Sun, 04 Oct 2026 06:00:00 GMT")
    [state] = [row for row in store.source_states() if row["id"] == "a"]
    assert (state["ok"], state["http_status"], state["entries"], state["failures"]) == (
        1, 200, 2, 0
    )


def test_a_failing_batch_rolls_back_entries_and_validators(store: Store) -> None:
    store.db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON entries WHEN NEW.title = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    good, bad = make_entry(), make_entry(key="k2", title="boom", canonical_url=None)
    with pytest.raises(StoreError, match="cannot store poll of a"):
        record(store, fetched(), good, bad)
    assert store.entries(EntryQuery()) == []
    assert validators(store, "a") == Validators()


def test_a_304_that_fails_to_store_in_a_batch_leaves_the_batch_going(store: Store) -> None:
    """Inside a batch a poll without entries is one UPDATE and takes no savepoint: its
    failure is still a StoreError naming the source, and later polls are stored."""
    record(store, fetched("a"), make_entry())
    not_modified = fetched("a", http_status=304, body=None, not_modified=True)
    store.db.execute(
        "CREATE TRIGGER refuse BEFORE UPDATE ON sources WHEN NEW.id = 'a' "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    with store.batch():
        with pytest.raises(StoreError, match="cannot store poll of a"):
            store.record_poll(not_modified, None, now=NOW + timedelta(hours=1),
                              next_due=NOW, policy=POLICY)
        record(store, fetched("b"), make_entry(source_id="b", key="other", content_hash="h2",
                                               canonical_url=None))
    states = {row["id"]: row for row in store.source_states()}
    assert states["a"]["last_fetch"] == "2026-11-25T12:00:00Z"  # the first poll's
    assert (states["b"]["ok"], states["b"]["entries"]) == (1, 1)
    assert not store.db.conn.in_transaction


def test_failure_is_recorded_and_keeps_old_validators(store: Store) -> None:
    record(store, fetched(), make_entry())
    failure = FetchResult(
        source_id="a", url="https://a.example/feed", http_status=500,
        error=ErrorInfo("HTTPStatusError", "HTTP 500 Internal Server Error"),
    )
    store.record_poll(failure, None, now=NOW, next_due=NOW, policy=POLICY)
    store.record_poll(failure, None, now=NOW, next_due=NOW, policy=POLICY)
    [state] = [row for row in store.source_states() if row["id"] == "a"]
    assert (state["ok"], state["error_kind"], state["failures"], state["entries"]) == (
        0, "HTTPStatusError", 2, 1
    )
    assert state["last_success"] is not None
    assert validators(store, "a").etag == '"v1"'


def test_parse_error_in_processed_feed_marks_the_source_failing(store: Store) -> None:
    processed = ProcessedFeed(error=ErrorInfo("ParseError", "empty document"))
    store.record_poll(fetched(), processed, now=NOW, next_due=NOW, policy=POLICY)
    [state] = [row for row in store.source_states() if row["id"] == "a"]
    assert (state["ok"], state["error"]) == (0, "empty document")
    assert validators(store, "a") == Validators()  # so the broken body is fetched again


def test_cross_source_duplicate_is_recorded_not_listed(store: Store) -> None:
    record(store, fetched("a"), make_entry())
    counts = record(store, fetched("b"), make_entry(source_id="b", key="other-guid"))
    assert counts == StoreCounts(duplicates=1)
    listed = store.entries(EntryQuery())
    everything = store.entries(EntryQuery(include_duplicates=True))
    assert [row["source_id"] for row in listed] == ["a"]
    assert sorted((row["source_id"], row["duplicate_of"]) for row in everything) == [
        ("a", None), ("b", listed[0]["id"])
    ]


@pytest.mark.parametrize("sparse_tag_rows", [0, 1_000_000], ids=["walked", "indexed"])
def test_a_tag_output_lists_an_original_whose_copy_alone_carries_the_tag(
    store: Store, sparse_tag_rows: int
) -> None:
    """The English original stands for the tag of its copy of unknown language in
    ``tag/x/en``, whichever way the selection reads the tag (walking the timeline or
    through the tag index)."""
    store.sparse_tag_rows = sparse_tag_rows
    record(store, fetched("a"), make_entry(tags=()), make_entry(key="g2", link="https://x.example/2",
           canonical_url="https://x.example/2", content_hash="h2", tags=("sport",)))
    record(store, fetched("b"), make_entry(source_id="b", key="copy", language="",
                                           tags=("Переговори",)))
    talks_en = Output("tag/negotiations/en", "", "tag", tags=("переговори",), languages=("en",))
    talks_uk = Output("tag/negotiations/uk", "", "tag", tags=("переговори",), languages=("uk",))
    assert [(e.source_id, e.key) for e in candidates(store, talks_en)] == [("a", "guid-1")]
    assert list(candidates(store, talks_uk)) == []
    sport = Output("tag/sport", "", "tag", tags=("sport",))
    assert [e.key for e in candidates(store, sport)] == ["g2"]


def test_both_tag_selections_list_many_entries_in_the_same_timeline_order(
    store: Store,
) -> None:
    """Past one read chunk, with ties in the publication time (broken by source, then
    key), walking the timeline and reading through the tag index agree entry for entry."""
    for source_id in ("b", "a"):
        record(store, fetched(source_id), *[
            make_entry(source_id=source_id, key=f"{source_id}-{n:03d}", tags=("sport",),
                       published=NOW - timedelta(hours=n // 3),
                       canonical_url=f"https://x.example/{source_id}/{n}",
                       content_hash=f"{source_id}{n}")
            for n in range(READ_CHUNK + 40)
        ])
    sport = Output("tag/sport", "", "tag", tags=("sport",))
    store.sparse_tag_rows = 0
    walked = [(entry.source_id, entry.key) for entry in candidates(store, sport)]
    store.sparse_tag_rows = 1_000_000
    indexed = [(entry.source_id, entry.key) for entry in candidates(store, sport)]
    assert len(walked) == 2 * (READ_CHUNK + 40)
    assert indexed == walked
    assert walked[:4] == [("a", "a-000"), ("a", "a-001"), ("a", "a-002"), ("b", "b-000")]


@pytest.mark.parametrize("sparse_tag_rows", [0, 1_000_000], ids=["walked", "indexed"])
@pytest.mark.parametrize("languages", [("uk",), ("uk", "en"), ()], ids=["one", "two", "any"])
def test_tag_outputs_list_what_the_timeline_holds_for_their_languages(
    store: Store, sparse_tag_rows: int, languages: tuple[str, ...]
) -> None:
    """Whichever index a selection takes (one language's timeline, the whole timeline,
    the tag index), it lists exactly the timeline's originals of that tag and those
    languages, in timeline order."""
    for n in range(90):
        language = ("uk", "en", "ru")[n % 3]
        tags = ("sport",) if n % 4 else ("sport", "Kyiv")
        source_id = "ab"[n % 2]
        record(store, fetched(source_id), make_entry(
            source_id=source_id, key=f"k{n:03d}", tags=tags, language=language,
            published=NOW - timedelta(hours=n // 2), title=f"Story {n}",
            canonical_url=f"https://x.example/{n}", content_hash=f"h{n}"))
    store.sparse_tag_rows = sparse_tag_rows
    timeline = stored_timeline(store)
    for tag in ("sport", "Kyiv"):
        output = Output(f"tag/{tag}", "", "tag", tags=(tag,), languages=languages)
        expected = [entry.key for entry in timeline if tag in entry.tags
                    and (not languages or entry.language in languages)]
        assert [entry.key for entry in candidates(store, output)] == expected
        assert expected


def test_queries_by_tag_language_source_and_text(store: Store) -> None:
    record(store, fetched("a"),
           make_entry(tags=("Putin",), title="Kremlin decree", content_hash="1",
                      canonical_url="https://x.example/1"),
           make_entry(key="k2", tags=("negotiations",), language="uk",
                      title="Переговори у Стамбулі", content_hash="2",
                      canonical_url="https://x.example/2"))
    record(store, fetched("b"), make_entry(source_id="b", key="k3", tags=(), title="Metro",
                                           content_hash="3", canonical_url="https://x.example/3"))

    def titles(**filters: object) -> list[str]:
        return [row["title"] for row in store.entries(EntryQuery(**filters))]  # type: ignore[arg-type]

    assert titles(tag="putin") == ["Kremlin decree"]
    assert titles(tag="PUTIN") == ["Kremlin decree"]
    assert titles(language="uk") == ["Переговори у Стамбулі"]
    assert titles(source_id="b") == ["Metro"]
    assert titles(search="стамбулі") == ["Переговори у Стамбулі"]
    assert titles(search='decree" OR "metro') == []  # user text is quoted, not FTS syntax
    assert len(titles(limit=2)) == 2


def test_search_follows_text_changes_and_ignores_bookkeeping(store: Store) -> None:
    record(store, fetched("a"), make_entry(title="Kremlin decree"))
    record(store, fetched("a"), make_entry(title="Kremlin order"))  # the same entry, edited
    with store.db.conn:
        store.db.execute("UPDATE entries SET last_seen = '2030-01-01T00:00:00Z'")

    def titles(search: str) -> list[str]:
        return [row["title"] for row in store.entries(EntryQuery(search=search))]

    assert (titles("order"), titles("decree")) == (["Kremlin order"], [])
    store.db.execute("INSERT INTO entries_fts (entries_fts) VALUES ('integrity-check')")


def test_newest_published_first(store: Store) -> None:
    old = make_entry(key="old", published=NOW - timedelta(days=2), title="old",
                     content_hash="o", canonical_url="https://x.example/o")
    new = make_entry(key="new", published=NOW, title="new", content_hash="n",
                     canonical_url="https://x.example/n")
    record(store, fetched(), old, new)
    assert [row["title"] for row in store.entries(EntryQuery())] == ["new", "old"]


def test_changed_source_url_forgets_validators(store: Store) -> None:
    record(store, fetched(), make_entry())
    store.sync_sources([SourceConfig(id="a", url="https://a.example/moved")])
    assert validators(store, "a") == Validators()


def test_readers_see_committed_state_while_a_writer_holds_a_transaction(
    store: Store, tmp_path: Path
) -> None:
    record(store, fetched(), make_entry())
    store.db.execute("BEGIN IMMEDIATE")
    store.db.execute("UPDATE entries SET title = 'uncommitted'")
    reader = sqlite3.connect(tmp_path / "sub" / "refeed.db")
    try:
        assert reader.execute("SELECT title FROM entries").fetchall() == [("Talks resume",)]
    finally:
        reader.close()
        store.db.execute("ROLLBACK")


def test_a_poll_that_read_first_still_commits_after_another_connection_wrote(
    store: Store, tmp_path: Path
) -> None:
    """The daemon's publish thread writes through a connection of its own. A poll's
    transaction that had only read when such a write committed could not write any more
    ("database is locked" at once, whatever the busy timeout): writing transactions take
    the write lock first, so the other connection waits for the poll instead."""
    problems: list[BaseException] = []

    def add_a_source() -> None:  # another connection, in its own thread
        try:
            other = Store.open(tmp_path / "sub" / "refeed.db")
            other.sync_sources([SourceConfig(id="c", url="https://c.example/feed")])
            other.close()
        except BaseException as error:  # reported by the assertion below
            problems.append(error)

    writer = threading.Thread(target=add_a_source)

    def meanwhile(statement: str) -> None:  # the poll has read its candidates by now
        if statement.startswith("INSERT INTO entries") and writer.ident is None:
            writer.start()
            writer.join(timeout=0.5)

    store.db.conn.set_trace_callback(meanwhile)
    try:
        counts = record(store, fetched(), make_entry())
    finally:
        store.db.conn.set_trace_callback(None)
    writer.join(timeout=15)
    assert counts.new == 1
    assert problems == []
    assert {row["id"] for row in store.source_states()} == {"a", "b", "c"}


def test_retention_prunes_by_first_seen_and_leaves_tombstones(store: Store) -> None:
    old, young = make_entry(key="old", canonical_url="https://x.example/o", content_hash="o"), \
        make_entry(key="young", canonical_url="https://x.example/y", content_hash="y")
    store.record_poll(fetched(), ProcessedFeed((old,)), now=NOW - timedelta(days=200),
                      next_due=NOW, policy=POLICY)
    copy = make_entry(source_id="b", key="copy-of-old", canonical_url="https://x.example/o",
                      content_hash="o")
    store.record_poll(fetched("b"), ProcessedFeed((copy,)), now=NOW - timedelta(days=1),
                      next_due=NOW, policy=POLICY)
    record(store, fetched(), young)
    # a feed of old items is not pruned the moment it is polled: age counts from storing
    assert store.prune(NOW, timedelta(days=180)) == 2  # the old original and its copy
    keys = {row["key"] for row in store.entries(EntryQuery(include_duplicates=True))}
    assert keys == {"young"}
    # the source still lists the pruned entry: it does not come back
    assert record(store, fetched(), old, young) == StoreCounts(unchanged=2)
    assert {row["key"] for row in store.entries(EntryQuery())} == {"young"}
    assert store.prune(NOW, timedelta(days=180)) == 0


def test_retention_keeps_at_most_max_entries_per_source(store: Store) -> None:
    for day in range(5):
        entry = make_entry(key=f"k{day}", canonical_url=f"https://x.example/{day}",
                           content_hash=str(day))
        store.record_poll(fetched(), ProcessedFeed((entry,)), now=NOW - timedelta(days=5 - day),
                          next_due=NOW, policy=POLICY)
    record(store, fetched("b"), make_entry(source_id="b", key="b1", canonical_url=None,
                                           content_hash="b"))
    assert store.prune(NOW, timedelta(days=180), {"a": 2}) == 3
    assert sorted(row["key"] for row in store.entries(EntryQuery())) == ["b1", "k3", "k4"]


def test_a_story_syndicated_everywhere_compares_a_bounded_number_of_copies(
    tmp_path: Path,
) -> None:
    copies = MAX_CANDIDATES + 10
    many = Store.open(tmp_path / "many.db")
    many.sync_sources([SourceConfig(id=f"s{n}", url=f"https://s{n}.example/")
                       for n in range(copies + 1)])
    for number in range(copies + 1):
        counts = record(many, fetched(f"s{number}"),
                        make_entry(source_id=f"s{number}", key=f"k{number}"))
        assert (counts.new, counts.duplicates) == ((1, 0) if number == 0 else (0, 1))
    rows = many.db.execute("SELECT DISTINCT duplicate_of FROM entries WHERE id > 1").fetchall()
    assert rows == [(1,)]  # every copy, even past the cap, points at the original
    many.close()


def test_a_batch_commits_every_recorded_poll(store: Store, tmp_path: Path) -> None:
    with store.batch(seconds=0):
        record(store, fetched(), make_entry())
        record(store, fetched("b"), make_entry(source_id="b", key="other", content_hash="h2",
                                               canonical_url=None))
        with sqlite3.connect(tmp_path / "sub" / "refeed.db") as reader:  # another process
            seen = reader.execute("SELECT count(*) FROM entries").fetchone()
        assert seen == (2,)  # committed as it went, not only at the end
    assert not store.db.conn.in_transaction


def test_tag_usage_follows_entries_that_become_or_stop_being_copies(store: Store) -> None:
    """Tag usage counts originals: when a merge makes a tagged entry a copy of another
    (or a copy is split off again), its tags count for its new original."""
    record(store, fetched("a"), make_entry(key="a1", tags=("Kyiv",)))
    record(store, fetched("b"), make_entry(
        source_id="b", key="b1", tags=("kyiv", "sport"), title="Another story",
        canonical_url="https://x.example/other", content_hash="h2"))
    assert stored_tag_usage(store) == {"Kyiv": 2, "sport": 1}
    [(first,), (second,)] = store.db.execute("SELECT id FROM entries ORDER BY id").fetchall()
    store.db.execute("UPDATE entries SET duplicate_of = ? WHERE id = ?", [first, second])
    assert stored_tag_usage(store) == {"Kyiv": 1, "sport": 1}
    store.db.execute("UPDATE entries SET duplicate_of = NULL WHERE id = ?", [second])
    assert stored_tag_usage(store) == {"Kyiv": 2, "sport": 1}
