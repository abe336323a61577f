"""What a publish renders and writes, and the rendering of it.

A publish reads the timeline at one moment (a snapshot) and the manifest the last one
left: each output's listing is the last one with what changed in the timeline since
merged in (:func:`refeed.select.relisted`), or, when that cannot tell, selected again
through the timeline's indexes; only the outputs whose listing or listed entries changed
are rendered again, and their unchanged entries are taken from their last files. See
docs/architecture.md, "Publishing".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice

from refeed import __version__
from refeed.config import Settings
from refeed.model import Entry
from refeed.publish import Manifest
from refeed.render import (
    EPOCH,
    FeedInfo,
    Listing,
    SourceInfo,
    assemble,
    entry_fragments,
    render_index,
    render_opml,
    split_document,
    uid,
)
from refeed.select import (
    Listed,
    Output,
    Spellings,
    define_outputs,
    matches,
    matching,
    place,
    recount,
    relisted,
    tag_registry,
    usage_of,
)
from refeed.storage import ChangesMark, Storage, TimelineChanges

Fragments = dict[tuple[Output, str], dict[int, bytes]]  # (output, format) → id → bytes


@dataclass(frozen=True)
class PublishPlan:
    """What a publish renders and writes, read from the timeline at one moment."""

    mark: ChangesMark  # how far into the change log it was read
    record: Manifest  # the manifest to write (its files are filled in by write_outputs)
    sources: Mapping[str, SourceInfo]
    stale: Mapping[Output, Sequence[Listed]]  # the outputs to render, with their listings
    entries: Mapping[int, Entry]  # every listed entry they need rendered
    reused: Fragments  # the entries they take from their last files
    kept: Sequence[str]  # the files that stay as they are
    directory: Sequence[Listing]  # every output, for the index and the OPML file


def plan_publish(settings: Settings, store: Storage, manifest: Manifest) -> PublishPlan | None:
    """What a publish does after ``manifest``'s (``None``: nothing changed since)."""
    folder = settings.output_dir
    mark = store.changes_mark()
    stamp = _publish_stamp(settings, mark)
    if manifest.stamp == stamp and all((folder / path).is_file() for path in manifest.paths):
        return None
    changes = store.changes_since(ChangesMark(manifest.timeline, manifest.position))
    spellings = _tag_spellings(store, manifest, changes)
    outputs = define_outputs(settings, usage_of(spellings), manifest.tags)
    sources = source_infos(settings)
    site_key = _site_fingerprint(settings, sources)
    fingerprints = {output.path: _output_fingerprint(site_key, output) for output in outputs}
    last = {output: manifest.listings[output.path] for output in outputs
            if changes is not None and output.path in manifest.listings
            and manifest.fingerprints.get(output.path) == fingerprints[output.path]}
    listings, entries = _list_outputs(store, outputs, last, changes)
    stale = {output: listings[output] for output in outputs
             if not _unchanged(settings, output, listings[output], last, changes)}
    reused = _rendered_before(settings, stale, last, changes)
    wanted = {item.id for output, listing in stale.items() for item in listing
              if any(item.id not in reused.get((output, fmt), {})
                     for fmt in settings.publish.formats)}
    entries |= store.originals(wanted - entries.keys())
    record = Manifest(
        fingerprints=fingerprints, stamp=stamp, tags=tag_registry(outputs, manifest.tags),
        listings={output.path: tuple(item.id for item in listings[output]) for output in outputs},
        timeline=mark.timeline, position=mark.position, spellings=spellings,
    )
    kept = [f"{output.path}.{fmt}" for output in outputs if output not in stale
            for fmt in settings.publish.formats]
    directory = [listing_of(output, listings[output]) for output in outputs]
    return PublishPlan(mark, record, sources, stale, entries, reused, kept, directory)


def _tag_spellings(
    store: Storage, manifest: Manifest, changes: TimelineChanges | None
) -> Spellings:
    """How many originals carry each tag under each spelling: the last publish's counts
    with the tag uses changed since counted again, or (when those are not known) all
    of them counted."""
    if changes is None or manifest.spellings is None:
        return store.tag_spelling_counts()
    return recount(manifest.spellings, changes.tag_uses,
                   store.tag_spellings(changes.tag_uses.keys()))


def _list_outputs(
    store: Storage, outputs: Sequence[Output], last: Mapping[Output, Sequence[int]],
    changes: TimelineChanges | None,
) -> tuple[dict[Output, list[Listed]], dict[int, Entry]]:
    """Each output's listing, from its ``last`` one and the ``changes`` since when it
    can (see :func:`refeed.select.relisted`), else selected anew; with the entries read
    on the way (id → entry)."""
    entries: dict[int, Entry] = {}
    joining: dict[Output, list[int]] = {}
    places: dict[int, Listed] = {}
    if changes is not None and last:
        entries = store.originals(changes.entries)
        joining = matching(last, entries)
        places = store.places({entry_id for ids in last.values() for entry_id in ids}
                              - changes.entries)
        places |= {entry_id: listed(entry_id, entry) for entry_id, entry in entries.items()}
    listings: dict[Output, list[Listed]] = {}
    for output in outputs:
        listing = None
        if changes is not None and output in last:
            listing = relisted(output, last[output], changes.entries, places,
                               [places[entry_id] for entry_id in joining[output]])
        listings[output] = listing if listing is not None else _select(store, output, entries)
    return listings, entries


def _select(store: Storage, output: Output, entries: dict[int, Entry]) -> list[Listed]:
    """``output``'s listing selected from the timeline; adds the entries to ``entries``."""
    found = islice(((entry_id, entry) for entry_id, entry in store.candidates(output)
                    if matches(output, entry)), output.limit)
    listing = []
    for entry_id, entry in found:
        entries[entry_id] = entry
        listing.append(listed(entry_id, entry))
    return listing


def listed(entry_id: int, entry: Entry) -> Listed:
    """How a listing remembers the entry ``entry_id``: its place and date."""
    return Listed(entry_id, place(entry), entry.updated)


def _unchanged(
    settings: Settings, output: Output, listing: Sequence[Listed],
    last: Mapping[Output, Sequence[int]], changes: TimelineChanges | None,
) -> bool:
    """Whether ``output``'s files are what it renders now: rendered from the same
    settings, listing the same entries, none of which changed, and still there."""
    if changes is None or output not in last:
        return False
    ids = tuple(item.id for item in listing)
    return (tuple(last[output]) == ids and changes.entries.isdisjoint(ids)
            and all((settings.output_dir / f"{output.path}.{fmt}").is_file()
                    for fmt in settings.publish.formats))


def _rendered_before(
    settings: Settings, stale: Mapping[Output, Sequence[Listed]],
    last: Mapping[Output, Sequence[int]], changes: TimelineChanges | None,
) -> Fragments:
    """The entries of the ``stale`` outputs' files as the last publish rendered them,
    for those that did not change since (read from the files, by the ids the manifest
    says they list; an entry whose id is not where it should be is not reused)."""
    reused: Fragments = {}
    for output, listing in stale.items():
        if changes is None or output not in last:
            continue
        wanted = {item.id: item for item in listing if item.id not in changes.entries}
        for fmt in settings.publish.formats:
            try:
                document = (settings.output_dir / f"{output.path}.{fmt}").read_bytes()
            except OSError:
                continue
            fragments = split_document(fmt, document) or []
            if len(fragments) != len(last[output]):
                continue
            reused[output, fmt] = {
                entry_id: fragment
                for entry_id, fragment in zip(last[output], fragments, strict=True)
                if entry_id in wanted
                and uid(wanted[entry_id].source_id, wanted[entry_id].key).encode() in fragment
            }
    return reused


def render_listings(
    settings: Settings, sources: Mapping[str, SourceInfo],
    listings: Mapping[Output, Sequence[Listed]], entries: Mapping[int, Entry],
    reused: Fragments,
) -> dict[str, bytes]:
    """The files of the outputs of ``listings`` in every configured format: entries
    ``reused`` as they were rendered before, the others rendered once per format
    (however many outputs list them) from ``entries``."""
    site, hub = settings.site, settings.publish.websub_hub
    infos = {output: FeedInfo(output, site.base_url, site.title, sources, hub)
             for output in listings}
    files: dict[str, bytes] = {}
    for fmt in settings.publish.formats:
        fresh = {item.id: entries[item.id] for output, listing in listings.items()
                 for item in listing if item.id not in reused.get((output, fmt), {})}
        rendered = entry_fragments(fmt, next(iter(infos.values())), fresh) if fresh else {}
        for output, listing in listings.items():
            before = reused.get((output, fmt), {})
            fragments = [before.get(item.id) or rendered[item.id] for item in listing]
            updated = max((item.updated for item in listing), default=EPOCH)
            files[f"{output.path}.{fmt}"] = assemble(fmt, infos[output], updated, fragments)
    return files


def listing_of(output: Output, items: Sequence[Listed]) -> Listing:
    """How the index and the OPML file show ``output``, which lists ``items``."""
    return Listing(output, len(items), max((item.updated for item in items), default=None))


def render_directory(settings: Settings, listings: Sequence[Listing]) -> dict[str, bytes]:
    """``index.html`` and ``outputs.opml``: every output, with its size and age."""
    title, formats = settings.site.title, settings.publish.formats
    return {
        "index.html": render_index(title, formats, listings),
        "outputs.opml": render_opml(title, settings.site.base_url, formats, listings),
    }


def source_infos(settings: Settings) -> dict[str, SourceInfo]:
    return {
        source.id: SourceInfo(source.id, source.title or source.id, source.url)
        for source in settings.sources
    }


def _site_fingerprint(settings: Settings, sources: Mapping[str, SourceInfo]) -> bytes:
    """What every rendered output depends on besides its own entries."""
    site, publish = settings.site, settings.publish
    facts = (__version__, site.base_url, site.title, publish.formats, publish.websub_hub,
             sorted(sources.items()))
    return hashlib.blake2b(repr(facts).encode(), digest_size=32).digest()


def _publish_stamp(settings: Settings, mark: ChangesMark) -> str:
    """What a whole publish is made from: refeed, the settings, the timeline and how far
    into its change log."""
    facts = f"{__version__}\n{settings.model_dump_json()}\n{mark.timeline}\n{mark.position}"
    return hashlib.blake2b(facts.encode(), digest_size=16).hexdigest()


def _output_fingerprint(site_key: bytes, output: Output) -> str:
    """A digest of what an output's files are rendered from besides its entries."""
    return hashlib.blake2b(repr(output).encode(), key=site_key, digest_size=16).hexdigest()
