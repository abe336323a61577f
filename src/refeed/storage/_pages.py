"""Article pages: which entries' pages are due, and what a page gave (issue 20).

Each entry of a source with ``pages`` on gets a row in ``entry_pages`` for the revision
of the entry its page is read for: a new entry, or one the feed updated, is due at once;
an entry seen again unchanged is not (a re-poll fetches no page). A failed page is tried
again, backing off, up to ``pages.retries`` times; its entry stays published from its
feed data meanwhile, and after. What a page gives changes the entry's content, tags and
the text dedup compares — never its revision, so the next poll does not take the entry
for an updated one.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from refeed.dedup import band_keys
from refeed.model import Entry, ErrorInfo, PageJob
from refeed.storage._ingest import IngestMixin
from refeed.storage.codecs import iso, pack_signature, row_entry


class PagesMixin(IngestMixin):
    """Queueing article pages and storing what they gave."""

    def queue_pages(self, source_ids: Collection[str], now: datetime) -> int:
        """Make due the pages of ``source_ids``' entries not read for their current
        revision; returns how many became due."""
        if not source_ids:
            return 0
        marks = ", ".join("?" for _ in source_ids)
        with self._transaction("queue article pages"):
            cursor = self.db.execute(
                "INSERT INTO entry_pages (entry_id, revision, state, attempts, next_try) "
                "SELECT id, revision, 'due', 0, ? FROM entries WHERE source_id IN "
                f"({marks}) AND link IS NOT NULL "
                "ON CONFLICT (entry_id) DO UPDATE SET revision = excluded.revision, "
                "state = 'due', attempts = 0, next_try = excluded.next_try, error = NULL "
                "WHERE entry_pages.revision != excluded.revision",
                [iso(now), *source_ids])
            return cursor.rowcount

    def due_pages(self, source_ids: Collection[str], now: datetime, limit: int) -> list[PageJob]:
        """The pages due by ``now``, the longest waiting first."""
        if not source_ids:
            return []
        marks = ", ".join("?" for _ in source_ids)
        rows = self.db.execute(
            "SELECT entry_pages.entry_id, source_id, link, entry_pages.revision, attempts "
            "FROM entry_pages JOIN entries ON entries.id = entry_pages.entry_id "
            f"WHERE state = 'due' AND next_try <= ? AND source_id IN ({marks}) "
            "ORDER BY next_try, entry_pages.entry_id LIMIT ?",
            [iso(now), *source_ids, limit]).fetchall()
        return [PageJob(*row) for row in rows]

    def entry(self, entry_id: int) -> Entry | None:
        """The stored entry ``entry_id`` (None when it is gone)."""
        rows = list(self.db.query(
            "SELECT entries.*, (SELECT json_group_array(tag) FROM entry_tags "
            "WHERE entry_id = entries.id) AS tags FROM entries WHERE id = ?", [entry_id]))
        return row_entry(rows[0]) if rows else None

    def record_page(self, job: PageJob, completed: Entry, page_tags: Sequence[str], *,
                    full_text: bool, now: datetime) -> None:
        """Store what the page of ``job`` gave: ``completed`` is its entry with the page's
        tags and text (see :func:`refeed.pages.with_page`), ``page_tags`` the tags as the
        page wrote them (kept, so new aliases map them again), ``full_text`` whether its
        content is the page's article. An entry the feed updated since the page was
        queued is left as it is: its new revision has a page due."""
        with self._transaction(f"store the page of entry {job.entry_id}"):
            current = self.db.execute("SELECT revision FROM entries WHERE id = ?",
                                      [job.entry_id]).fetchone()
            if current is None or current[0] != job.revision:
                return
            self.db.execute(
                "UPDATE entries SET content = ?, signature = ?, shingles = ?, "
                "numbers = ?, names = ?, headline = ?, stem_signature = ?, stems = ?, "
                "dates = ?, language = ?, detected_language = ?, language_confidence = ? "
                "WHERE id = ?",
                [completed.content, pack_signature(completed.signature), completed.shingles,
                 json.dumps(completed.numbers), json.dumps(completed.names, ensure_ascii=False),
                 json.dumps(completed.headline, ensure_ascii=False),
                 pack_signature(completed.stem_signature), completed.stems,
                 json.dumps(completed.dates), completed.language, completed.detected_language,
                 completed.language_confidence, job.entry_id])
            self._replace_tags(job.entry_id, completed.tags)
            self._replace_bands(job.entry_id, band_keys(completed.signature))
            self._replace_facts(job.entry_id, completed)
            self.db.execute(
                "UPDATE entry_pages SET state = 'read', fetched = ?, error = NULL, "
                "tags = ?, full_text = ? WHERE entry_id = ?",
                [iso(now), json.dumps(list(page_tags), ensure_ascii=False), int(full_text),
                 job.entry_id])

    def record_page_failure(self, job: PageJob, error: ErrorInfo, now: datetime,
                            retry_at: datetime | None) -> None:
        """Note that the page of ``job`` failed; it is due again at ``retry_at`` (None:
        given up)."""
        with self._transaction(f"note the failed page of entry {job.entry_id}"):
            self.db.execute(
                "UPDATE entry_pages SET state = ?, attempts = attempts + 1, next_try = ?, "
                "error = ?, fetched = ? WHERE entry_id = ? AND revision = ?",
                ["due" if retry_at else "failed", iso(retry_at) if retry_at else None,
                 json.dumps({"kind": error.kind, "message": error.message}), iso(now),
                 job.entry_id, job.revision])

    def page_states(self, ids: Collection[int]) -> dict[int, dict[str, Any]]:
        """The page state of each of ``ids`` that has one: state, attempts, error, the
        page's tags and whether the content came from the page."""
        marks = ", ".join("?" for _ in ids)
        rows = self.db.execute(
            "SELECT entry_id, state, attempts, error, tags, full_text, fetched "
            f"FROM entry_pages WHERE entry_id IN ({marks})", list(ids)).fetchall()
        return {row[0]: {"state": row[1], "attempts": row[2],
                         "error": json.loads(row[3]) if row[3] else None,
                         "tags": json.loads(row[4]), "full_text": bool(row[5]),
                         "fetched": row[6]} for row in rows}

    def page_failures(self) -> dict[str, int]:
        """Per source, how many of its entries' pages failed (and are retried or given
        up)."""
        rows = self.db.execute(
            "SELECT source_id, count(*) FROM entry_pages JOIN entries "
            "ON entries.id = entry_pages.entry_id WHERE error IS NOT NULL "
            "GROUP BY source_id").fetchall()
        return dict(rows)
