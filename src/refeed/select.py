"""PURE: which output feeds exist, and which entries each one lists.

An :class:`Output` is a filter over the timeline plus its place under ``output_dir``
(DESIGN §5): ``all``, ``lang/<code>``, ``tag/<slug>``, ``tag/<slug>/<code>`` and the named
feeds of ``publish.feeds``. Paths are built from slugs only (lowercase ASCII
``[a-z0-9-]``, Cyrillic transliterated), so no tag can name a file outside the folder.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Literal, Protocol

from slugify import slugify

from refeed.config import Settings
from refeed.model import Entry
from refeed.normalize import sanitized_text
from refeed.text import tag_fold

OutputKind = Literal["all", "language", "tag", "tag-language", "named"]


@dataclass(frozen=True)
class Output:
    """One output feed: where it is published, what it is called, what it selects."""

    path: str
    title: str
    kind: OutputKind
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    match: str | None = None
    exclude: str | None = None
    limit: int = 50


def tag_slug(tag: str) -> str:
    """``Путін`` → ``putin``; a tag with no usable characters becomes ``tag``."""
    return slugify(tag, max_length=80) or "tag"


TagRegistry = Mapping[str, str]  # tag slug → folded tag, of every tag output ever published
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def published_tags(
    settings: Settings, tag_counts: Mapping[str, int], registry: TagRegistry | None = None
) -> list[str]:
    """The tags that get outputs: every configured canonical tag, then feed tags used by
    at least ``publish.tag_min_entries`` entries — or by any entry at all when their
    output was published before (in ``registry``: a subscription must not turn into a
    404 because a week was quiet). Sorted, so slugs are stable."""
    configured = list(settings.tags)
    known = {tag_fold(tag) for tag in configured}
    registered = set((registry or {}).values())
    minimum = settings.publish.tag_min_entries
    frequent = sorted(
        (tag for tag, count in tag_counts.items()
         if tag_fold(tag) not in known
         and (count >= minimum or (count > 0 and tag_fold(tag) in registered))),
        key=lambda tag: (tag_fold(tag), tag),
    )
    return configured + frequent


def tag_registry(outputs: Iterable[Output], registry: TagRegistry | None = None) -> TagRegistry:
    """``registry`` plus the slug of every tag output in ``outputs``: slugs once published
    stay their tag's, even while it has no output."""
    known = dict(registry or {})
    for output in outputs:
        if output.kind in ("tag", "tag-language"):
            known[output.path.split("/")[1]] = tag_fold(output.tags[0])
    return known


def define_outputs(
    settings: Settings, tag_counts: Mapping[str, int], registry: TagRegistry | None = None
) -> list[Output]:
    """Every output, in index order: all, languages, tags, tag x language, named feeds.
    ``tag_counts`` is the number of timeline entries per tag; ``registry`` the tag slugs
    published before (see :func:`published_tags` and :func:`tag_registry`)."""
    site, publish = settings.site, settings.publish
    limit = publish.limit
    outputs = [Output("all", site.title, "all", limit=limit)]
    if publish.per_language:
        outputs += [
            Output(f"lang/{code}", f"{site.title} [{code}]", "language", languages=(code,),
                   limit=limit)
            for code in site.languages
        ]
    slugs = _unique_slugs(published_tags(settings, tag_counts, registry), registry or {})
    if publish.per_tag:
        outputs += [
            Output(f"tag/{slug}", f"{site.title}: {tag}", "tag", tags=(tag,), limit=limit)
            for tag, slug in slugs.items()
        ]
    if publish.per_tag_language:
        outputs += [
            Output(f"tag/{slug}/{code}", f"{site.title}: {tag} [{code}]", "tag-language",
                   tags=(tag,), languages=(code,), limit=limit)
            for tag, slug in slugs.items()
            for code in site.languages
        ]
    outputs += [
        Output(
            feed.id, feed.title or feed.id, "named", feed.tags, feed.languages, feed.sources,
            feed.exclude_tags, feed.match, feed.exclude, feed.limit or limit,
        )
        for feed in publish.feeds
    ]
    return outputs


class Timeline(Protocol):
    """Where outputs select from: the SQLite store, or a list of entries in memory."""

    def tag_usage(self) -> Mapping[str, int]:
        """See :func:`tag_usage`."""

    def candidates(self, output: Output) -> Iterable[Entry]:
        """In timeline order, a superset of the entries ``output`` lists (it may
        already apply the tag, language and source filters)."""


@dataclass(frozen=True)
class EntryList:
    """A :class:`Timeline` held in memory."""

    entries: Sequence[Entry]

    def tag_usage(self) -> Mapping[str, int]:
        """See :func:`tag_usage`."""
        return tag_usage(self.entries)

    def candidates(self, output: Output) -> Iterable[Entry]:
        """Every entry, in timeline order."""
        return timeline_order(self.entries)


def timeline_order(entries: Iterable[Entry]) -> list[Entry]:
    """Newest published first; ties by source and key, so the order is stable."""
    return sorted(entries, key=lambda entry: (-entry.published.timestamp(), entry.source_id,
                                              entry.key))


def select_entries(output: Output, timeline: Iterable[Entry]) -> list[Entry]:
    """The entries ``output`` lists, from ``timeline`` in any order: matching its
    filters, in timeline order, at most ``output.limit``."""
    return first_entries(output, timeline_order(timeline))


def first_entries(output: Output, ordered: Iterable[Entry]) -> list[Entry]:
    """The first ``output.limit`` entries of ``ordered`` (in timeline order) that match
    ``output``; stops reading there."""
    return list(islice((entry for entry in ordered if matches(output, entry)), output.limit))


def matches(output: Output, entry: Entry) -> bool:
    """True when ``entry`` passes every filter of ``output`` (empty filters pass)."""
    folded = {tag_fold(tag) for tag in entry.tags}
    if output.tags and not folded & {tag_fold(tag) for tag in output.tags}:
        return False
    if folded & {tag_fold(tag) for tag in output.exclude_tags}:
        return False
    if output.languages and entry.language not in output.languages:
        return False
    if output.sources and entry.source_id not in output.sources:
        return False
    if output.match is None and output.exclude is None:
        return True
    text = f"{entry.title}\n{sanitized_text(entry.summary)}"
    if output.match is not None and not re.search(output.match, text):
        return False
    return output.exclude is None or not re.search(output.exclude, text)


def tag_usage(timeline: Sequence[Entry]) -> dict[str, int]:
    """How many entries carry each tag, under its most used spelling (ties: the smallest),
    so the label does not depend on the order of the timeline."""
    spellings: dict[str, Counter[str]] = {}
    for entry in timeline:
        for tag in entry.tags:
            spellings.setdefault(tag_fold(tag), Counter())[tag] += 1
    return {
        min(counter, key=lambda spelling: (-counter[spelling], spelling)): counter.total()
        for counter in spellings.values()
    }


def _unique_slugs(tags: list[str], registry: TagRegistry) -> dict[str, str]:
    """A slug per tag: the one it was published under before, so a URL keeps its meaning
    forever; a new tag gets its own slug, or ``-2``, ``-3``… when a tag of now or of
    before has it (``Belarus`` and ``Беларусь`` are both ``belarus``)."""
    before = {folded: slug for slug, folded in registry.items()}
    slugs = {tag: before[tag_fold(tag)] for tag in tags if tag_fold(tag) in before}
    taken = set(registry)
    for tag in tags:
        if tag in slugs:
            continue
        base = candidate = tag_slug(tag)
        number = 1
        while candidate in taken:
            number += 1
            candidate = f"{base}-{number}"
        taken.add(candidate)
        slugs[tag] = candidate
    return {tag: slugs[tag] for tag in tags}
