"""The connection every part of the SQLite store shares, and its transactions."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlite_utils

from refeed.errors import StoreError

# Writing transactions take the write lock first, waiting for it (the connection's busy
# timeout): one that read first cannot get it once another connection — the daemon's
# publish thread — has committed since, and fails at once with "database is locked".
BEGIN_WRITING = "BEGIN IMMEDIATE"


class StoreBase:
    """One SQLite connection and the transactions of refeed's store on it."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._batch_until: float | None = None  # inside batch(): when to commit next
        self._batch_seconds = 0.0

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def batch(self, seconds: float = 1.0) -> Iterator[None]:
        """Group the polls recorded inside into transactions of about ``seconds``: one
        commit per source costs more than storing a 304, and every commit writes again
        the index pages it changed. Each poll stays atomic (a savepoint), and a crash
        loses at most the last ``seconds`` of polls — entries and validators together,
        so those sources are simply fetched again."""
        if self.db.conn.in_transaction:
            yield
            return
        self.db.conn.execute(BEGIN_WRITING)
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
            self.db.conn.execute(BEGIN_WRITING)
            self._batch_until = time.monotonic() + self._batch_seconds

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
                conn.execute(BEGIN_WRITING)
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

    def _named_rows(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Rows readable by column name, straight from the connection: sqlite-utils'
        ``query()`` wraps every read in a savepoint, a cost on the per-entry path."""
        cursor = self.db.conn.cursor()
        cursor.row_factory = sqlite3.Row
        return cursor.execute(sql, list(params))
