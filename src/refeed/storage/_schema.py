"""Creating and upgrading the database: a fresh one is created from ``schema.sql`` in one
script; one made by an earlier version replays the migrations it has not seen."""

from __future__ import annotations

from importlib.resources import files

import sqlite_utils

from refeed.storage.migrations import migrations

SCHEMA = (files("refeed.storage") / "schema.sql").read_text(encoding="utf-8")


def create_or_upgrade(db: sqlite_utils.Database) -> None:
    """Bring ``db`` to the current schema: create it when the file is new, otherwise
    apply the migrations it lacks."""
    if db.table_names():
        migrations.apply(db)
    else:
        _create(db)


def _create(db: sqlite_utils.Database) -> None:
    """The current schema in one transaction, with every migration recorded as applied
    (a crash half-way leaves an empty file, created again at the next open)."""
    conn = db.conn
    conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}")  # commits nothing yet
    try:
        migrations.ensure_migrations_table(db)
        for migration in migrations.pending(db):
            db.execute(
                f"INSERT INTO {migrations.migrations_table} (migration_set, name, applied_at)"
                " VALUES (?, ?, datetime('now'))", [migrations.name, migration.name])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
