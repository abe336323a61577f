"""PURE: which output feeds exist, and which entries each one lists.

An :class:`Output` is a filter over the timeline plus its place under ``output_dir``
(the README, "Outputs"): ``all``, ``lang/<code>``, ``tag/<slug>``, ``tag/<slug>/<code>``
and the named feeds of ``publish.feeds``. Paths are built from slugs only (lowercase ASCII
``[a-z0-9-]``, Cyrillic transliterated), so no tag can name a file outside the folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache, partial
from typing import Literal

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


def matches(output: Output, entry: Entry) -> bool:
    """True when ``entry`` passes every filter of ``output`` (empty filters pass)."""
    return _filter(output)(entry, frozenset(tag_fold(tag) for tag in entry.tags),
                           lambda: match_text(entry))


def match_text(entry: Entry) -> str:
    """What ``match`` and ``exclude`` patterns search: the title and the summary's text."""
    return f"{entry.title}\n{sanitized_text(entry.summary)}"


@dataclass(frozen=True)
class _Filter:
    """An output's filters, folded and compiled once."""

    tags: frozenset[str]
    exclude_tags: frozenset[str]
    languages: tuple[str, ...]
    sources: frozenset[str]
    match: re.Pattern[str] | None
    exclude: re.Pattern[str] | None

    def __call__(self, entry: Entry, folded: frozenset[str], text: Callable[[], str]) -> bool:
        """Whether ``entry``, whose folded tags are ``folded`` and whose
        :func:`match_text` ``text`` returns, passes."""
        if self.tags and self.tags.isdisjoint(folded):
            return False
        if not self.exclude_tags.isdisjoint(folded):
            return False
        if self.languages and entry.language not in self.languages:
            return False
        if self.sources and entry.source_id not in self.sources:
            return False
        if self.match is None and self.exclude is None:
            return True
        searched = text()
        if self.match is not None and not self.match.search(searched):
            return False
        return self.exclude is None or not self.exclude.search(searched)


@lru_cache(maxsize=4096)
def _filter(output: Output) -> _Filter:
    return _Filter(
        frozenset(tag_fold(tag) for tag in output.tags),
        frozenset(tag_fold(tag) for tag in output.exclude_tags),
        output.languages,
        frozenset(output.sources),
        re.compile(output.match) if output.match is not None else None,
        re.compile(output.exclude) if output.exclude is not None else None,
    )


Place = tuple[float, str, str]  # an entry's place in timeline order: sorts newest first


def place(entry: Entry) -> Place:
    """Where ``entry`` sorts in the timeline: newest published first, ties by source and
    key (unique), so the order is stable."""
    return -entry.published.timestamp(), entry.source_id, entry.key


@dataclass(frozen=True)
class Listed:
    """An entry as an output's listing remembers it: its id in the timeline, its place
    there and its ``updated`` date (what the feed's own date is made of)."""

    id: int
    place: Place
    updated: datetime

    @property
    def source_id(self) -> str:
        """The entry's source."""
        return self.place[1]

    @property
    def key(self) -> str:
        """The entry's key in its source."""
        return self.place[2]


def matching(outputs: Iterable[Output], entries: Mapping[int, Entry]) -> dict[Output, list[int]]:
    """For each of ``outputs``, the ids of the ``entries`` (id → entry) it lists if they
    rank high enough. An output looks only at the entries its first filter lets through
    (one of its tags, else its sources, else its languages), found in an index."""
    folded = {entry_id: frozenset(tag_fold(tag) for tag in entry.tags)
              for entry_id, entry in entries.items()}
    indexes: dict[str, dict[str | None, list[int]]] = {"tag": {}, "source": {}, "language": {}}
    for entry_id, entry in entries.items():
        for tag in folded[entry_id]:
            indexes["tag"].setdefault(tag, []).append(entry_id)
        indexes["source"].setdefault(entry.source_id, []).append(entry_id)
        indexes["language"].setdefault(entry.language, []).append(entry_id)
    texts = {entry_id: cache(partial(match_text, entry)) for entry_id, entry in entries.items()}
    found: dict[Output, list[int]] = {}
    for output in outputs:
        check = _filter(output)
        found[output] = [entry_id for entry_id in _pool(check, indexes, folded)
                         if check(entries[entry_id], folded[entry_id], texts[entry_id])]
    return found


def _pool(
    check: _Filter, indexes: Mapping[str, Mapping[str | None, list[int]]],
    every: Mapping[int, object],
) -> Iterable[int]:
    """The entry ids that may pass ``check``, from the narrowest index it applies to."""
    for values, index in ((check.tags, "tag"), (check.sources, "source"),
                          (check.languages, "language")):
        if values:
            return sorted({entry_id for value in values
                           for entry_id in indexes[index].get(value, ())})
    return every


def relisted(
    output: Output, previous: Sequence[int], changed: Collection[int],
    places: Mapping[int, Listed], joining: Iterable[Listed],
) -> list[Listed] | None:
    """``output``'s listing after the timeline changed, from the ids it listed before
    (in timeline order), the ids of every entry that ``changed`` since (added, edited,
    removed, given a copy or a tag), where the others are (``places``) and the changed
    entries it matches now (``joining``); ``None`` when that cannot tell (then it must
    be selected again).

    The entries that did not change kept their place and their match, so every one of
    them that the output lists above its previous last entry is in ``previous``: the
    new listing is those plus the joining entries above that mark. When the previous
    listing was full, the mark is its last entry's place, and fewer than ``limit``
    entries above it leave the rest unknown."""
    full = len(previous) >= output.limit
    if full and previous[-1] in changed:
        return None  # its place before the change is not known
    kept = []
    for entry_id in previous:
        if entry_id not in changed:
            if entry_id not in places:
                return None  # gone without a change recorded: trust nothing
            kept.append(places[entry_id])
    mark = places[previous[-1]].place if full else None
    above = [item for item in joining if mark is None or item.place < mark]
    merged = sorted(kept + above, key=lambda item: item.place)
    if full and len(merged) < output.limit:
        return None
    return merged[:output.limit]


Spellings = Mapping[str, Mapping[str, int]]  # folded tag → spelling → entries counted under it


def usage_of(spellings: Spellings) -> dict[str, int]:
    """How many originals carry each tag, under its most used spelling (ties: the
    smallest, so the label does not depend on the order of the timeline), from how many
    originals each spelling counts."""
    return {
        min(counts, key=lambda spelling: (-counts[spelling], spelling)): sum(counts.values())
        for counts in spellings.values() if counts
    }


def recount(
    spellings: Spellings, before: Mapping[tuple[str, int], str | None],
    after: Mapping[tuple[str, int], str],
) -> dict[str, dict[str, int]]:
    """``spellings`` after some tag uses ``(folded tag, original)`` changed: each counted
    under its spelling ``before`` (``None``: not counted) now counts under its spelling
    ``after`` (absent: not at all)."""
    counts = {folded: dict(by_spelling) for folded, by_spelling in spellings.items()}
    for use, spelling in before.items():
        if spelling is not None:
            _add(counts, use[0], spelling, -1)
        if use in after:
            _add(counts, use[0], after[use], 1)
    return counts


def _add(counts: dict[str, dict[str, int]], folded: str, spelling: str, change: int) -> None:
    by_spelling = counts.setdefault(folded, {})
    by_spelling[spelling] = by_spelling.get(spelling, 0) + change
    if not by_spelling[spelling]:
        del by_spelling[spelling]
        if not by_spelling:
            del counts[folded]


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
