"""Storage: refeed's timeline database, behind a typed interface.

The rest of refeed uses :class:`Storage` (a :class:`typing.Protocol`); :class:`Store`
is its SQLite implementation (sqlite-utils), split by concern like lemon24/reader's:

- ``_base``: the connection and its transactions (batches of polls, snapshots);
- ``_sources``: sources and the state their next poll starts from;
- ``_ingest``: storing a poll (entries deduplicated, source state) in one transaction;
- ``_timeline``: originals in timeline order for outputs, the change log, retention;
- ``_queries``: what the command line reads;
- ``_schema``, ``schema.sql``, ``migrations``: creating and upgrading the database;
- ``codecs``: how moments, signatures and entries are stored.

What a poll *decides* about its source's state is in :mod:`refeed.sourcestate`, and
what it decides about each entry in :mod:`refeed.dedup`; storage only writes it. The
schema and its invariants are described in docs/architecture.md.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import sqlite_utils

from refeed.config import SourceConfig
from refeed.dedup import DedupPolicy
from refeed.errors import StoreError
from refeed.model import (
    Entry,
    ErrorInfo,
    FetchResult,
    PageJob,
    PollState,
    ProcessedFeed,
    StoreCounts,
    StoredEntry,
)
from refeed.select import Listed, Output
from refeed.storage._ingest import Tagger
from refeed.storage._pages import PagesMixin
from refeed.storage._queries import EntryQuery, QueriesMixin
from refeed.storage._schema import create_or_upgrade
from refeed.storage._timeline import ChangesMark, TimelineChanges, TimelineMixin

__all__ = [
    "ChangesMark", "EntryQuery", "Storage", "Store", "Tagger", "TimelineChanges",
    "open_storage",
]

WAL_CHECKPOINT_PAGES = 10_000


@runtime_checkable
class Storage(Protocol):
    """What refeed needs of a timeline database. A second backend implements this."""

    # the connection
    def close(self) -> None: ...
    def batch(self, seconds: float = 1.0) -> AbstractContextManager[None]: ...
    def snapshot(self) -> AbstractContextManager[None]: ...

    # sources and their poll state
    def sync_sources(self, sources: Sequence[SourceConfig]) -> None: ...
    def poll_state(self, source_id: str, grace: int) -> PollState: ...
    def poll_states(self, grace: int) -> dict[str, PollState]: ...
    def recent_published(self, source_id: str, count: int = 10) -> list[datetime]: ...
    def next_due(self, source_id: str) -> datetime | None: ...
    def failing_sources(self) -> int: ...
    def source_states(self) -> list[dict[str, Any]]: ...

    # ingest
    def record_poll(
        self, fetched: FetchResult, processed: ProcessedFeed | None, *, now: datetime,
        next_due: datetime, policy: DedupPolicy, state: PollState | None = None,
        pace: timedelta | None = None,
    ) -> StoreCounts: ...
    def retag(self, tagger: Tagger, fingerprint: str) -> int: ...
    def stored_entries(self, ids: Collection[int]) -> dict[int, StoredEntry]: ...
    def split(self, entry_id: int, now: datetime) -> None: ...
    def merge(self, entry_id: int, other_id: int, now: datetime) -> None: ...
    def reset(self, entry_id: int, policy: DedupPolicy) -> None: ...
    def overrides(self, ids: Collection[int]) -> dict[int, str]: ...

    # article pages
    def queue_pages(self, source_ids: Collection[str], now: datetime) -> int: ...
    def due_pages(self, source_ids: Collection[str], now: datetime,
                  limit: int) -> list[PageJob]: ...
    def entry(self, entry_id: int) -> Entry | None: ...
    def record_page(self, job: PageJob, completed: Entry, page_tags: Sequence[str], *,
                    full_text: bool, now: datetime) -> None: ...
    def record_page_failure(self, job: PageJob, error: ErrorInfo, now: datetime,
                            retry_at: datetime | None) -> None: ...
    def page_states(self, ids: Collection[int]) -> dict[int, dict[str, Any]]: ...
    def page_failures(self) -> dict[str, int]: ...

    # the timeline, its change log, retention
    def candidates(self, output: Output) -> Iterator[tuple[int, Entry]]: ...
    def originals(self, ids: Collection[int]) -> dict[int, Entry]: ...
    def places(self, ids: Collection[int]) -> dict[int, Listed]: ...
    def tag_spelling_counts(self) -> dict[str, dict[str, int]]: ...
    def tag_spellings(
        self, uses: Collection[tuple[str, int]]) -> dict[tuple[str, int], str]: ...
    def changes_mark(self) -> ChangesMark: ...
    def changes_since(self, mark: ChangesMark) -> TimelineChanges | None: ...
    def forget_changes(self, mark: ChangesMark) -> None: ...
    def prune(self, now: datetime, max_age: timedelta,
              max_entries: Mapping[str, int] | None = None) -> int: ...

    # the command line
    def entries(self, query: EntryQuery) -> list[dict[str, Any]]: ...
    def tag_counts(self) -> list[dict[str, Any]]: ...
    def backup(self, path: Path) -> None: ...


class Store(PagesMixin, TimelineMixin, QueriesMixin):
    """The SQLite timeline. Open with :meth:`open`; close with :meth:`close`. The
    database runs in WAL mode so readers (``refeed status``, the server) never block the
    poller."""

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating or upgrading as needed) the database at ``path``."""
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
            create_or_upgrade(db)
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot open database {path}", str(path)) from error
        return cls(db)


def open_storage(path: Path) -> Storage:
    """The timeline database at ``path`` (SQLite; created or upgraded as needed)."""
    return Store.open(path)
