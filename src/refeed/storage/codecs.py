"""How values that SQLite has no type for are stored: moments as sortable ISO 8601 text,
MinHash signatures as BLOBs, and entries as rows."""

from __future__ import annotations

import json
from array import array
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from refeed.model import Enclosure, Entry
from refeed.normalize import unique_tags


def pack_signature(values: Sequence[int]) -> bytes | None:
    """A signature as a BLOB (``None`` when there is none)."""
    return array("I", values).tobytes() if values else None


def unpack_signature(blob: bytes | None) -> tuple[int, ...]:
    """Inverse of :func:`pack_signature`."""
    return tuple(array("I", blob)) if blob else ()


def iso(moment: datetime) -> str:
    """``2026-10-04T05:40:00Z``: sortable as text, always UTC, the year in four digits
    (``strftime("%Y")`` writes the year 103 as ``103``)."""
    if moment.tzinfo is not UTC:  # naive (local time) or another zone
        moment = moment.astimezone(UTC)
    return moment.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def from_iso(text: str) -> datetime:
    """Inverse of :func:`iso`; also reads the unpadded years earlier versions wrote."""
    year, dash, rest = text.partition("-")
    return datetime.fromisoformat(year.zfill(4) + dash + rest)


ENTRY_COLUMNS = (
    "source_id", "key", "guid", "link", "canonical_url", "title", "summary", "content",
    "authors", "published", "updated", "dated", "language", "enclosures", "content_hash",
    "revision", "last_seen", "declared_language", "detected_language",
    "language_confidence", "categories", "signature", "shingles", "numbers",
    "names", "headline", "stem_signature", "stems", "dates", "first_seen", "duplicate_of",
)


def entry_row(entry: Entry, revision: str, now: datetime) -> dict[str, Any]:
    """The columns of ``entry``'s row as of ``now`` (all of :data:`ENTRY_COLUMNS` but
    ``first_seen`` and ``duplicate_of``)."""
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
        "names": json.dumps(entry.names, ensure_ascii=False),
        "headline": json.dumps(entry.headline, ensure_ascii=False),
        "stem_signature": pack_signature(entry.stem_signature),
        "stems": entry.stems,
        "dates": json.dumps(entry.dates),
    }


def likeness_columns(row: Mapping[str, Any]) -> dict[str, Any]:
    """What deduplication compares, decoded from a stored row: the fields
    :class:`Entry` and :class:`~refeed.model.StoredEntry` share for it."""
    return {
        "signature": unpack_signature(row["signature"]),
        "shingles": row["shingles"],
        "numbers": tuple(json.loads(row["numbers"])),
        "names": tuple(json.loads(row["names"])),
        "headline": tuple(json.loads(row["headline"])),
        "stem_signature": unpack_signature(row["stem_signature"]),
        "stems": row["stems"],
        "dates": tuple(json.loads(row["dates"])),
    }


def row_entry(row: dict[str, Any]) -> Entry:
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
        **likeness_columns(row),
        seen_in=tuple(
            (copy["source"], copy["link"] or "") for copy in json.loads(row.get("seen_in") or "[]")
        ),
    )
