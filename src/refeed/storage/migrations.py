"""How databases made by earlier versions reach the current schema: versioned migrations
(sqlite-utils ``Migrations``), each one a commented SQL script. A fresh database is
created from ``schema.sql`` at once (see :mod:`refeed.storage._schema`); add a
migration here *and* change ``schema.sql`` together (tests/test_schema.py compares
them)."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("refeed")

SCHEMA_V1 = """
-- One row per configured source: its HTTP validators and the outcome of the last poll.
CREATE TABLE sources (
    id            TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    etag          TEXT,             -- validators for the next conditional GET
    last_modified TEXT,
    last_fetch    TEXT,             -- ISO 8601 UTC of the last attempt
    last_success  TEXT,             -- ... of the last attempt that was not a failure
    ok            INTEGER,          -- 1 when the last attempt succeeded (200 or 304)
    http_status   INTEGER,
    error_kind    TEXT,             -- exception class of the last failure
    error         TEXT,             -- its message
    warning       TEXT,             -- a feed parsed despite problems (bozo)
    final_url     TEXT,             -- after redirects
    bytes         INTEGER,
    elapsed       REAL,             -- seconds
    failures      INTEGER NOT NULL DEFAULT 0,  -- consecutive failed attempts
    next_due      TEXT
);

-- The timeline. Duplicates of another source's entry stay here (so re-polling does not
-- bring them back as new) with duplicate_of pointing at the first-seen original.
CREATE TABLE entries (
    id            INTEGER PRIMARY KEY,
    source_id     TEXT NOT NULL REFERENCES sources(id),
    key           TEXT NOT NULL,    -- guid, else link, else a content hash
    guid          TEXT,
    link          TEXT,
    canonical_url TEXT,
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL,    -- sanitized HTML
    content       TEXT NOT NULL,    -- sanitized HTML
    authors       TEXT NOT NULL,    -- JSON array of names
    published     TEXT NOT NULL,    -- ISO 8601 UTC
    updated       TEXT NOT NULL,
    dated         INTEGER NOT NULL, -- 0 when the feed gave no date (published = first seen)
    language      TEXT,
    enclosures    TEXT NOT NULL,    -- JSON array of {url, type, length}
    content_hash  TEXT NOT NULL,    -- '' when there is no body text
    revision      TEXT NOT NULL,    -- hash of the fields whose change is an update
    duplicate_of  INTEGER REFERENCES entries(id),
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    UNIQUE (source_id, key)
);
CREATE INDEX entries_published ON entries(published);
CREATE INDEX entries_canonical_url ON entries(canonical_url) WHERE canonical_url IS NOT NULL;
CREATE INDEX entries_content_hash ON entries(content_hash) WHERE content_hash != '';

-- Canonical tags of each entry; `folded` is the case/Unicode-insensitive form.
CREATE TABLE entry_tags (
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    folded   TEXT NOT NULL,
    PRIMARY KEY (entry_id, folded)
) WITHOUT ROWID;
CREATE INDEX entry_tags_folded ON entry_tags(folded, entry_id);
"""



@migrations()
def m001_initial_schema(db: sqlite_utils.Database) -> None:
    """Sources, entries, entry tags, and full-text search on entries."""
    db.executescript(SCHEMA_V1)
    db.table("entries").enable_fts(
        ["title", "summary", "content"],
        create_triggers=True,
        tokenize="unicode61 remove_diacritics 2",
    )


SCHEMA_V2 = """
-- The evidence behind each entry's language, and its feed categories before alias
-- mapping (so tags can be recomputed when the tags: table changes).
ALTER TABLE entries ADD COLUMN declared_language TEXT;
ALTER TABLE entries ADD COLUMN detected_language TEXT;
ALTER TABLE entries ADD COLUMN language_confidence REAL;
ALTER TABLE entries ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';
-- Small facts about the timeline as a whole, e.g. which tag rules its tags follow.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@migrations()
def m002_language_evidence_and_categories(db: sqlite_utils.Database) -> None:
    """Language evidence columns, raw categories, and the meta table."""
    db.executescript(SCHEMA_V2)


SCHEMA_V3 = """
-- MinHash signatures (64 x uint32) and their LSH bands: entries sharing a (band, key)
-- are near-duplicate candidates, found through the index, never by scanning.
ALTER TABLE entries ADD COLUMN signature BLOB;
ALTER TABLE entries ADD COLUMN shingles INTEGER NOT NULL DEFAULT 0;
ALTER TABLE entries ADD COLUMN numbers TEXT NOT NULL DEFAULT '[]';  -- JSON, sorted
CREATE TABLE entry_bands (
    band     INTEGER NOT NULL,
    key      INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE
);
CREATE INDEX entry_bands_key ON entry_bands(band, key);
CREATE INDEX entry_bands_entry ON entry_bands(entry_id);
"""


@migrations()
def m003_near_duplicate_signatures(db: sqlite_utils.Database) -> None:
    """Signatures and LSH bands for near-duplicate detection."""
    db.executescript(SCHEMA_V3)


SCHEMA_V4 = """
-- Entries removed by retention: a source that still lists them must not bring them back.
CREATE TABLE tombstones (
    source_id TEXT NOT NULL,
    key       TEXT NOT NULL,
    pruned_at TEXT NOT NULL,
    PRIMARY KEY (source_id, key)
) WITHOUT ROWID;
-- Where a source's URL permanently redirects, and for how many polls in a row: after a
-- grace of a few polls refeed fetches the new URL (and status asks to update config).
ALTER TABLE sources ADD COLUMN moved_to TEXT;
ALTER TABLE sources ADD COLUMN moved_polls INTEGER NOT NULL DEFAULT 0;
"""


@migrations()
def m004_retention_tombstones(db: sqlite_utils.Database) -> None:
    """Tombstones of pruned entries; permanent-redirect tracking of sources."""
    db.executescript(SCHEMA_V4)


SCHEMA_V5 = """
-- What the last successful download held, so the next poll parses only what is new: the
-- whole document's digest (equal: nothing to parse, even without HTTP validators), each
-- item's digest (JSON array; known items are cut before feedparser runs), and the
-- feed-level cadence hints (ttl, sy:updatePeriod) for polls that skip parsing.
ALTER TABLE sources ADD COLUMN body_digest TEXT;
ALTER TABLE sources ADD COLUMN item_digests TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sources ADD COLUMN feed_hints TEXT NOT NULL DEFAULT '{}';
"""


@migrations()
def m005_document_digests(db: sqlite_utils.Database) -> None:
    """Document and item digests and feed hints of each source's last download."""
    db.executescript(SCHEMA_V5)


SCHEMA_V6 = """
-- The timeline in its published order, originals only: an output's newest entries are
-- read from here without sorting the table.
CREATE INDEX entries_timeline ON entries(published DESC, source_id, key)
    WHERE duplicate_of IS NULL;
"""


@migrations()
def m006_timeline_index(db: sqlite_utils.Database) -> None:
    """An index in timeline order over the originals."""
    db.executescript(SCHEMA_V6)


SCHEMA_V7 = """
-- An original's copies: the timeline reads them (tags, provenance) for every entry it
-- lists; without this index each read scanned the whole table.
CREATE INDEX entries_duplicate_of ON entries(duplicate_of) WHERE duplicate_of IS NOT NULL;
"""


@migrations()
def m007_duplicate_index(db: sqlite_utils.Database) -> None:
    """An index from originals to their copies."""
    db.executescript(SCHEMA_V7)


SCHEMA_V8 = """
-- An entry's language and original, narrow: tag outputs and tag counts join entry_tags
-- to these three columns for thousands of entries, and reading them from the wide table
-- (content and all) cost eight times as much.
CREATE INDEX entries_facets ON entries(id, language, duplicate_of);
"""


@migrations()
def m008_facets_index(db: sqlite_utils.Database) -> None:
    """A covering index of each entry's language and original."""
    db.executescript(SCHEMA_V8)


_RENDERED_COLUMNS = (
    "source_id, key, guid, link, canonical_url, title, summary, content, authors, "
    "published, updated, dated, language, enclosures, categories, duplicate_of"
)
_BUMP = "UPDATE meta SET value = value + 1 WHERE key = 'timeline_version';"
SCHEMA_V9 = f"""
-- A counter of every change to what outputs are rendered from: a publish that finds it
-- where the last one left it has nothing to select or render (an all-304 poll).
INSERT OR IGNORE INTO meta (key, value) VALUES ('timeline_version', '0');
CREATE TRIGGER entries_added AFTER INSERT ON entries BEGIN {_BUMP} END;
CREATE TRIGGER entries_removed AFTER DELETE ON entries BEGIN {_BUMP} END;
CREATE TRIGGER entries_changed AFTER UPDATE OF {_RENDERED_COLUMNS} ON entries
    BEGIN {_BUMP} END;
CREATE TRIGGER entry_tags_added AFTER INSERT ON entry_tags BEGIN {_BUMP} END;
CREATE TRIGGER entry_tags_removed AFTER DELETE ON entry_tags BEGIN {_BUMP} END;
"""


@migrations()
def m009_timeline_version(db: sqlite_utils.Database) -> None:
    """A counter that every change to the rendered timeline bumps."""
    db.executescript(SCHEMA_V9)


SCHEMA_V10 = """
-- sqlite-utils' full-text trigger re-indexed an entry on any update: every poll that saw
-- an entry again (last_seen) or a retag (revision) paid for re-tokenizing its content.
DROP TRIGGER IF EXISTS entries_au;
CREATE TRIGGER entries_au AFTER UPDATE OF title, summary, content ON entries BEGIN
  INSERT INTO entries_fts (entries_fts, rowid, title, summary, content)
    VALUES ('delete', old.rowid, old.title, old.summary, old.content);
  INSERT INTO entries_fts (rowid, title, summary, content)
    VALUES (new.rowid, new.title, new.summary, new.content);
END;
"""


@migrations()
def m010_search_index_on_text_changes(db: sqlite_utils.Database) -> None:
    """Re-index an entry for search only when its title, summary or content change."""
    db.executescript(SCHEMA_V10)


SCHEMA_V11 = """
-- How often the source publishes, as the poll interval suited to it (a quarter of the
-- median gap between its latest entries), in seconds: 0 when too few entries tell, NULL
-- before it was first computed. A 304 changes no entry, so it reuses this instead of
-- reading the source's latest entries on every poll.
ALTER TABLE sources ADD COLUMN pace REAL;

-- When the document whose body_digest is stored failed to parse: why (JSON {kind,
-- message}). The same bytes under the same rules fail the same way, so a broken feed
-- served again unchanged (no validators: most of them) is not parsed again.
ALTER TABLE sources ADD COLUMN body_error TEXT;
"""


@migrations()
def m011_source_pace_and_body_error(db: sqlite_utils.Database) -> None:
    """Remember each source's publication pace and its broken document between polls."""
    db.executescript(SCHEMA_V11)


SCHEMA_V12 = """
-- Merge the search index's segments 16 at a time instead of 4: indexing a new entry
-- (most of what storing it costs) gets ~20% cheaper, searches read a few more segments.
INSERT INTO entries_fts (entries_fts, rank) VALUES ('automerge', 16);
"""


@migrations()
def m012_search_index_merges_later(db: sqlite_utils.Database) -> None:
    """Let the search index merge its segments less eagerly."""
    db.executescript(SCHEMA_V12)


SCHEMA_V13 = """
-- Each tag row knows the original its entry stands for (itself, or what it is a copy
-- of), so tag usage — how many originals carry each tag — is one scan of an index
-- instead of a join of every tag row with its entry and a sort (1M entries: 6.9 s →
-- 1.9 s, on every publish that has anything to do).
ALTER TABLE entry_tags ADD COLUMN original INTEGER;
UPDATE entry_tags SET original = (
    SELECT coalesce(duplicate_of, id) FROM entries INDEXED BY entries_facets
    WHERE entries.id = entry_tags.entry_id
);
CREATE INDEX entry_tags_usage ON entry_tags(folded, original, tag);
-- an entry that becomes (or stops being) a copy takes its tags to its new original
CREATE TRIGGER entry_tags_follow_original AFTER UPDATE OF duplicate_of ON entries BEGIN
  UPDATE entry_tags SET original = coalesce(new.duplicate_of, new.id) WHERE entry_id = new.id;
END;
"""


@migrations()
def m013_tag_rows_know_their_original(db: sqlite_utils.Database) -> None:
    """Record each tag row's original, for tag usage counted from one index."""
    db.executescript(SCHEMA_V13)


SCHEMA_V14 = """
-- Each language's originals in published order: an output of one language (a tag in one
-- language, above all) walks only its own language's timeline, and checks each entry's
-- tags from the index alone (1M entries: ~18 ms → ~3 ms per tag × language output).
CREATE INDEX entries_language_timeline ON entries(language, published DESC, source_id, key)
    WHERE duplicate_of IS NULL;
"""


@migrations()
def m014_language_timeline_index(db: sqlite_utils.Database) -> None:
    """Index each language's originals in timeline order."""
    db.executescript(SCHEMA_V14)


SCHEMA_V15 = """
-- Bands keyed by themselves: a WITHOUT ROWID table whose primary key is the lookup
-- (band, key) with the entry id, so storing an entry writes 2 B-trees per band instead
-- of 3, and finding candidates reads entry ids from the key without visiting the rows.
CREATE TABLE entry_bands_keyed (
    band     INTEGER NOT NULL,
    key      INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    PRIMARY KEY (band, key, entry_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO entry_bands_keyed (band, key, entry_id)
    SELECT band, key, entry_id FROM entry_bands;
DROP TABLE entry_bands;
ALTER TABLE entry_bands_keyed RENAME TO entry_bands;
CREATE INDEX entry_bands_entry ON entry_bands(entry_id);
"""


@migrations()
def m015_bands_without_rowid(db: sqlite_utils.Database) -> None:
    """Keep the signature bands in a table keyed by (band, key, entry id)."""
    db.executescript(SCHEMA_V15)


def _tag_use_change(row: str, *, joining: bool) -> str:
    """The statement that logs the tag use of entry_tags' ``row`` (``new`` or ``old``)
    with its spelling before the row joined it (the smallest of its other rows) or left
    it (the smallest of its rows and the one that left)."""
    original = f"coalesce({row}.original, {row}.entry_id)"
    others = ("SELECT min(tag) FROM entry_tags INDEXED BY entry_tags_usage "
              f"WHERE folded = {row}.folded AND original = {original}")
    before = (f"({others} AND entry_id != {row}.entry_id)" if joining
              else f"min({row}.tag, coalesce(({others}), {row}.tag))")
    return ("INSERT INTO timeline_changes (entry_id, folded, spelling) "
            f"SELECT {original}, {row}.folded, {before};")


SCHEMA_V16 = f"""
-- What changed in the timeline, for the next publish: the originals whose listing or
-- rendering may differ (entry_id), and, for tag rows, the tag use (folded, original)
-- about to change with its spelling before (NULL: the original did not carry the tag).
-- A publish after a poll reads what changed since the last one and merges it into the
-- listings it kept, instead of selecting 500 outputs from a million entries again; it
-- then forgets what it read (changes_forgotten: the last sequence number forgotten).
-- AUTOINCREMENT: a sequence number is never used twice, even after a forget.
CREATE TABLE timeline_changes (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id INTEGER,
    folded   TEXT,
    spelling TEXT
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('timeline_id', lower(hex(randomblob(16))));
INSERT OR IGNORE INTO meta (key, value) VALUES ('changes_forgotten', '0');
CREATE TRIGGER changes_entry_added AFTER INSERT ON entries BEGIN
  INSERT INTO timeline_changes (entry_id) VALUES (new.id);
  INSERT INTO timeline_changes (entry_id) SELECT new.duplicate_of
    WHERE new.duplicate_of IS NOT NULL;
END;
CREATE TRIGGER changes_entry_removed AFTER DELETE ON entries BEGIN
  INSERT INTO timeline_changes (entry_id) VALUES (old.id);
  INSERT INTO timeline_changes (entry_id) SELECT old.duplicate_of
    WHERE old.duplicate_of IS NOT NULL;
END;
CREATE TRIGGER changes_entry_changed AFTER UPDATE OF {_RENDERED_COLUMNS} ON entries BEGIN
  INSERT INTO timeline_changes (entry_id) VALUES (new.id);
  INSERT INTO timeline_changes (entry_id) SELECT old.duplicate_of
    WHERE old.duplicate_of IS NOT NULL;
  INSERT INTO timeline_changes (entry_id) SELECT new.duplicate_of
    WHERE new.duplicate_of IS NOT NULL AND new.duplicate_of IS NOT old.duplicate_of;
END;
-- a tag use (tag, original) gaining or losing a row logs its spelling before the change
CREATE TRIGGER changes_tag_added AFTER INSERT ON entry_tags BEGIN
  {_tag_use_change("new", joining=True)}
END;
CREATE TRIGGER changes_tag_removed AFTER DELETE ON entry_tags BEGIN
  {_tag_use_change("old", joining=False)}
END;
CREATE TRIGGER changes_tag_moved AFTER UPDATE OF original ON entry_tags BEGIN
  {_tag_use_change("old", joining=False)}
  {_tag_use_change("new", joining=True)}
END;
"""


@migrations()
def m016_timeline_changes(db: sqlite_utils.Database) -> None:
    """Log what changes in the timeline, for publishing only what changed."""
    db.executescript(SCHEMA_V16)


SCHEMA_V17 = """
-- The change log (m016) records every change to what outputs are rendered from, so the
-- counter that m009's triggers bumped for each such row (one more UPDATE per stored
-- entry and tag) is no longer needed: a publish's stamp is the log's position.
DROP TRIGGER IF EXISTS entries_added;
DROP TRIGGER IF EXISTS entries_removed;
DROP TRIGGER IF EXISTS entries_changed;
DROP TRIGGER IF EXISTS entry_tags_added;
DROP TRIGGER IF EXISTS entry_tags_removed;
DELETE FROM meta WHERE key = 'timeline_version';
"""


@migrations()
def m017_no_timeline_version(db: sqlite_utils.Database) -> None:
    """Drop the timeline version counter: the change log's position tells the same."""
    db.executescript(SCHEMA_V17)


SCHEMA_V18 = """
-- An admin's corrections of deduplication (refeed dedup split / merge), kept until
-- refeed dedup reset: a split entry is an original that nothing joins; a merged one
-- was put into the cluster of other_id.
CREATE TABLE dedup_overrides (
    entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
    action   TEXT NOT NULL CHECK (action IN ('split', 'merge')),
    other_id INTEGER,
    created  TEXT NOT NULL
);
"""


@migrations()
def m018_dedup_overrides(db: sqlite_utils.Database) -> None:
    """The admin's splits and merges of duplicate clusters."""
    db.executescript(SCHEMA_V18)


SCHEMA_V19 = """
-- What tells a story retold in other words (dedup.retold): the names in it, those its
-- headline carries (JSON arrays of folded words), and a MinHash of its word stems.
ALTER TABLE entries ADD COLUMN names TEXT NOT NULL DEFAULT '[]';
ALTER TABLE entries ADD COLUMN headline TEXT NOT NULL DEFAULT '[]';
ALTER TABLE entries ADD COLUMN stem_signature BLOB;
ALTER TABLE entries ADD COLUMN stems INTEGER NOT NULL DEFAULT 0;
-- Each entry's facts (figures, names) keyed by language and day: a retold story shares
-- few word pairs with the original, so it is found through these (dedup.fact_keys).
CREATE TABLE entry_facts (
    key      TEXT NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    PRIMARY KEY (key, entry_id)
) WITHOUT ROWID;
CREATE INDEX entry_facts_entry ON entry_facts(entry_id);
"""


@migrations()
def m019_story_facts(db: sqlite_utils.Database) -> None:
    """Names, headline names and word stems of each entry, and an index of its facts."""
    db.executescript(SCHEMA_V19)


SCHEMA_V20 = """
-- The calendar dates each entry's text names (JSON, "MM-DD", sorted): another day's
-- bulletin names another date (dedup.dates_differ). Older rows name none: unknown.
ALTER TABLE entries ADD COLUMN dates TEXT NOT NULL DEFAULT '[]';
"""


@migrations()
def m020_named_dates(db: sqlite_utils.Database) -> None:
    """The dates each entry's text names."""
    db.executescript(SCHEMA_V20)


SCHEMA_V21 = """
-- Article pages of entries of sources with pages on (issue 20): the entry revision the
-- page is read for, its state (due, read, failed: given up), the failures so far, when
-- it is due again, the last error (JSON), the tags it gave (JSON) and whether the
-- entry's content is its article.
CREATE TABLE entry_pages (
    entry_id  INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
    revision  TEXT NOT NULL,
    state     TEXT NOT NULL,
    attempts  INTEGER NOT NULL DEFAULT 0,
    next_try  TEXT,
    fetched   TEXT,
    error     TEXT,
    tags      TEXT NOT NULL DEFAULT '[]',
    full_text INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX entry_pages_due ON entry_pages(next_try) WHERE state = 'due';
"""


@migrations()
def m021_entry_pages(db: sqlite_utils.Database) -> None:
    """The article pages of entries: due, read or failed, and what they gave."""
    db.executescript(SCHEMA_V21)
