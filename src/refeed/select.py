"""PURE: which output feeds exist, and their paths.

An :class:`Output` is a filter over the timeline plus its place under ``output_dir``
(DESIGN §5): ``all``, ``lang/<code>``, ``tag/<slug>``, ``tag/<slug>/<code>`` and the named
feeds of ``publish.feeds``. Paths are built from slugs only (lowercase ASCII
``[a-z0-9-]``, Cyrillic transliterated), so no tag can name a file outside the folder.
"""

from __future__ import annotations

from dataclasses import dataclass

from slugify import slugify

from refeed.config import Settings


@dataclass(frozen=True)
class Output:
    """One output feed: where it is published, what it is called, what it selects."""

    path: str
    title: str
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


def define_outputs(settings: Settings) -> list[Output]:
    """Every output the config defines, in index order: all, languages, tags,
    tag x language, then the named feeds."""
    site, publish = settings.site, settings.publish
    limit = publish.limit
    outputs = [Output("all", site.title, limit=limit)]
    if publish.per_language:
        outputs += [
            Output(f"lang/{code}", f"{site.title} ({code})", languages=(code,), limit=limit)
            for code in site.languages
        ]
    slugs = _unique_slugs(list(settings.tags))
    if publish.per_tag:
        outputs += [
            Output(f"tag/{slug}", f"{site.title}: {tag}", tags=(tag,), limit=limit)
            for tag, slug in slugs.items()
        ]
    if publish.per_tag_language:
        outputs += [
            Output(f"tag/{slug}/{code}", f"{site.title}: {tag} ({code})", tags=(tag,),
                   languages=(code,), limit=limit)
            for tag, slug in slugs.items()
            for code in site.languages
        ]
    outputs += [
        Output(
            feed.id, feed.title or feed.id, feed.tags, feed.languages, feed.sources,
            feed.exclude_tags, feed.match, feed.exclude, feed.limit or limit,
        )
        for feed in publish.feeds
    ]
    return outputs


def _unique_slugs(tags: list[str]) -> dict[str, str]:
    """A slug per tag; colliding slugs get ``-2``, ``-3``… in the order tags are given."""
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for tag in tags:
        base = candidate = tag_slug(tag)
        number = 1
        while candidate in taken:
            number += 1
            candidate = f"{base}-{number}"
        taken.add(candidate)
        slugs[tag] = candidate
    return slugs
