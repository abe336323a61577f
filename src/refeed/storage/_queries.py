"""Queries for the command line: ``refeed entries``, ``refeed tags``, backups."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refeed.errors import StoreError
from refeed.storage._base import StoreBase
from refeed.text import tag_fold


@dataclass(frozen=True)
class EntryQuery:
    """Filters for :meth:`Store.entries`; empty fields do not filter."""

    tag: str | None = None
    language: str | None = None
    source_id: str | None = None
    search: str | None = None
    limit: int = 20
    include_duplicates: bool = False


class QueriesMixin(StoreBase):
    """What the CLI reads besides sources' state."""

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

    def tag_counts(self) -> list[dict[str, Any]]:
        """``{tag, language, entries}`` for every tag and language of the timeline."""
        sql = (
            "SELECT tag, language, count(*) AS entries FROM entry_tags "
            "JOIN entries ON entries.id = entry_tags.entry_id WHERE duplicate_of IS NULL "
            "GROUP BY folded, language ORDER BY folded, language"
        )
        return list(self.db.query(sql))

    def backup(self, path: Path) -> None:
        """A consistent copy of the database at ``path`` (``VACUUM INTO``), safe while the
        daemon writes."""
        if path.exists():
            raise StoreError("backup target already exists", str(path))
        try:
            self.db.execute("VACUUM INTO ?", [str(path)])
        except sqlite3.Error as error:
            raise StoreError("cannot write backup", str(path)) from error

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
