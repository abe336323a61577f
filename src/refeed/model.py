"""Frozen value objects that cross stage boundaries.

Config models (``Settings``, ``SourceConfig``…) live in :mod:`refeed.config`; everything the
pipeline hands from one stage to the next lives here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Literal


@dataclass(frozen=True)
class ErrorInfo:
    """An error turned into data: what kind, and the one-line message."""

    kind: str
    message: str

    @classmethod
    def from_exception(cls, error: BaseException) -> ErrorInfo:
        """Describe ``error`` by its class name and ``str()``."""
        return cls(type(error).__name__, str(error) or type(error).__name__)

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True)
class Validators:
    """HTTP cache validators remembered per source for conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """Everything one fetch attempt produced; failures are data, never exceptions."""

    source_id: str
    url: str
    final_url: str | None = None
    http_status: int | None = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    validators: Validators = Validators()
    elapsed: float = 0.0
    nbytes: int = 0
    not_modified: bool = False
    error: ErrorInfo | None = None
    hints: Mapping[str, str] = field(default_factory=dict)  # Retry-After, Cache-Control…
    moved_to: str | None = None  # where permanent redirects (301/308 only) led

    @property
    def ok(self) -> bool:
        """True when there is a body to parse."""
        return self.error is None and self.body is not None


@dataclass(frozen=True)
class ParsedFeed:
    """A document turned into feedparser-shaped dictionaries (RSS, Atom or JSON Feed)."""

    version: str
    feed: Mapping[str, Any]
    entries: Sequence[Mapping[str, Any]]
    warning: str | None = None
    digests: tuple[str, ...] = ()  # every item's digest (see refeed.prescan)
    skipped: int = 0  # known items cut out before parsing


@dataclass(frozen=True)
class Enclosure:
    """A media attachment of an entry (podcast audio, image…)."""

    url: str
    type: str | None = None
    length: int | None = None


@dataclass(frozen=True)
class Entry:
    """One normalized feed entry, the unit of the timeline."""

    source_id: str
    key: str
    guid: str | None
    link: str | None
    canonical_url: str | None
    title: str
    summary: str
    content: str
    authors: tuple[str, ...]
    published: datetime
    updated: datetime
    dated: bool
    tags: tuple[str, ...]
    language: str | None
    enclosures: tuple[Enclosure, ...]
    content_hash: str
    declared_language: str | None = None  # the evidence behind `language`
    detected_language: str | None = None
    language_confidence: float | None = None
    categories: tuple[str, ...] = ()  # the feed's own categories, before alias mapping
    signature: tuple[int, ...] = ()  # MinHash of its whole text's word pairs, for near-duplicates
    shingles: int = 0  # how many word pairs the signature summarizes
    numbers: tuple[str, ...] = ()  # the numbers in its whole text, sorted
    names: tuple[str, ...] = ()  # names of people and places in it (folded), sorted
    headline: tuple[str, ...] = ()  # those of its names its title carries
    stem_signature: tuple[int, ...] = ()  # MinHash of its word stems, for retold stories
    stems: int = 0  # how many stems that signature summarizes
    dates: tuple[str, ...] = ()  # the calendar dates its text names ("MM-DD"), sorted
    seen_in: tuple[tuple[str, str], ...] = ()  # (source id, link) of its duplicates


@dataclass(frozen=True)
class Taxonomy:
    """The ``tags:`` config reduced to what tagging needs: folded spelling → canonical tag,
    and ``(canonical tag, regex)`` rules matched on title + summary."""

    aliases: Mapping[str, str] = field(default_factory=dict)
    rules: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PollState:
    """What a poll needs to know of its source's previous polls (one row read)."""

    validators: Validators = Validators()
    failures: int = 0
    fetch_url: str | None = None  # a permanent redirect's target, once past its grace
    url: str | None = None  # the URL the source row was last polled at
    moved_to: str | None = None  # the permanent redirect seen lately, and how many polls
    moved_polls: int = 0
    pace: timedelta | None = None  # the stored publication pace (see m011); None: unknown
    body_digest: str | None = None
    body_error: ErrorInfo | None = None  # why the body_digest's document failed to parse
    item_digests_json: str = "[]"  # read only when a body came: most polls end in a 304
    feed_hints: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def item_digests(self) -> frozenset[str]:
        """The digests of the items the last downloaded document held."""
        return frozenset(json.loads(self.item_digests_json))


@dataclass(frozen=True)
class ProcessedFeed:
    """What the CPU-bound parse + normalize step returns to the event loop."""

    entries: tuple[Entry, ...] = ()
    warning: str | None = None
    error: ErrorInfo | None = None
    feed: Mapping[str, Any] = field(default_factory=dict)  # feed-level ttl/sy:update hints
    digests: tuple[str, ...] = ()  # the document's item digests, to skip them next time
    skipped: int = 0  # known, unchanged items that were not parsed again
    body_digest: str | None = None  # the document's digest (parsed, or failed to: then
    # ``error`` says why); None: the stored one still holds


@dataclass(frozen=True)
class StoredEntry:
    """The part of a stored entry that deduplication decisions need."""

    id: int
    source_id: str
    key: str
    revision: str
    published: datetime
    canonical_url: str | None
    content_hash: str
    duplicate_of: int | None
    title: str = ""
    language: str | None = None
    signature: tuple[int, ...] = ()
    shingles: int = 0
    numbers: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    headline: tuple[str, ...] = ()
    stem_signature: tuple[int, ...] = ()
    stems: int = 0
    dates: tuple[str, ...] = ()
    kept_apart: bool = False  # an admin split it off: nothing joins it


Action = Literal["new", "updated", "unchanged", "duplicate"]


@dataclass(frozen=True)
class Decision:
    """What to do with one incoming entry (see :mod:`refeed.dedup`)."""

    action: Action
    existing_id: int | None = None
    duplicate_of: int | None = None
    merge: tuple[int, ...] = ()  # other clusters' originals this entry joins to duplicate_of


@dataclass(frozen=True)
class StoreCounts:
    """How one source's batch changed the timeline."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0


PollStatus = Literal["ok", "not-modified", "failed"]


@dataclass(frozen=True)
class PollResult:
    """The summary of polling one source, for the CLI and for ``refeed status``."""

    source_id: str
    status: PollStatus
    http_status: int | None
    counts: StoreCounts
    elapsed: float
    error: ErrorInfo | None = None
    warning: str | None = None


@dataclass(frozen=True)
class PageJob:
    """An entry whose article page is due: fetched for the first time, after an update
    of the entry, or again after a failure."""

    entry_id: int
    source_id: str
    link: str
    revision: str  # the entry's revision the page is read for
    attempts: int  # failures so far


@dataclass(frozen=True)
class PageFindings:
    """What an article page gave: its tags, its article (sanitized HTML, "" when not
    wanted or not found), or why it could not be read."""

    tags: tuple[str, ...] = ()
    article: str = ""
    error: ErrorInfo | None = None
