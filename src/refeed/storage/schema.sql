-- refeed's timeline database, as a fresh one is created. Databases made by earlier
-- versions reach the same schema through migrations.py; tests/test_schema.py checks
-- that both are the same. docs/architecture.md explains the invariants.

-- One row per configured source: the state its next poll starts from.
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
    next_due      TEXT,
    -- a permanent redirect seen lately, and in how many polls in a row: followed once
    -- seen in a few (a misconfigured server must not move a source for good at once)
    moved_to      TEXT,
    moved_polls   INTEGER NOT NULL DEFAULT 0,
    -- what the last successful download held, so the next poll parses only what is new:
    -- the document's digest (equal: nothing to parse, even without HTTP validators),
    -- each item's digest (JSON array; known items are cut before feedparser runs), and
    -- the feed-level cadence hints (ttl, sy:updatePeriod) for polls that skip parsing
    body_digest   TEXT,
    item_digests  TEXT NOT NULL DEFAULT '[]',
    feed_hints    TEXT NOT NULL DEFAULT '{}',
    -- how often the source publishes, as the poll interval suited to it, in seconds: 0
    -- when too few entries tell, NULL before it was first computed (a 304 reuses it)
    pace          REAL,
    -- why the document of body_digest failed to parse (JSON {kind, message}): the same
    -- bytes under the same rules fail alike, so they are not parsed again
    body_error    TEXT
);

-- The timeline. Duplicates of another source's entry stay here (so re-polling does not
-- bring them back as new) with duplicate_of pointing at their cluster's original.
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
    duplicate_of  INTEGER REFERENCES entries(id),  -- always an original (never a copy)
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    -- the evidence behind the language, and the feed's categories before alias mapping
    -- (so tags are recomputed when the tags: table changes)
    declared_language   TEXT,
    detected_language   TEXT,
    language_confidence REAL,
    categories    TEXT NOT NULL DEFAULT '[]',
    -- MinHash signature (64 x uint32), how many shingles it was made of, and the
    -- figures of the text (JSON, sorted): near-duplicate evidence
    signature     BLOB,
    shingles      INTEGER NOT NULL DEFAULT 0,
    numbers       TEXT NOT NULL DEFAULT '[]',
    -- what tells a story retold in other words (dedup.retold): the names in it, those
    -- its headline carries (JSON arrays of folded words), and a MinHash of its stems
    names         TEXT NOT NULL DEFAULT '[]',
    headline      TEXT NOT NULL DEFAULT '[]',
    stem_signature BLOB,
    stems         INTEGER NOT NULL DEFAULT 0,
    -- the calendar dates its text names (JSON, "MM-DD", sorted): another day's
    -- bulletin names another date (dedup.dates_differ)
    dates         TEXT NOT NULL DEFAULT '[]',
    UNIQUE (source_id, key)
);
CREATE INDEX entries_published ON entries(published);
CREATE INDEX entries_canonical_url ON entries(canonical_url) WHERE canonical_url IS NOT NULL;
CREATE INDEX entries_content_hash ON entries(content_hash) WHERE content_hash != '';
-- the timeline in its published order, originals only: an output's newest entries are
-- read from here without sorting the table
CREATE INDEX entries_timeline ON entries(published DESC, source_id, key)
    WHERE duplicate_of IS NULL;
-- an original's copies: every listed entry reads them (tags, provenance)
CREATE INDEX entries_duplicate_of ON entries(duplicate_of) WHERE duplicate_of IS NOT NULL;
-- an entry's language and original, narrow: tag outputs and tag counts join these
CREATE INDEX entries_facets ON entries(id, language, duplicate_of);
-- each language's originals in timeline order: an output of one language walks only
-- its own language's timeline
CREATE INDEX entries_language_timeline ON entries(language, published DESC, source_id, key)
    WHERE duplicate_of IS NULL;

-- Tags of each entry; `folded` is the case/Unicode-insensitive form; `original` is the
-- original the entry stands for (itself, or what it is a copy of), so how many
-- originals carry each tag is one scan of an index.
CREATE TABLE entry_tags (
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    folded   TEXT NOT NULL,
    original INTEGER,
    PRIMARY KEY (entry_id, folded)
) WITHOUT ROWID;
CREATE INDEX entry_tags_folded ON entry_tags(folded, entry_id);
CREATE INDEX entry_tags_usage ON entry_tags(folded, original, tag);
-- an entry that becomes (or stops being) a copy takes its tags to its new original
CREATE TRIGGER entry_tags_follow_original AFTER UPDATE OF duplicate_of ON entries BEGIN
  UPDATE entry_tags SET original = coalesce(new.duplicate_of, new.id) WHERE entry_id = new.id;
END;

-- Signature bands (LSH): entries sharing a (band, key) are near-duplicate candidates,
-- found through the primary key, never by scanning.
CREATE TABLE entry_bands (
    band     INTEGER NOT NULL,
    key      INTEGER NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    PRIMARY KEY (band, key, entry_id)
) WITHOUT ROWID;
CREATE INDEX entry_bands_entry ON entry_bands(entry_id);

-- An admin's corrections of deduplication (refeed dedup split / merge), kept until
-- refeed dedup reset: a split entry is an original that nothing joins; a merged one
-- was put into the cluster of other_id.
CREATE TABLE dedup_overrides (
    entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
    action   TEXT NOT NULL CHECK (action IN ('split', 'merge')),
    other_id INTEGER,
    created  TEXT NOT NULL
);

-- Each entry's facts (figures, names) keyed by language and day: a retold story shares
-- few word pairs with the original, so it is found through these (dedup.fact_keys).
CREATE TABLE entry_facts (
    key      TEXT NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    PRIMARY KEY (key, entry_id)
) WITHOUT ROWID;
CREATE INDEX entry_facts_entry ON entry_facts(entry_id);

-- Pruned entries: a feed that still lists one must not bring it back as new.
CREATE TABLE tombstones (
    source_id TEXT NOT NULL,
    key       TEXT NOT NULL,
    pruned_at TEXT NOT NULL,
    PRIMARY KEY (source_id, key)
) WITHOUT ROWID;

-- Small facts about the timeline as a whole: which tag rules its tags follow
-- (tag_rules), its identity (timeline_id: a publish's manifest names the timeline it
-- read) and the last change-log position forgotten (changes_forgotten).
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('timeline_id', lower(hex(randomblob(16))));
INSERT INTO meta (key, value) VALUES ('changes_forgotten', '0');

-- Full-text search over title, summary and content (refeed entries --search), kept by
-- triggers; re-indexed only when those columns change, merged 16 segments at a time.
CREATE VIRTUAL TABLE "entries_fts" USING FTS5 (
    "title", "summary", "content",
    tokenize='unicode61 remove_diacritics 2',
    content="entries"
);
INSERT INTO entries_fts (entries_fts, rank) VALUES ('automerge', 16);
CREATE TRIGGER "entries_ai" AFTER INSERT ON "entries" BEGIN
  INSERT INTO "entries_fts" (rowid, "title", "summary", "content") VALUES (new.rowid, new."title", new."summary", new."content");
END;
CREATE TRIGGER "entries_ad" AFTER DELETE ON "entries" BEGIN
  INSERT INTO "entries_fts" ("entries_fts", rowid, "title", "summary", "content") VALUES('delete', old.rowid, old."title", old."summary", old."content");
END;
CREATE TRIGGER entries_au AFTER UPDATE OF title, summary, content ON entries BEGIN
  INSERT INTO entries_fts (entries_fts, rowid, title, summary, content)
    VALUES ('delete', old.rowid, old.title, old.summary, old.content);
  INSERT INTO entries_fts (rowid, title, summary, content)
    VALUES (new.rowid, new.title, new.summary, new.content);
END;

-- What changed in the timeline, for the next publish: the originals whose listing or
-- rendering may differ (entry_id), and, for tag rows, the tag use (folded, original)
-- about to change with its spelling before (NULL: the original did not carry the tag).
-- A publish reads what changed since the last one, merges it into the listings it kept,
-- then forgets what it read. AUTOINCREMENT: a sequence number is never used twice.
CREATE TABLE timeline_changes (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id INTEGER,
    folded   TEXT,
    spelling TEXT
);
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
-- only the columns outputs are rendered from (not last_seen, revision, ...)
CREATE TRIGGER changes_entry_changed AFTER UPDATE OF source_id, key, guid, link,
    canonical_url, title, summary, content, authors, published, updated, dated,
    language, enclosures, categories, duplicate_of ON entries BEGIN
  INSERT INTO timeline_changes (entry_id) VALUES (new.id);
  INSERT INTO timeline_changes (entry_id) SELECT old.duplicate_of
    WHERE old.duplicate_of IS NOT NULL;
  INSERT INTO timeline_changes (entry_id) SELECT new.duplicate_of
    WHERE new.duplicate_of IS NOT NULL AND new.duplicate_of IS NOT old.duplicate_of;
END;
-- a tag use (folded, original) gaining a row logs its spelling before: the smallest of
-- its other rows'; losing one, the smallest of its rows and the one that left
CREATE TRIGGER changes_tag_added AFTER INSERT ON entry_tags BEGIN
  INSERT INTO timeline_changes (entry_id, folded, spelling)
    SELECT coalesce(new.original, new.entry_id), new.folded,
      (SELECT min(tag) FROM entry_tags INDEXED BY entry_tags_usage
       WHERE folded = new.folded AND original = coalesce(new.original, new.entry_id)
         AND entry_id != new.entry_id);
END;
CREATE TRIGGER changes_tag_removed AFTER DELETE ON entry_tags BEGIN
  INSERT INTO timeline_changes (entry_id, folded, spelling)
    SELECT coalesce(old.original, old.entry_id), old.folded,
      min(old.tag, coalesce((SELECT min(tag) FROM entry_tags INDEXED BY entry_tags_usage
        WHERE folded = old.folded AND original = coalesce(old.original, old.entry_id)),
        old.tag));
END;
CREATE TRIGGER changes_tag_moved AFTER UPDATE OF original ON entry_tags BEGIN
  INSERT INTO timeline_changes (entry_id, folded, spelling)
    SELECT coalesce(old.original, old.entry_id), old.folded,
      min(old.tag, coalesce((SELECT min(tag) FROM entry_tags INDEXED BY entry_tags_usage
        WHERE folded = old.folded AND original = coalesce(old.original, old.entry_id)),
        old.tag));
  INSERT INTO timeline_changes (entry_id, folded, spelling)
    SELECT coalesce(new.original, new.entry_id), new.folded,
      (SELECT min(tag) FROM entry_tags INDEXED BY entry_tags_usage
       WHERE folded = new.folded AND original = coalesce(new.original, new.entry_id)
         AND entry_id != new.entry_id);
END;

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
