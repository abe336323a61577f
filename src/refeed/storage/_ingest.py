"""Ingest: storing a poll — its entries, deduplicated against the timeline, and its
source's new state — in one transaction, and recomputing tags when the rules change.

One source's poll is one transaction: its entries *and* its new HTTP validators commit
together, so a crash (kill -9, full disk) never leaves an ETag that hides entries we did
not store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from refeed.dedup import (
    MIN_SHARED_FACTS,
    RETRIEVED,
    Comparable,
    DedupPolicy,
    band_keys,
    cluster_originals,
    decide,
    entry_revision,
    fact_keys,
    retell_days,
)
from refeed.errors import StoreError
from refeed.model import (
    Decision,
    Entry,
    FetchResult,
    PollState,
    ProcessedFeed,
    StoreCounts,
    StoredEntry,
)
from refeed.normalize import unique_tags
from refeed.sourcestate import poll_error, polled_source
from refeed.storage._sources import SourcesMixin
from refeed.storage.codecs import (
    ENTRY_COLUMNS,
    entry_row,
    from_iso,
    iso,
    likeness_columns,
    row_entry,
)
from refeed.text import tag_fold

Tagger = Callable[[Entry], tuple[str, ...]]
MAX_CANDIDATES = 64  # stored entries compared with one incoming entry, at most
SHARERS_PER_FACT = 64  # a fact's newest entries read when looking for a retold story
MAX_FACT_KEYS = 200  # facts (per day) of one entry looked up, at most
_INSERT_ENTRY = (
    f"INSERT INTO entries ({', '.join(ENTRY_COLUMNS)}) "
    f"VALUES ({', '.join(':' + column for column in ENTRY_COLUMNS)})"
)


class IngestMixin(SourcesMixin):
    """Writing polls into the timeline."""

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
        if state is None:
            state = self.poll_state(fetched.source_id, 0)
        failed = poll_error(fetched, processed) is not None
        stored = processed.entries if processed is not None and not failed else ()
        with self._transaction(f"store poll of {fetched.source_id}", one_statement=not stored):
            counts = StoreCounts()
            if processed is not None and not failed:
                counts = self._store_entries(stored, now, policy)
                counts = replace(counts, unchanged=counts.unchanged + processed.skipped)
            self._update_source(fetched.source_id, polled_source(
                fetched, processed, state, now=now, next_due=next_due, pace=pace))
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

    def _stored(self, entry: Entry) -> StoredEntry | None:
        rows = self._stored_entries("source_id = ? AND key = ?", [entry.source_id, entry.key])
        return rows[0] if rows else None

    def _candidates(
        self, entry: Comparable, policy: DedupPolicy, bands: Sequence[tuple[int, int]]
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
        found = self._stored_entries(" OR ".join(clauses), params)
        if policy.near_duplicates:
            known = {candidate.id for candidate in found}
            found += [candidate for candidate in self._sharing_facts(entry)
                      if candidate.id not in known]
        return found

    def _sharing_facts(self, entry: Comparable) -> list[StoredEntry]:
        """The stored entries of the same language and days that share the most facts
        with ``entry``: a story retold in other words shares its figures and names, not
        its word pairs (:func:`refeed.dedup.retold`)."""
        days = retell_days(entry.published)
        keys = fact_keys(entry, days)
        if not keys:
            return []
        # two facts in common, or all of one side's: a short summary may name one only
        needed = min(MIN_SHARED_FACTS, len(keys) // len(days))
        # each fact's newest sharers only: a common name is shared by thousands of a
        # day's entries, and grouping them all took most of a busy daemon's time; and a
        # long text's first facts only (SQLite takes 500 SELECTs in one compound)
        keys = keys[:MAX_FACT_KEYS]
        sharers = " UNION ALL ".join(
            "SELECT * FROM (SELECT entry_id FROM entry_facts WHERE key = ? "
            f"ORDER BY entry_id DESC LIMIT {SHARERS_PER_FACT})" for _ in keys)
        ids = [entry_id for (entry_id,) in self.db.conn.execute(
            f"SELECT entry_id FROM ({sharers}) AS shared "
            "GROUP BY entry_id HAVING count(*) >= ? OR count(*) = (SELECT count(*) "
            "FROM entry_facts WHERE entry_facts.entry_id = shared.entry_id) "
            f"ORDER BY count(*) DESC, entry_id DESC LIMIT {RETRIEVED}", [*keys, needed])]
        if not ids:
            return []
        return self._stored_entries(f"id IN ({', '.join('?' for _ in ids)})", ids)

    def stored_entries(self, ids: Collection[int]) -> dict[int, StoredEntry]:
        """What the dedup rules read of the entries ``ids`` (those that exist)."""
        found: dict[int, StoredEntry] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), MAX_CANDIDATES):
            chunk = ordered[start:start + MAX_CANDIDATES]
            marks = ", ".join("?" for _ in chunk)
            found |= {row.id: row for row in self._stored_entries(f"id IN ({marks})", chunk)}
        return found

    def _stored_entries(self, where: str, params: Sequence[Any]) -> list[StoredEntry]:
        # originals first, then the oldest copies, at most MAX_CANDIDATES: a story that
        # 10,000 sources syndicate must not make each new copy read all the others
        sql = (
            "SELECT id, source_id, key, revision, published, canonical_url, content_hash, "
            "duplicate_of, title, language, signature, shingles, numbers, names, headline, "
            "stem_signature, stems, dates, EXISTS ("
            "SELECT 1 FROM dedup_overrides WHERE entry_id = entries.id AND action = 'split'"
            ") AS kept_apart "
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
                **likeness_columns(row),
                kept_apart=bool(row["kept_apart"]),
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
            row = entry_row(entry, revision, now)
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
            row = entry_row(entry, revision, now)
            if not entry.dated:  # an undated entry keeps its first-seen time as its date
                del row["published"]
            row["updated"] = iso(now)  # when refeed saw the change
            assignments = ", ".join(f"{column} = :{column}" for column in row)
            self.db.execute(f"UPDATE entries SET {assignments} WHERE id = :id",
                            row | {"id": entry_id})
        fresh = decision.existing_id is None  # nothing to delete first
        self._replace_tags(entry_id, entry.tags, fresh)
        self._replace_bands(entry_id, bands, fresh)
        self._replace_facts(entry_id, entry, fresh)

    def _merge_clusters(self, decision: Decision) -> None:
        """Fold the clusters an entry bridged into the oldest one."""
        if decision.merge:
            marks = ", ".join("?" for _ in decision.merge)
            self.db.execute(
                f"UPDATE entries SET duplicate_of = ? WHERE id IN ({marks}) "
                f"OR duplicate_of IN ({marks})",
                [decision.duplicate_of, *decision.merge, *decision.merge],
            )

    def split(self, entry_id: int, now: datetime) -> None:
        """Take an entry out of its cluster for good: it becomes an original that nothing
        joins (until :meth:`reset`); if it was its cluster's original, the oldest copy
        takes its place."""
        with self._transaction(f"split entry {entry_id}"):
            self._detach(entry_id)
            self._override(entry_id, "split", None, now)

    def merge(self, entry_id: int, other_id: int, now: datetime) -> None:
        """Put ``other_id``'s cluster into ``entry_id``'s for good (until :meth:`reset`):
        the older original stands for both."""
        with self._transaction(f"merge entries {entry_id} and {other_id}"):
            roots = sorted({self._root(entry_id), self._root(other_id)})
            if len(roots) == 2:
                self.db.execute("UPDATE entries SET duplicate_of = ? WHERE id = ? "
                                "OR duplicate_of = ?", [roots[0], roots[1], roots[1]])
            self.db.execute("DELETE FROM dedup_overrides WHERE entry_id IN (?, ?)",
                            [entry_id, other_id])
            self._override(other_id, "merge", entry_id, now)

    def reset(self, entry_id: int, policy: DedupPolicy) -> None:
        """Forget an admin's split or merge of ``entry_id``: it leaves its cluster and
        joins what the rules say it is a copy of, as if it had just arrived."""
        with self._transaction(f"reset entry {entry_id}"):
            self.db.execute("DELETE FROM dedup_overrides WHERE entry_id = ?", [entry_id])
            self._detach(entry_id)
            [entry] = self._stored_entries("id = ?", [entry_id])
            candidates = [candidate for candidate in
                          self._candidates(entry, policy, band_keys(entry.signature))
                          if entry_id not in (candidate.id, candidate.duplicate_of)]
            originals = sorted(cluster_originals(entry, candidates, policy))
            if originals:
                self.db.execute("UPDATE entries SET duplicate_of = ? WHERE id = ?",
                                [originals[0], entry_id])
                self._merge_clusters(Decision("duplicate", duplicate_of=originals[0],
                                              merge=tuple(originals[1:])))

    def overrides(self, ids: Collection[int]) -> dict[int, str]:
        """The admin's split or merge of each of ``ids`` that has one."""
        marks = ", ".join("?" for _ in ids)
        rows = self.db.execute(f"SELECT entry_id, action FROM dedup_overrides "
                               f"WHERE entry_id IN ({marks})", list(ids)).fetchall()
        return dict(rows)

    def _root(self, entry_id: int) -> int:
        row = self.db.execute("SELECT coalesce(duplicate_of, id) FROM entries WHERE id = ?",
                              [entry_id]).fetchone()
        if row is None:
            raise StoreError(f"no entry with id {entry_id}")
        return int(row[0])

    def _detach(self, entry_id: int) -> None:
        """Make ``entry_id`` an original alone; its copies, if any, follow the oldest."""
        self._root(entry_id)  # it exists
        copies = [copy for (copy,) in self.db.execute(
            "SELECT id FROM entries WHERE duplicate_of = ? ORDER BY id", [entry_id])]
        if copies:
            self.db.execute("UPDATE entries SET duplicate_of = ? WHERE duplicate_of = ? "
                            "AND id != ?", [copies[0], entry_id, copies[0]])
            self.db.execute("UPDATE entries SET duplicate_of = NULL WHERE id = ?", [copies[0]])
        self.db.execute("UPDATE entries SET duplicate_of = NULL WHERE id = ?", [entry_id])

    def _override(self, entry_id: int, action: str, other_id: int | None, now: datetime) -> None:
        self.db.execute("INSERT OR REPLACE INTO dedup_overrides (entry_id, action, other_id, "
                        "created) VALUES (?, ?, ?, ?)", [entry_id, action, other_id, iso(now)])

    def _replace_facts(self, entry_id: int, entry: Entry, fresh: bool = False) -> None:
        if not fresh:
            self.db.conn.execute("DELETE FROM entry_facts WHERE entry_id = ?", [entry_id])
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO entry_facts (key, entry_id) VALUES (?, ?)",
            [(key, entry_id) for key in fact_keys(entry)])

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
                "WHERE entry_id = entries.id) AS tags, (SELECT tags FROM entry_pages "
                "WHERE entry_id = entries.id) AS page_tags FROM entries"
            )
            for row in list(self.db.query(sql)):
                entry = row_entry(row)
                feed_tags = tagger(entry)  # what the feed's entry is tagged, and revised, by
                page_tags = json.loads(row["page_tags"] or "[]")
                tags = tagger(replace(entry, categories=unique_tags(
                    (*entry.categories, *page_tags)))) if page_tags else feed_tags
                if {tag_fold(tag) for tag in tags} != {tag_fold(tag) for tag in entry.tags}:
                    self.db.table("entries").update(
                        row["id"], {"revision": entry_revision(replace(entry, tags=feed_tags))}
                    )
                    self._replace_tags(row["id"], tags)
                    changed += 1
            self.db.table("meta").upsert({"key": "tag_rules", "value": fingerprint}, pk="key")
        return changed
