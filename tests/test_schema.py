"""One schema: a fresh database is created from ``schema.sql`` in one script, and a
database made by an earlier version reaches the very same schema through the
migrations — tables, columns, indexes, triggers and settings alike."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from refeed.config import SourceConfig
from refeed.dedup import DedupPolicy
from refeed.model import FetchResult, ProcessedFeed
from refeed.storage import Store
from refeed.storage.migrations import migrations
from tests.factories import make_entry, stored_timeline

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _normalized(sql: str) -> str:
    """``sql`` without comments and with whitespace that carries no meaning removed."""
    sql = re.sub(r"--[^\n]*", "", sql)
    sql = re.sub(r"\s+", " ", sql).strip()
    return re.sub(r"\s*([(),;=])\s*", r"\1", sql)


def schema_of(db: sqlite_utils.Database) -> dict[str, Any]:
    """Everything that makes a schema, comparable between two databases."""
    conn = db.conn
    objects = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite_autoindex%' ORDER BY type, name").fetchall()
    schema: dict[str, Any] = {}
    for kind, name, table, sql in objects:
        if kind == "table":  # ALTER TABLE rewrites the stored text: compare the columns
            columns = conn.execute(f'PRAGMA table_xinfo("{name}")').fetchall()
            keys = conn.execute(f'PRAGMA foreign_key_list("{name}")').fetchall()
            rowid = "WITHOUT ROWID" in (sql or "").upper()
            schema[f"table {name}"] = (columns, sorted(keys), rowid)
        else:
            schema[f"{kind} {name}"] = (table, _normalized(sql or ""))
    schema["fts settings"] = conn.execute(
        "SELECT k, v FROM entries_fts_config ORDER BY k").fetchall()
    schema["meta keys"] = [key for (key,) in conn.execute("SELECT key FROM meta ORDER BY key")]
    return schema


def migrated(path: Path, stop_before: str | None = None) -> sqlite_utils.Database:
    """A database built the way earlier versions built it: every migration replayed from
    an empty file (up to ``stop_before``)."""
    db = sqlite_utils.Database(sqlite3.connect(path))
    migrations.apply(db, stop_before=stop_before)
    return db


def test_a_fresh_database_has_the_schema_the_migrations_build(tmp_path: Path) -> None:
    fresh = Store.open(tmp_path / "fresh.db")
    replayed = migrated(tmp_path / "replayed.db")
    assert schema_of(fresh.db) == schema_of(replayed)
    fresh.close()


def test_a_fresh_database_has_every_migration_recorded(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "fresh.db")
    assert migrations.pending(store.db) == []
    applied = [migration.name for migration in migrations.applied(store.db)]
    assert applied == [migration.name for migration in migrations.pending(
        sqlite_utils.Database(memory=True))]
    store.close()
    reopened = Store.open(tmp_path / "fresh.db")  # nothing replayed on top of it
    assert schema_of(reopened.db) == schema_of(migrated(tmp_path / "replayed.db"))
    reopened.close()


@pytest.mark.parametrize("previous", ["m017_no_timeline_version", "m016_timeline_changes",
                                      "m013_tag_rows_know_their_original"])
def test_a_database_of_an_earlier_schema_opens_upgraded_with_its_entries(
    tmp_path: Path, previous: str
) -> None:
    old = migrated(tmp_path / "old.db", stop_before=previous)
    old.execute("INSERT INTO sources (id, url) VALUES ('a', 'https://a.example/feed')")
    old.execute(
        "INSERT INTO entries (source_id, key, title, summary, content, authors, published, "
        "updated, dated, enclosures, content_hash, revision, first_seen, last_seen) VALUES "
        "('a', 'old', 'Kept', '', '', '[]', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z', "
        "1, '[]', '', 'r', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')")
    old.conn.commit()
    old.close()
    store = Store.open(tmp_path / "old.db")
    assert schema_of(store.db) == schema_of(migrated(tmp_path / "replayed.db"))
    fetched = FetchResult(source_id="a", url="https://a.example/feed", http_status=200)
    new = make_entry(source_id="a", key="new", published=NOW, updated=NOW)
    store.record_poll(fetched, ProcessedFeed(entries=(new,)), now=NOW,
                      next_due=NOW + timedelta(hours=1), policy=DedupPolicy())
    assert [entry.key for entry in stored_timeline(store)] == ["new", "old"]
    store.sync_sources([SourceConfig(id="a", url="https://a.example/feed")])
    store.close()

