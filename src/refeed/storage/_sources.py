"""Sources and their poll state: one row per configured source."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from refeed.config import SourceConfig
from refeed.model import ErrorInfo, PollState, Validators
from refeed.sourcestate import fetch_url, reset_on_new_url
from refeed.storage._base import StoreBase
from refeed.storage.codecs import from_iso


class SourcesMixin(StoreBase):
    """Reading and writing the ``sources`` table."""

    def sync_sources(self, sources: Sequence[SourceConfig]) -> None:
        """Make sure every configured source has a row (URL changes reset validators)."""
        stored = dict(self.db.execute("SELECT id, url FROM sources").fetchall())
        with self._transaction("record sources"):
            for source in sources:
                if source.id not in stored:
                    self.db.execute("INSERT INTO sources (id, url) VALUES (?, ?)",
                                    [source.id, source.url])
                elif stored[source.id] != source.url:
                    self._update_source(source.id, {"url": source.url} | reset_on_new_url())

    def _update_source(self, source_id: str, values: Mapping[str, Any]) -> None:
        self.db.conn.execute(_source_update(tuple(values)), {**values, "source_id": source_id})

    def poll_state(self, source_id: str, grace: int) -> PollState:
        """What the next poll of ``source_id`` needs from the previous ones; the fetch URL
        is the permanent redirect's target once seen ``grace`` polls in a row."""
        row = self._named_rows("SELECT * FROM sources WHERE id = ?", [source_id]).fetchone()
        return PollState() if row is None else _poll_state(row, grace)

    def poll_states(self, grace: int) -> dict[str, PollState]:
        """:meth:`poll_state` of every source, read at once (a poll of many sources)."""
        return {row["id"]: _poll_state(row, grace)
                for row in self._named_rows("SELECT * FROM sources")}

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

    def source_states(self) -> list[dict[str, Any]]:
        """Every stored source row with its number of stored entries."""
        sql = (
            "SELECT sources.*, (SELECT count(*) FROM entries WHERE source_id = sources.id) "
            "AS entries FROM sources ORDER BY id"
        )
        return list(self.db.query(sql))


def _poll_state(row: sqlite3.Row, grace: int) -> PollState:
    """A source row as the state its next poll starts from."""
    pace = row["pace"]
    return PollState(
        validators=Validators(row["etag"], row["last_modified"]),
        failures=int(row["failures"]),
        fetch_url=fetch_url(row["moved_to"], int(row["moved_polls"] or 0), grace),
        url=row["url"],
        moved_to=row["moved_to"],
        moved_polls=int(row["moved_polls"] or 0),
        pace=None if pace is None else timedelta(seconds=pace),
        body_digest=row["body_digest"],
        body_error=ErrorInfo(**json.loads(row["body_error"])) if row["body_error"] else None,
        item_digests_json=row["item_digests"],
        feed_hints=json.loads(row["feed_hints"]),
    )


@lru_cache(maxsize=64)
def _source_update(columns: tuple[str, ...]) -> str:
    """The UPDATE of a source row's ``columns`` (a poll writes one of a few sets)."""
    assignments = ", ".join(f"{column} = :{column}" for column in columns)
    return f"UPDATE sources SET {assignments} WHERE id = :source_id"
