"""The timeline as outputs read it: originals in published order, selected through
indexes; the change log a publish reads and forgets; retention."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from refeed.model import Entry
from refeed.select import Listed, Output
from refeed.storage._base import StoreBase
from refeed.storage.codecs import from_iso, iso, row_entry
from refeed.text import tag_fold

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
READ_CHUNK = 64  # full timeline rows read at once when their order is known first
ID_CHUNK = 500  # ids looked up by one query (SQLite allows 32,766 parameters)
MAX_CHANGE_ROWS = 1_000_000  # the change log's rows kept unpublished (~40 MB), at most


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


class TimelineMixin(StoreBase):
    """Reading the timeline for outputs, its change log, and pruning it."""

    sparse_tag_rows = SPARSE_TAG_ROWS
    max_change_rows = MAX_CHANGE_ROWS

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
        """The originals among ``ids``, as outputs list them (see :meth:`candidates`)."""
        return {row["id"]: row_entry(row)
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

    def candidates(self, output: Output) -> Iterator[tuple[int, Entry]]:
        """The originals (with their ids) that pass ``output``'s tag, language and source
        filters, in timeline order (newest published first, then source and key): walked
        down a timeline index and read lazily, so taking the first 50 reads about 50 — or,
        for a rare tag, looked up through the tag index and sorted. An original also
        carries the tags of its duplicates: it stands for them in tag outputs."""
        return ((row["id"], row_entry(row)) for row in self._candidate_rows(output))

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
