"""The SQLite timeline (sqlite-utils): per-source state, entries, queries (the schema and
its migrations are in :mod:`refeed.schema`).

One source's poll is one transaction: its entries *and* its new HTTP validators commit
together, so a crash (kill -9, full disk) never leaves an ETag that hides entries we did
not store. The database runs in WAL mode so readers (``refeed status``, the server)
never block the poller.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlite_utils

from refeed.config import SourceConfig
from refeed.dedup import DedupPolicy, band_keys, decide, entry_revision
from refeed.errors import StoreError
from refeed.model import (
    Decision,
    Enclosure,
    Entry,
    ErrorInfo,
    FetchResult,
    PollState,
    ProcessedFeed,
    StoreCounts,
    StoredEntry,
    Validators,
)
from refeed.normalize import unique_tags
from refeed.schema import from_iso, iso, migrations, pack_signature, unpack_signature
from refeed.select import Listed, Output, usage_of
from refeed.text import tag_fold

Tagger = Callable[[Entry], tuple[str, ...]]
# An original with its tags and its duplicates' tags (it stands for them in tag outputs),
# and where its duplicates were seen.
_TIMELINE_COLUMNS = """
    SELECT entries.*, (
        SELECT json_group_array(tag) FROM (
            SELECT DISTINCT tag FROM entry_tags
            WHERE entry_id = entries.id OR entry_id IN (
                SELECT id FROM entries AS copy WHERE copy.duplicate_of = entries.id
            )
            ORDER BY tag
        )
    ) AS tags, (
        SELECT json_group_array(json_object('source', source_id, 'link', link))
        FROM (SELECT source_id, link FROM entries AS copy
              WHERE copy.duplicate_of = entries.id ORDER BY source_id, id)
    ) AS seen_in"""
_TIMELINE_ORDER = "ORDER BY published DESC, source_id, key"
# a tag on at most this many entries is selected through the tag index, not the timeline
SPARSE_TAG_ROWS = 2000
MAX_CANDIDATES = 64  # stored entries compared with one incoming entry, at most
READ_CHUNK = 64  # full timeline rows read at once when their order is known first
ID_CHUNK = 500  # ids looked up by one query (SQLite allows 32,766 parameters)
MAX_CHANGE_ROWS = 1_000_000  # the change log's rows kept unpublished (~40 MB), at most
WAL_CHECKPOINT_PAGES = 10_000
# Writing transactions take the write lock first, waiting for it (the connection's busy
# timeout): one that read first cannot get it once another connection — the daemon's
# publish thread — has committed since, and fails at once with "database is locked".
_BEGIN_WRITING = "BEGIN IMMEDIATE"
_ENTRY_COLUMNS = (
    "source_id", "key", "guid", "link", "canonical_url", "title", "summary", "content",
    "authors", "published", "updated", "dated", "language", "enclosures", "content_hash",
    "revision", "last_seen", "declared_language", "detected_language",
    "language_confidence", "categories", "signature", "shingles", "numbers",
    "first_seen", "duplicate_of",
)
_INSERT_ENTRY = (
    f"INSERT INTO entries ({', '.join(_ENTRY_COLUMNS)}) "
    f"VALUES ({', '.join(':' + column for column in _ENTRY_COLUMNS)})"
)

@dataclass(frozen=True)
class ChangesMark:
    """A point in a timeline's change log: which timeline, and how far."""

    timeline: str = ""
    position: int = 0


@dataclass(frozen=True)
class TimelineChanges:
    """What changed in the timeline between two marks: the originals whose listing or
    rendering may differ (ids; some may be gone, or copies now), and the tag uses
    ``(folded tag, original)`` that changed, with the spelling each counted under
    before (``None``: the original did not carry the tag)."""

    mark: ChangesMark
    entries: frozenset[int]
    tag_uses: Mapping[tuple[str, int], str | None]


@dataclass(frozen=True)
class EntryQuery:
    """Filters for :meth:`Store.entries`; empty fields do not filter."""

    tag: str | None = None
    language: str | None = None
    source_id: str | None = None
    search: str | None = None
    limit: int = 20
    include_duplicates: bool = False


def _poll_state(row: sqlite3.Row, grace: int) -> PollState:
    """A source row as the state its next poll starts from."""
    moved = row["moved_to"] if row["moved_to"] and row["moved_polls"] >= grace else None
    pace = row["pace"]
    return PollState(
        validators=Validators(row["etag"], row["last_modified"]),
        failures=int(row["failures"]),
        fetch_url=moved,
        url=row["url"],
        moved_to=row["moved_to"],
        moved_polls=int(row["moved_polls"] or 0),
        pace=None if pace is None else timedelta(seconds=pace),
        body_digest=row["body_digest"],
        body_error=ErrorInfo(**json.loads(row["body_error"])) if row["body_error"] else None,
        item_digests_json=row["item_digests"],
        feed_hints=json.loads(row["feed_hints"]),
    )


class Store:
    """The timeline database. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._batch_until: float | None = None  # inside batch(): when to commit next
        self._batch_seconds = 0.0
        self.sparse_tag_rows = SPARSE_TAG_ROWS
        self.max_change_rows = MAX_CHANGE_ROWS

    @contextmanager
    def batch(self, seconds: float = 1.0) -> Iterator[None]:
        """Group the polls recorded inside into transactions of about ``seconds``: one
        commit per source costs more than storing a 304, and every commit writes again
        the index pages it changed. Each poll stays atomic (a
        savepoint), and a crash loses at most the last ``seconds`` of polls — entries
        and validators together, so those sources are simply fetched again."""
        if self.db.conn.in_transaction:
            yield
            return
        self.db.conn.execute(_BEGIN_WRITING)
        self._batch_seconds = seconds
        self._batch_until = time.monotonic() + seconds
        try:
            yield
        finally:
            self._batch_until = None
            if self.db.conn.in_transaction:
                self.db.conn.execute("COMMIT")

    def _commit_if_due(self) -> None:
        if self._batch_until is not None and time.monotonic() >= self._batch_until:
            self.db.conn.execute("COMMIT")
            self.db.conn.execute(_BEGIN_WRITING)
            self._batch_until = time.monotonic() + self._batch_seconds

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating and migrating as needed) the database at ``path``."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite_utils.Database(sqlite3.connect(path, timeout=10))
            db.execute("PRAGMA foreign_keys = ON")
            db.enable_wal()
            # WAL + NORMAL: a commit does not wait for fsync, yet the database stays
            # consistent, and committed polls survive a killed process (not a power cut)
            db.execute("PRAGMA synchronous = NORMAL")
            # a checkpoint every 10,000 pages (~40 MiB of WAL) instead of SQLite's 1,000:
            # a poll rewrites the same index pages in commit after commit, and each
            # checkpoint copies them back and syncs (5,000 new entries: 2.6 s → 0.8 s)
            db.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            migrations.apply(db)
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot open database {path}", str(path)) from error
        return cls(db)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def _transaction(self, what: str, *, one_statement: bool = False) -> Iterator[None]:
        """One atomic unit: a savepoint (its own transaction outside a batch). The name
        is fixed, unlike sqlite-utils' ``atomic()``, so its statements stay prepared.
        Inside a batch, a unit of ``one_statement`` (atomic by itself) needs none: most
        polls end in a 304 and one UPDATE, and the savepoint cost a third of it."""
        conn = self.db.conn
        if one_statement and conn.in_transaction:
            try:
                yield
            except sqlite3.Error as error:
                raise StoreError(f"cannot {what}") from error
            return
        outermost = not conn.in_transaction  # then COMMIT ends it, and may fail to
        try:
            if outermost:
                conn.execute(_BEGIN_WRITING)
            conn.execute("SAVEPOINT refeed")
            try:
                yield
                conn.execute("RELEASE refeed")
                if outermost:
                    conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction and outermost:  # an error may already have ended it
                    conn.execute("ROLLBACK")
                elif conn.in_transaction:
                    conn.execute("ROLLBACK TO refeed")
                    conn.execute("RELEASE refeed")
                raise
        except sqlite3.Error as error:
            raise StoreError(f"cannot {what}") from error

    def sync_sources(self, sources: Sequence[SourceConfig]) -> None:
        """Make sure every configured source has a row (URL changes reset validators)."""
        stored = dict(self.db.execute("SELECT id, url FROM sources").fetchall())
        with self._transaction("record sources"):
            for source in sources:
                if source.id not in stored:
                    self.db.execute("INSERT INTO sources (id, url) VALUES (?, ?)",
                                    [source.id, source.url])
                elif stored[source.id] != source.url:
                    self._update_source(source.id, {
                        "url": source.url, "etag": None, "last_modified": None,
                        "moved_to": None, "moved_polls": 0, "body_digest": None,
                        "item_digests": "[]",
                    })

    def _update_source(self, source_id: str, values: Mapping[str, Any]) -> None:
        self.db.conn.execute(_source_update(tuple(values)), {**values, "source_id": source_id})

    def backup(self, path: Path) -> None:
        """A consistent copy of the database at ``path`` (``VACUUM INTO``), safe while the
        daemon writes."""
        if path.exists():
            raise StoreError("backup target already exists", str(path))
        try:
            self.db.execute("VACUUM INTO ?", [str(path)])
        except sqlite3.Error as error:
            raise StoreError("cannot write backup", str(path)) from error

    @staticmethod
    def _moved_state(fetched: FetchResult, state: PollState) -> dict[str, Any]:
        if fetched.moved_to is not None:
            same = fetched.moved_to == state.moved_to
            return {"moved_to": fetched.moved_to,
                    "moved_polls": state.moved_polls + 1 if same else 1}
        if fetched.url != state.url or fetched.error is not None:
            return {}  # fetched at the new address, or no answer: nothing learned
        return {"moved_to": None, "moved_polls": 0}

    def poll_state(self, source_id: str, grace: int) -> PollState:
        """What the next poll of ``source_id`` needs from the previous ones; the fetch URL
        is the permanent redirect's target once seen ``grace`` polls in a row."""
        row = self._named_rows("SELECT * FROM sources WHERE id = ?", [source_id]).fetchone()
        return PollState() if row is None else _poll_state(row, grace)

    def poll_states(self, grace: int) -> dict[str, PollState]:
        """:meth:`poll_state` of every source, read at once (a poll of many sources)."""
        return {row["id"]: _poll_state(row, grace)
                for row in self._named_rows("SELECT * FROM sources")}

    def _named_rows(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Rows readable by column name, straight from the connection: sqlite-utils'
        ``query()`` wraps every read in a savepoint, a cost on the per-entry path."""
        cursor = self.db.conn.cursor()
        cursor.row_factory = sqlite3.Row
        return cursor.execute(sql, list(params))

    def recent_published(self, source_id: str, count: int = 10) -> list[datetime]:
        """When the source's latest ``count`` dated entries were published."""
        rows = self.db.conn.execute(
            "SELECT published FROM entries WHERE source_id = ? AND dated "
            "ORDER BY published DESC LIMIT ?", [source_id, count],
        ).fetchall()
        return [from_iso(row[0]) for row in rows]

    def next_due(self, source_id: str) -> datetime | None:
        """When ``source_id`` is due again, as its last poll decided."""
        row = self._named_rows("SELECT next_due FROM sources WHERE id = ?", [source_id]).fetchone()
        return from_iso(row["next_due"]) if row and row["next_due"] else None

    def failing_sources(self) -> int:
        """How many polled sources failed their last poll."""
        rows = self.db.execute(
            "SELECT count(*) FROM sources WHERE last_fetch IS NOT NULL AND NOT ok"
        ).fetchall()
        return int(rows[0][0])

    def validators(self, source_id: str) -> Validators:
        """The ETag and Last-Modified to send with the next request for ``source_id``."""
        return self.poll_state(source_id, 0).validators

    def record_poll(
        self,
        fetched: FetchResult,
        processed: ProcessedFeed | None,
        *,
        now: datetime,
        next_due: datetime,
        policy: DedupPolicy,
        state: PollState | None = None,
        pace: timedelta | None = None,
    ) -> StoreCounts:
        """Store one source's poll — entries and source state — in one transaction.
        ``state`` is the source's state the poll started from (read again when not
        given); ``pace``, when given, replaces its stored publication pace."""
        error = fetched.error or (processed.error if processed else None)
        if state is None:
            state = self.poll_state(fetched.source_id, 0)
        stored = processed.entries if processed is not None and error is None else ()
        polled = iso(now)
        with self._transaction(f"store poll of {fetched.source_id}", one_statement=not stored):
            counts = StoreCounts()
            if processed is not None and error is None:
                counts = self._store_entries(stored, now, policy)
                counts = replace(counts, unchanged=counts.unchanged + processed.skipped)
            values: dict[str, Any] = {
                "last_fetch": polled,
                "ok": error is None,
                "http_status": fetched.http_status,
                "error_kind": error.kind if error else None,
                "error": error.message if error else None,
                "warning": processed.warning if processed and not error else None,
                "final_url": fetched.final_url,
                "bytes": fetched.nbytes,
                "elapsed": round(fetched.elapsed, 3),
                "next_due": iso(next_due),
            }
            values |= self._moved_state(fetched, state)
            if pace is not None:
                values["pace"] = pace.total_seconds()
            if processed is not None and processed.body_digest is not None:
                failed = json.dumps(asdict(processed.error)) if processed.error else None
                values |= {"body_digest": processed.body_digest, "body_error": failed}
            if error is None:
                values |= {"last_success": polled, "failures": 0}
                if processed is not None and processed.body_digest is not None:
                    values |= {
                        "item_digests": json.dumps(processed.digests),
                        "feed_hints": json.dumps(dict(processed.feed)),
                    }
                if not fetched.not_modified:
                    values |= {
                        "etag": fetched.validators.etag,
                        "last_modified": fetched.validators.last_modified,
                    }
            else:
                values["failures"] = state.failures + 1
            self._update_source(fetched.source_id, values)
        self._commit_if_due()
        return counts

    def _store_entries(
        self, entries: Sequence[Entry], now: datetime, policy: DedupPolicy
    ) -> StoreCounts:
        tally = {"new": 0, "updated": 0, "unchanged": 0, "duplicate": 0}
        for entry in entries:
            if self._pruned(entry):
                tally["unchanged"] += 1  # retention removed it; the feed still lists it
                continue
            revision = entry_revision(entry)
            bands = band_keys(entry.signature)
            candidates = self._candidates(entry, policy, bands)
            decision = decide(entry, revision, self._stored(entry), candidates, policy)
            self._apply(entry, revision, decision, now, bands)
            tally[decision.action] += 1
        return StoreCounts(tally["new"], tally["updated"], tally["unchanged"], tally["duplicate"])

    def _pruned(self, entry: Entry) -> bool:
        rows = self.db.execute(
            "SELECT 1 FROM tombstones WHERE source_id = ? AND key = ?",
            [entry.source_id, entry.key],
        ).fetchall()
        return bool(rows)

    def prune(
        self, now: datetime, max_age: timedelta, max_entries: Mapping[str, int] | None = None
    ) -> int:
        """Remove entries first stored more than ``max_age`` before ``now``, and a source's
        oldest beyond its ``max_entries``, with the copies of removed originals; leaves
        tombstones; returns how many went."""
        old = "SELECT id FROM entries WHERE first_seen < ?"
        params: list[Any] = [iso(now - max_age)]
        for source_id, limit in (max_entries or {}).items():
            old += (" UNION SELECT id FROM entries WHERE source_id = ? AND id NOT IN (SELECT id "
                    "FROM entries WHERE source_id = ? ORDER BY first_seen DESC, id DESC LIMIT ?)")
            params += [source_id, source_id, limit]
        with self._transaction("prune old entries"):
            self.db.execute(f"CREATE TEMP TABLE doomed AS {old}", params)
            self.db.execute("INSERT INTO doomed SELECT id FROM entries "
                            "WHERE duplicate_of IN (SELECT id FROM doomed)")
            self.db.execute(
                "INSERT OR IGNORE INTO tombstones (source_id, key, pruned_at) "
                "SELECT source_id, key, ? FROM entries WHERE id IN (SELECT id FROM doomed)",
                [iso(now)],
            )
            copies = self.db.execute(
                "DELETE FROM entries WHERE id IN (SELECT id FROM doomed) "
                "AND duplicate_of IS NOT NULL").rowcount
            originals = self.db.execute(
                "DELETE FROM entries WHERE id IN (SELECT id FROM doomed)").rowcount
            self.db.execute("DROP TABLE doomed")
        self._bound_change_log()
        return copies + originals

    def _bound_change_log(self) -> None:
        """Forget the oldest of the change log beyond :attr:`max_change_rows` rows: an
        output folder that is never published (or whose publishes keep failing) must not
        make it grow forever. The next publish then selects every output again."""
        beyond = self.db.execute(
            "SELECT seq FROM timeline_changes ORDER BY seq DESC LIMIT 1 OFFSET ?",
            [self.max_change_rows]).fetchone()
        if beyond is not None:
            self.forget_changes(ChangesMark(position=beyond[0]))

    def _stored(self, entry: Entry) -> StoredEntry | None:
        rows = self._stored_entries("source_id = ? AND key = ?", [entry.source_id, entry.key])
        return rows[0] if rows else None

    def _candidates(
        self, entry: Entry, policy: DedupPolicy, bands: Sequence[tuple[int, int]]
    ) -> list[StoredEntry]:
        """Stored entries that might be ``entry``'s story, through indexes only: the same
        canonical URL, the same fingerprint, or a shared signature band in the window."""
        clauses: list[str] = []
        params: list[Any] = []
        if entry.canonical_url:
            clauses.append("canonical_url = ?")
            params.append(entry.canonical_url)
        if entry.content_hash:  # the "!= ''" lets SQLite use the partial index
            clauses.append("(content_hash = ? AND content_hash != '')")
            params.append(entry.content_hash)
        if bands and policy.near_duplicates:
            pairs = " OR ".join("(band = ? AND key = ?)" for _ in bands)
            clauses.append(
                f"(id IN (SELECT entry_id FROM entry_bands WHERE {pairs}) "
                "AND published BETWEEN ? AND ?)"
            )
            params += [value for pair in bands for value in pair]
            params += [iso(entry.published - policy.window), iso(entry.published + policy.window)]
        if not clauses or not policy.enabled:
            return []
        return self._stored_entries(" OR ".join(clauses), params)

    def _stored_entries(self, where: str, params: Sequence[Any]) -> list[StoredEntry]:
        # originals first, then the oldest copies, at most MAX_CANDIDATES: a story that
        # 10,000 sources syndicate must not make each new copy read all the others
        sql = (
            "SELECT id, source_id, key, revision, published, canonical_url, content_hash, "
            "duplicate_of, title, language, signature, shingles, numbers "
            f"FROM entries WHERE {where} ORDER BY duplicate_of IS NOT NULL, id "
            f"LIMIT {MAX_CANDIDATES}"
        )
        return [
            StoredEntry(
                id=row["id"],
                source_id=row["source_id"],
                key=row["key"],
                revision=row["revision"],
                published=from_iso(row["published"]),
                canonical_url=row["canonical_url"],
                content_hash=row["content_hash"],
                duplicate_of=row["duplicate_of"],
                title=row["title"],
                language=row["language"],
                signature=unpack_signature(row["signature"]),
                shingles=row["shingles"],
                numbers=tuple(json.loads(row["numbers"])),
            )
            for row in self._named_rows(sql, params)
        ]

    def _apply(
        self, entry: Entry, revision: str, decision: Decision, now: datetime,
        bands: Sequence[tuple[int, int]],
    ) -> None:
        # plain prepared statements: sqlite-utils' insert/update introspect the table on
        # every call, which cost more than the rest of storing an entry together
        if decision.existing_id is None:  # new, or a copy of a stored story
            row = _entry_row(entry, revision, now)
            row |= {"first_seen": iso(now), "duplicate_of": decision.duplicate_of}
            cursor = self.db.execute(_INSERT_ENTRY, row)
            entry_id = cursor.lastrowid
            assert entry_id is not None
            self._merge_clusters(decision)
        elif decision.action == "unchanged":
            self.db.execute("UPDATE entries SET last_seen = ? WHERE id = ?",
                            [iso(now), decision.existing_id])
            return
        else:
            entry_id = decision.existing_id
            row = _entry_row(entry, revision, now)
            if not entry.dated:  # an undated entry keeps its first-seen time as its date
                del row["published"]
            row["updated"] = iso(now)  # when refeed saw the change
            assignments = ", ".join(f"{column} = :{column}" for column in row)
            self.db.execute(f"UPDATE entries SET {assignments} WHERE id = :id",
                            row | {"id": entry_id})
        fresh = decision.existing_id is None  # nothing to delete first
        self._replace_tags(entry_id, entry.tags, fresh)
        self._replace_bands(entry_id, bands, fresh)

    def _merge_clusters(self, decision: Decision) -> None:
        """Fold the clusters an entry bridged into the oldest one."""
        if decision.merge:
            marks = ", ".join("?" for _ in decision.merge)
            self.db.execute(
                f"UPDATE entries SET duplicate_of = ? WHERE id IN ({marks}) "
                f"OR duplicate_of IN ({marks})",
                [decision.duplicate_of, *decision.merge, *decision.merge],
            )

    def _replace_bands(
        self, entry_id: int, bands: Sequence[tuple[int, int]], fresh: bool = False
    ) -> None:
        if not fresh:
            self.db.conn.execute("DELETE FROM entry_bands WHERE entry_id = ?", [entry_id])
        self.db.conn.executemany(
            "INSERT INTO entry_bands (band, key, entry_id) VALUES (?, ?, ?)",
            [(band, key, entry_id) for band, key in bands],
        )

    def _replace_tags(self, entry_id: int, tags: Sequence[str], fresh: bool = False) -> None:
        if not fresh:
            self.db.conn.execute("DELETE FROM entry_tags WHERE entry_id = ?", [entry_id])
        self.db.conn.executemany(
            "INSERT INTO entry_tags (entry_id, tag, folded, original) "
            "SELECT ?1, ?2, ?3, coalesce(duplicate_of, id) FROM entries WHERE id = ?1",
            [(entry_id, tag, tag_fold(tag)) for tag in tags],
        )

    def source_states(self) -> list[dict[str, Any]]:
        """Every stored source row with its number of stored entries."""
        sql = (
            "SELECT sources.*, (SELECT count(*) FROM entries WHERE source_id = sources.id) "
            "AS entries FROM sources ORDER BY id"
        )
        return list(self.db.query(sql))

    def entries(self, query: EntryQuery) -> list[dict[str, Any]]:
        """Timeline rows matching ``query``, newest published first, with their tags."""
        clauses, params = self._entry_filters(query)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            "SELECT entries.*, (SELECT json_group_array(tag) FROM entry_tags "
            "WHERE entry_id = entries.id) AS tags, "
            "(SELECT json_group_array(json_object('id', copy.id, 'source', copy.source_id, "
            "'link', copy.link)) FROM entries AS copy WHERE copy.duplicate_of = entries.id) "
            f"AS copies FROM entries {where} ORDER BY published DESC, id DESC LIMIT ?"
        )
        rows = list(self.db.query(sql, [*params, query.limit]))
        for row in rows:
            for field in ("tags", "authors", "enclosures", "copies"):
                row[field] = json.loads(row[field])
        return rows


    def retag(self, tagger: Tagger, fingerprint: str) -> int:
        """Recompute every entry's tags with ``tagger`` unless the tags already follow the
        rules named by ``fingerprint``; returns how many entries changed."""
        with self._transaction("recompute tags"):
            rows = list(self.db.query("SELECT value FROM meta WHERE key = 'tag_rules'"))
            if rows and rows[0]["value"] == fingerprint:
                return 0
            changed = 0
            sql = (
                "SELECT entries.*, (SELECT json_group_array(tag) FROM entry_tags "
                "WHERE entry_id = entries.id) AS tags FROM entries"
            )
            for row in list(self.db.query(sql)):
                entry = _row_entry(row)
                tags = tagger(entry)
                if {tag_fold(tag) for tag in tags} != {tag_fold(tag) for tag in entry.tags}:
                    retagged = replace(entry, tags=tags)
                    self.db.table("entries").update(
                        row["id"], {"revision": entry_revision(retagged)}
                    )
                    self._replace_tags(row["id"], tags)
                    changed += 1
            self.db.table("meta").upsert({"key": "tag_rules", "value": fingerprint}, pk="key")
        return changed

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read inside as one transaction: every read sees the timeline as it was at the
        first (a poll committing meanwhile shows up in the next snapshot, whole)."""
        if self.db.conn.in_transaction:
            yield
            return
        self.db.conn.execute("BEGIN")
        try:
            yield
        finally:
            if self.db.conn.in_transaction:
                self.db.conn.execute("COMMIT")

    def changes_mark(self) -> ChangesMark:
        """Where the timeline's change log stands now: it moves whenever anything outputs
        are rendered from changes."""
        rows = self.db.execute(
            "SELECT (SELECT value FROM meta WHERE key = 'timeline_id'), "
            "(SELECT seq FROM sqlite_sequence WHERE name = 'timeline_changes')"
        ).fetchone()
        return ChangesMark(str(rows[0]), int(rows[1] or 0))

    def changes_since(self, mark: ChangesMark) -> TimelineChanges | None:
        """What changed in the timeline after ``mark`` (up to now); ``None`` when that is
        no longer known: the log was forgotten past it, or it is another timeline's."""
        now = self.changes_mark()
        forgotten = self.db.execute(
            "SELECT value FROM meta WHERE key = 'changes_forgotten'").fetchone()
        if mark.timeline != now.timeline or mark.position < int(forgotten[0]):
            return None
        entries: set[int] = set()
        tag_uses: dict[tuple[str, int], str | None] = {}
        rows = self.db.conn.execute(
            "SELECT entry_id, folded, spelling FROM timeline_changes "
            "WHERE seq > ? AND seq <= ? ORDER BY seq", [mark.position, now.position])
        for entry_id, folded, spelling in rows:
            if entry_id is not None:
                entries.add(entry_id)
            if folded is not None:  # the first change of a use since the mark: before it
                tag_uses.setdefault((folded, entry_id), spelling)
        return TimelineChanges(now, frozenset(entries), tag_uses)

    def forget_changes(self, mark: ChangesMark) -> None:
        """Drop the change log up to ``mark`` (a publish has read it)."""
        with self._transaction("forget read changes"):
            self.db.execute("DELETE FROM timeline_changes WHERE seq <= ?", [mark.position])
            self.db.execute(
                "UPDATE meta SET value = max(CAST(value AS INTEGER), ?) "
                "WHERE key = 'changes_forgotten'", [mark.position])

    def tag_spellings(self, uses: Collection[tuple[str, int]]) -> dict[tuple[str, int], str]:
        """The spelling each tag use ``(folded, original)`` counts under now (the
        smallest of its rows'); uses that no longer exist are left out."""
        found: dict[tuple[str, int], str] = {}
        sql = ("SELECT min(tag) FROM entry_tags INDEXED BY entry_tags_usage "
               "WHERE folded = ? AND original = ?")
        for use in uses:
            (spelling,) = self.db.conn.execute(sql, use).fetchone()
            if spelling is not None:
                found[use] = spelling
        return found

    def places(self, ids: Collection[int]) -> dict[int, Listed]:
        """The originals among ``ids`` as listings remember them (place, date)."""
        rows = self._originals_rows("SELECT id, published, source_id, key, updated", ids)
        return {
            row["id"]: Listed(row["id"], (-from_iso(row["published"]).timestamp(),
                                          row["source_id"], row["key"]), from_iso(row["updated"]))
            for row in rows
        }

    def originals(self, ids: Collection[int]) -> dict[int, Entry]:
        """The originals among ``ids``, as outputs list them (see :meth:`timeline`)."""
        return {row["id"]: _row_entry(row)
                for row in self._originals_rows(_TIMELINE_COLUMNS, ids)}

    def _originals_rows(self, select: str, ids: Collection[int]) -> Iterator[dict[str, Any]]:
        """``select`` (its column list) of the originals among ``ids``, read a chunk of
        ids at a time."""
        ordered = sorted(ids)
        for start in range(0, len(ordered), ID_CHUNK):
            chunk = ordered[start:start + ID_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            yield from self.db.query(
                f"{select} FROM entries WHERE id IN ({marks}) AND duplicate_of IS NULL", chunk)

    def tag_counts(self) -> list[dict[str, Any]]:
        """``{tag, language, entries}`` for every tag and language of the timeline."""
        sql = (
            "SELECT tag, language, count(*) AS entries FROM entry_tags "
            "JOIN entries ON entries.id = entry_tags.entry_id WHERE duplicate_of IS NULL "
            "GROUP BY folded, language ORDER BY folded, language"
        )
        return list(self.db.query(sql))

    def timeline(self) -> list[Entry]:
        """Every original (non-duplicate) entry, in timeline order. An original also
        carries the tags of its duplicates: it stands for them in tag outputs."""
        return list(self.candidates(Output("all", "", "all")))

    def candidates(self, output: Output) -> Iterator[Entry]:
        """The originals that pass ``output``'s tag, language and source filters, in
        timeline order (newest published first, then source and key): walked down a
        timeline index and read lazily, so taking the first 50 reads about 50 — or, for
        a rare tag, looked up through the tag index and sorted."""
        return (_row_entry(row) for row in self._candidate_rows(output))

    def numbered_candidates(self, output: Output) -> Iterator[tuple[int, Entry]]:
        """:meth:`candidates` with their ids."""
        return ((row["id"], _row_entry(row)) for row in self._candidate_rows(output))

    def _candidate_rows(self, output: Output) -> Iterator[dict[str, Any]]:
        folded = sorted({tag_fold(tag) for tag in output.tags})
        tagged = self._tagged_rows(folded, output.languages) if folded else None
        if tagged == 0:
            return
        sparse = tagged is not None and tagged <= self.sparse_tag_rows
        # a walk for one language follows that language's own timeline (m014); anything
        # else keeps SQLite off that index (the unary +): for several languages, or a
        # rare tag's few entries, it would read every original of the language
        walk_language = len(output.languages) == 1 and not sparse
        clauses, params = ["duplicate_of IS NULL"], []
        language = "language" if walk_language else "+language"
        for column, values in ((language, output.languages), ("source_id", output.sources)):
            if values:
                clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
                params += list(values)
        if folded:
            clauses.append((_indexed_tag_clause if sparse else _walked_tag_clause)(folded))
            params += folded
        where = " AND ".join(clauses)
        if sparse:
            yield from self._sorted_first(where, params)
            return
        walk = "INDEXED BY entries_language_timeline" if walk_language else ""
        sql = f"{_TIMELINE_COLUMNS} FROM entries {walk} WHERE {where} {_TIMELINE_ORDER}"
        yield from self.db.query(sql, params)

    def _sorted_first(self, where: str, params: Sequence[Any]) -> Iterator[dict[str, Any]]:
        """The rows ``where`` selects off the timeline index, in timeline order: their
        ids sorted first, then full rows read a chunk at a time. Sorting the full rows
        (with their tags and copies, computed per row) cost 30–60 ms per output at 1M."""
        order = f"SELECT id FROM entries WHERE {where} {_TIMELINE_ORDER}"
        ids = [entry_id for (entry_id,) in self.db.conn.execute(order, list(params))]
        for start in range(0, len(ids), READ_CHUNK):
            chunk = ids[start:start + READ_CHUNK]
            sql = f"{_TIMELINE_COLUMNS} FROM entries WHERE id IN ({', '.join('?' for _ in chunk)})"
            rows = {row["id"]: row for row in self.db.query(sql, chunk)}
            # a row deleted since the ids were read (a prune) is skipped
            yield from (rows[entry_id] for entry_id in chunk if entry_id in rows)

    def _tagged_rows(self, folded: Sequence[str], languages: Sequence[str]) -> int:
        """How many entries carry one of the ``folded`` tags and stand for an original in
        one of ``languages`` (any language when empty), counted up to one past
        :attr:`sparse_tag_rows`."""
        tag_marks = ", ".join("?" for _ in folded)
        sql = f"SELECT 1 FROM entry_tags WHERE folded IN ({tag_marks})"
        if languages:
            sql = (
                "SELECT 1 FROM entry_tags INDEXED BY entry_tags_usage"
                " CROSS JOIN entries AS original INDEXED BY entries_facets"
                " ON original.id = entry_tags.original"
                f" WHERE folded IN ({tag_marks})"
                f" AND original.language IN ({', '.join('?' for _ in languages)})"
            )
        limited = f"SELECT count(*) FROM ({sql} LIMIT ?)"
        params = [*folded, *languages, self.sparse_tag_rows + 1]
        return int(self.db.execute(limited, params).fetchone()[0])

    def tag_usage(self) -> dict[str, int]:
        """:func:`refeed.select.tag_usage` of the timeline, counted by SQLite: how many
        originals carry each tag (their own or a duplicate's), under its most used
        spelling."""
        return usage_of(self.tag_spelling_counts())

    def tag_spelling_counts(self) -> dict[str, dict[str, int]]:
        """For each folded tag, how many originals carry it under each spelling (an
        original whose rows spell it several ways counts under the smallest)."""
        sql = """
            SELECT folded, tag, count(*) AS uses FROM (
                SELECT folded, original, min(tag) AS tag
                FROM entry_tags INDEXED BY entry_tags_usage
                GROUP BY folded, original
            ) GROUP BY folded, tag
        """
        spellings: dict[str, dict[str, int]] = {}
        for folded, tag, uses in self.db.conn.execute(sql):
            spellings.setdefault(folded, {})[tag] = uses
        return spellings

    def _entry_filters(self, query: EntryQuery) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if not query.include_duplicates:
            clauses.append("duplicate_of IS NULL")
        if query.tag:
            clauses.append("id IN (SELECT entry_id FROM entry_tags WHERE folded = ?)")
            params.append(tag_fold(query.tag))
        if query.language:
            clauses.append("language = ?")
            params.append(query.language)
        if query.source_id:
            clauses.append("source_id = ?")
            params.append(query.source_id)
        if query.search:
            clauses.append("id IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?)")
            params.append(self.db.quote_fts(query.search))
        return clauses, params


@lru_cache(maxsize=64)
def _source_update(columns: tuple[str, ...]) -> str:
    """The UPDATE of a source row's ``columns`` (a poll writes one of a few sets)."""
    assignments = ", ".join(f"{column} = :{column}" for column in columns)
    return f"UPDATE sources SET {assignments} WHERE id = :source_id"


def _walked_tag_clause(folded: Sequence[str]) -> str:
    """"The entry or a copy carries one of ``folded``", checked entry by entry while the
    timeline index is walked: for a common tag the first 50 come after a few hundred
    rows. A tag row names the original it counts for (m013): one index probe a row."""
    marks = ", ".join("?" for _ in folded)
    return (
        "EXISTS (SELECT 1 FROM entry_tags INDEXED BY entry_tags_usage"
        f" WHERE folded IN ({marks}) AND original = entries.id)"
    )


def _indexed_tag_clause(folded: Sequence[str]) -> str:
    """The same condition through the tag index: for a rare tag, the originals its rows
    count for are looked up and sorted (walking the timeline would read all of it)."""
    marks = ", ".join("?" for _ in folded)
    return (
        "id IN (SELECT original FROM entry_tags INDEXED BY entry_tags_usage"
        f" WHERE folded IN ({marks}))"
    )


def _entry_row(entry: Entry, revision: str, now: datetime) -> dict[str, Any]:
    return {
        "source_id": entry.source_id,
        "key": entry.key,
        "guid": entry.guid,
        "link": entry.link,
        "canonical_url": entry.canonical_url,
        "title": entry.title,
        "summary": entry.summary,
        "content": entry.content,
        "authors": json.dumps(entry.authors, ensure_ascii=False),
        "published": iso(entry.published),
        "updated": iso(entry.updated),
        "dated": entry.dated,
        "language": entry.language,
        "enclosures": json.dumps(
            [{"url": e.url, "type": e.type, "length": e.length} for e in entry.enclosures]
        ),
        "content_hash": entry.content_hash,
        "revision": revision,
        "last_seen": iso(now),
        "declared_language": entry.declared_language,
        "detected_language": entry.detected_language,
        "language_confidence": entry.language_confidence,
        "categories": json.dumps(entry.categories, ensure_ascii=False),
        "signature": pack_signature(entry.signature),
        "shingles": entry.shingles,
        "numbers": json.dumps(entry.numbers),
    }


def _row_entry(row: dict[str, Any]) -> Entry:
    """A stored row (with its ``tags`` as a JSON array) back as an :class:`Entry`."""
    tags: list[str] = json.loads(row["tags"])
    return Entry(
        source_id=row["source_id"],
        key=row["key"],
        guid=row["guid"],
        link=row["link"],
        canonical_url=row["canonical_url"],
        title=row["title"],
        summary=row["summary"],
        content=row["content"],
        authors=tuple(json.loads(row["authors"])),
        published=from_iso(row["published"]),
        updated=from_iso(row["updated"]),
        dated=bool(row["dated"]),
        tags=unique_tags(tags),
        language=row["language"],
        enclosures=tuple(Enclosure(**item) for item in json.loads(row["enclosures"])),
        content_hash=row["content_hash"],
        declared_language=row["declared_language"],
        detected_language=row["detected_language"],
        language_confidence=row["language_confidence"],
        categories=tuple(json.loads(row["categories"])),
        signature=unpack_signature(row["signature"]),
        shingles=row["shingles"],
        numbers=tuple(json.loads(row["numbers"])),
        seen_in=tuple(
            (copy["source"], copy["link"] or "") for copy in json.loads(row.get("seen_in") or "[]")
        ),
    )

