"""PURE: decide what an incoming entry does to the timeline.

For each normalized entry the store looks up (a) the row it already has for the same
source and key and (b) rows of *other* sources that might be the same article; this
module decides, without touching the database:

- ``unchanged``: same source + key, same revision — nothing to write;
- ``updated``:   same source + key, different revision — update in place;
- ``duplicate``: another source already has it (same canonical URL; or same content
  fingerprint with published times within the dedup window) — recorded as
  ``duplicate_of`` the first-seen original, never a new timeline item;
- ``new``:       everything else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import timedelta

from refeed.model import Action, Decision, Entry, StoredEntry


def entry_revision(entry: Entry) -> str:
    """A hash of everything whose change makes a stored entry *updated*. Fallback dates
    (``dated=False``) are left out: they are the fetch time, not the entry's."""
    fields = {
        "title": entry.title,
        "link": entry.link,
        "summary": entry.summary,
        "content": entry.content,
        "authors": entry.authors,
        "tags": entry.tags,
        "language": entry.language,
        "enclosures": [(e.url, e.type, e.length) for e in entry.enclosures],
        "dates": [entry.published.isoformat(), entry.updated.isoformat()] if entry.dated else [],
    }
    encoded = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def decide(
    entry: Entry,
    revision: str,
    existing: StoredEntry | None,
    candidates: Sequence[StoredEntry],
    window: timedelta,
) -> Decision:
    """What to do with ``entry`` given its stored row (if any) and duplicate candidates."""
    if existing is not None:
        action: Action = "unchanged" if existing.revision == revision else "updated"
        return Decision(action, existing_id=existing.id)
    original = find_original(entry, candidates, window)
    if original is not None:
        return Decision("duplicate", duplicate_of=original)
    return Decision("new")


def find_original(
    entry: Entry, candidates: Sequence[StoredEntry], window: timedelta
) -> int | None:
    """The id of the first-seen original that ``entry`` duplicates, or ``None``."""
    matches = [
        candidate
        for candidate in candidates
        if candidate.source_id != entry.source_id and is_same_article(entry, candidate, window)
    ]
    if not matches:
        return None
    first = min(matches, key=lambda candidate: candidate.id)
    return first.duplicate_of if first.duplicate_of is not None else first.id


def is_same_article(entry: Entry, stored: StoredEntry, window: timedelta) -> bool:
    """Exact duplicates: the same canonical URL, or the same content fingerprint published
    within ``window`` of each other."""
    if entry.canonical_url and entry.canonical_url == stored.canonical_url:
        return True
    return bool(
        entry.content_hash
        and entry.content_hash == stored.content_hash
        and abs(entry.published - stored.published) <= window
    )
