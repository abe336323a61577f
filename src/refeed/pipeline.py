"""The one module that wires I/O to pure code. Read it as a shell pipeline::

    config.yaml | fetch (HTTP, 304 stops here) | parse | normalize | dedup | store
    store | select | render | publish (write only what changed)

:func:`poll_all` runs :func:`poll_source` for every chosen source concurrently. Fetching
runs on the event loop; parsing and normalizing are CPU-bound, so they run in a process
pool (one worker per core) while other sources are still downloading; storing runs back
on the loop, one transaction per source. :func:`publish_all` merges what changed in the
timeline since the last publish into each output's listing, renders the outputs whose
listing or entries changed and writes the files whose bytes changed. Nothing here
decides anything: it only passes values from one stage to the next.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import islice

from refeed import __version__
from refeed.cadence import (
    activity_interval,
    cache_lifetime,
    feed_hint,
    next_due,
    retry_after,
)
from refeed.config import Settings, SourceConfig
from refeed.fetch import Fetcher, ping_hub
from refeed.language import NO_DETECTION, LanguagePolicy
from refeed.model import (
    Entry,
    ErrorInfo,
    FetchResult,
    PollResult,
    PollState,
    PollStatus,
    ProcessedFeed,
)
from refeed.normalize import entry_tags, tagging_fingerprint, tagging_text
from refeed.prescan import body_digest, rules_salt
from refeed.publish import Manifest, PublishReport, read_manifest, write_outputs
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
    TagRegistry,
    Timeline,
    define_outputs,
    first_entries,
    matches,
    matching,
    place,
    recount,
    relisted,
    tag_registry,
    usage_of,
)
from refeed.store import ChangesMark, Store, TimelineChanges
from refeed.worker import process_document, share_detectors

Clock = Callable[[], datetime]
FEED_FORMATS = frozenset({"atom", "rss", "json"})
REDIRECT_GRACE = 3  # polls in a row a permanent redirect must be seen before it is followed
OnResult = Callable[[PollResult], None]


def utc_now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)


def make_worker_pool(policy: LanguagePolicy = NO_DETECTION) -> ProcessPoolExecutor:
    """A process pool with one worker per core, started with ``forkserver`` (forking a
    process that runs an event loop and threads is unsafe). The forkserver loads the
    language models of ``policy`` once and the workers it forks share them; a worker
    whose forkserver was started for other languages loads its own on first use."""
    context = multiprocessing.get_context("forkserver")
    # the forkserver imports the worker's modules (and models) once; workers share them
    share_detectors(policy)
    context.set_forkserver_preload(["refeed.forkserver"])
    return ProcessPoolExecutor(
        max_workers=os.cpu_count() or 1,
        mp_context=context,
    )


async def poll_all(
    settings: Settings,
    store: Store,
    source_ids: Iterable[str] | None = None,
    *,
    executor: Executor | None = None,
    clock: Clock = utc_now,
    on_result: OnResult | None = None,
) -> list[PollResult]:
    """Poll the chosen sources (all by default) concurrently; results in config order."""
    wanted = set(source_ids) if source_ids is not None else None
    sources = [s for s in settings.sources if wanted is None or s.id in wanted]
    store.sync_sources(settings.sources)
    # entries are tagged under the current rules as they are stored: record that while
    # the timeline is still empty, or the first publish would tag them all again
    retag_timeline(settings, store)
    pool = executor or make_worker_pool(settings.language_policy)
    try:
        async with Fetcher(settings.polling) as fetcher:
            with store.batch():
                return await _poll_each(settings, store, sources, fetcher, pool, clock,
                                        on_result)
    finally:
        if executor is None:
            pool.shutdown()


async def _poll_each(
    settings: Settings,
    store: Store,
    sources: list[SourceConfig],
    fetcher: Fetcher,
    pool: Executor,
    clock: Clock,
    on_result: OnResult | None,
) -> list[PollResult]:
    states = store.poll_states(REDIRECT_GRACE)
    tasks = [asyncio.create_task(poll_source(settings, source, store, fetcher, pool, clock,
                                             states.get(source.id)))
             for source in sources]
    for finished in asyncio.as_completed(tasks):
        result = await finished
        if on_result is not None:
            on_result(result)
    return [task.result() for task in tasks]


async def poll_source(
    settings: Settings,
    source: SourceConfig,
    store: Store,
    fetcher: Fetcher,
    executor: Executor,
    clock: Clock = utc_now,
    state: PollState | None = None,
) -> PollResult:
    """fetch | parse | normalize | dedup | store for one source, from its ``state`` (read
    from the store when not given)."""
    started = time.monotonic()
    if state is None:
        state = store.poll_state(source.id, REDIRECT_GRACE)
    target = source.model_copy(update={"url": state.fetch_url}) if state.fetch_url else source
    fetched = await fetcher.fetch(target, state.validators)
    processed = await _process(settings, source, fetched, state, executor, clock()) \
        if fetched.ok else None
    now = clock()
    error = fetched.error or (processed.error if processed else None)
    failures = state.failures + 1 if error else 0
    pace = None
    if error:
        hint = retry_after(fetched.hints.get("retry-after"), now)
    else:  # the longest of: the server's cache lifetime, the feed's own hint, its pace
        pace = _pace(store, source.id, processed, state)
        candidates = [cache_lifetime(fetched.hints, now),
                      feed_hint(processed.feed if processed else state.feed_hints), pace]
        hint = max((c for c in candidates if c is not None), default=None)
    due = next_due(now, settings.cadence(source), failures=failures, hint=hint,
                   jitter_key=source.id)
    counts = store.record_poll(
        fetched, processed, now=now, next_due=due, policy=settings.dedup_policy,
        state=state, pace=pace,
    )
    status: PollStatus = "failed" if error else ("not-modified" if fetched.not_modified else "ok")
    return PollResult(
        source_id=source.id,
        status=status,
        http_status=fetched.http_status,
        counts=counts,
        elapsed=time.monotonic() - started,
        error=error,
        warning=processed.warning if processed else None,
    )


def _pace(
    store: Store, source_id: str, processed: ProcessedFeed | None, state: PollState
) -> timedelta:
    """The poll interval suited to how often the source publishes (0: unknown), from its
    stored entries and the ones just fetched; a poll that brought no entry (a 304, an
    unchanged body) reuses the one stored, when there is one."""
    fresh = [entry.published for entry in processed.entries if entry.dated] if processed else []
    if not fresh and state.pace is not None:
        return state.pace
    published = sorted({*store.recent_published(source_id), *fresh}, reverse=True)
    return activity_interval(published) or timedelta(0)


async def _process(
    settings: Settings,
    source: SourceConfig,
    fetched: FetchResult,
    state: PollState,
    executor: Executor,
    now: datetime,
) -> ProcessedFeed:
    """parse | normalize in the pool — unless the body is byte for byte the one parsed
    last time under the same rules (servers without validators): then nothing is new, or
    it fails to parse again as it did."""
    assert fetched.body is not None
    rules = (settings.taxonomy, settings.language_policy)
    salt = rules_salt(source, *rules)
    digest = body_digest(fetched.body, salt)
    if digest == state.body_digest:  # the same bytes end as they ended last time
        if state.body_error is not None:
            return ProcessedFeed(error=state.body_error)
        return ProcessedFeed(feed=state.feed_hints, skipped=len(state.item_digests))
    try:
        # submitted from a thread: the first submit starts the pool's processes (the
        # forkserver loads the language models first), which must not stall the loop
        job = await asyncio.to_thread(
            executor.submit,
            process_document,
            fetched.body,
            fetched.headers,
            fetched.final_url or source.url,
            source,
            rules,
            settings.polling.max_bytes,
            now,
            state.item_digests,
            salt,
        )
        processed = await asyncio.wrap_future(job)
    except Exception as error:  # a crashed worker or a bug on one feed must not stop the rest
        return ProcessedFeed(error=ErrorInfo.from_exception(error))
    return replace(processed, body_digest=digest)  # its error too: bytes fail alike


Fragments = dict[tuple[Output, str], dict[int, bytes]]  # (output, format) → id → bytes


def publish_all(settings: Settings, store: Store) -> PublishReport:
    """store | select | render | publish. Nothing at all happens when neither the
    timeline nor the settings changed since the last publish. Otherwise each output's
    listing is the last publish's with what changed in the timeline since merged in
    (or, when that cannot tell, selected again through indexes), only the outputs whose
    listing or listed entries changed are rendered again, and files are written where
    their bytes changed."""
    retag_timeline(settings, store)
    manifest = read_manifest(settings.output_dir)
    with store.snapshot():  # the change log and the entries read at one moment
        plan = _plan_publish(settings, store, manifest)
    if plan is None:
        return PublishReport((), len(manifest.paths), ())  # nothing changed since
    files = _render_listings(settings, plan.sources, plan.stale, plan.entries, plan.reused)
    files |= render_directory(settings, plan.directory)
    report = write_outputs(settings.output_dir, files, plan.kept, plan.record)
    store.forget_changes(plan.mark)
    return report


@dataclass(frozen=True)
class _PublishPlan:
    """What a publish renders and writes, read from the timeline at one moment."""

    mark: ChangesMark  # how far into the change log it was read
    record: Manifest  # the manifest to write (its files are filled in by write_outputs)
    sources: Mapping[str, SourceInfo]
    stale: Mapping[Output, Sequence[Listed]]  # the outputs to render, with their listings
    entries: Mapping[int, Entry]  # every listed entry they need rendered
    reused: Fragments  # the entries they take from their last files
    kept: Sequence[str]  # the files that stay as they are
    directory: Sequence[Listing]  # every output, for the index and the OPML file


def _plan_publish(settings: Settings, store: Store, manifest: Manifest) -> _PublishPlan | None:
    """What a publish does after ``manifest``'s (``None``: nothing changed since)."""
    folder = settings.output_dir
    mark = store.changes_mark()
    stamp = _publish_stamp(settings, mark)
    if manifest.stamp == stamp and all((folder / path).is_file() for path in manifest.paths):
        return None
    changes = store.changes_since(ChangesMark(manifest.timeline, manifest.position))
    spellings = _tag_spellings(store, manifest, changes)
    outputs = define_outputs(settings, usage_of(spellings), manifest.tags)
    sources = _source_infos(settings)
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
    directory = [_listing(output, listings[output]) for output in outputs]
    return _PublishPlan(mark, record, sources, stale, entries, reused, kept, directory)


def _tag_spellings(
    store: Store, manifest: Manifest, changes: TimelineChanges | None
) -> Spellings:
    """How many originals carry each tag under each spelling: the last publish's counts
    with the tag uses changed since counted again, or (when those are not known) all
    of them counted."""
    if changes is None or manifest.spellings is None:
        return store.tag_spelling_counts()
    return recount(manifest.spellings, changes.tag_uses,
                   store.tag_spellings(changes.tag_uses.keys()))


def _list_outputs(
    store: Store, outputs: Sequence[Output], last: Mapping[Output, Sequence[int]],
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
        places |= {entry_id: _listed(entry_id, entry) for entry_id, entry in entries.items()}
    listings: dict[Output, list[Listed]] = {}
    for output in outputs:
        listing = None
        if changes is not None and output in last:
            listing = relisted(output, last[output], changes.entries, places,
                               [places[entry_id] for entry_id in joining[output]])
        listings[output] = listing if listing is not None else _select(store, output, entries)
    return listings, entries


def _select(store: Store, output: Output, entries: dict[int, Entry]) -> list[Listed]:
    """``output``'s listing selected from the timeline; adds the entries to ``entries``."""
    found = islice(((entry_id, entry) for entry_id, entry in store.numbered_candidates(output)
                    if matches(output, entry)), output.limit)
    listing = []
    for entry_id, entry in found:
        entries[entry_id] = entry
        listing.append(_listed(entry_id, entry))
    return listing


def _listed(entry_id: int, entry: Entry) -> Listed:
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


def _render_listings(
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


def _listing(output: Output, listed: Sequence[Listed]) -> Listing:
    """How the index and the OPML file show ``output``."""
    return Listing(output, len(listed), max((item.updated for item in listed), default=None))


async def notify_hub(settings: Settings, report: PublishReport) -> list[str]:
    """Ping the WebSub hub (if configured) for every feed file the publish changed."""
    hub = settings.publish.websub_hub
    feeds = [path for path in report.written if path.rsplit(".", 1)[-1] in FEED_FORMATS]
    if hub is None or not feeds:
        return []
    topics = [settings.site.base_url + path for path in feeds]
    return await ping_hub(hub, topics, settings.polling.timeout.total_seconds())


def retag_timeline(settings: Settings, store: Store) -> int:
    """Recompute stored entries' tags when the ``tags:`` table or a source's tags changed
    since they were stored (new aliases and rules apply to old entries too)."""
    taxonomy = settings.taxonomy
    source_tags = {source.id: source.tags for source in settings.sources}

    def tagger(entry: Entry) -> tuple[str, ...]:
        text = tagging_text(entry.title, entry.summary, entry.content)
        return entry_tags(entry.categories, source_tags.get(entry.source_id, ()), taxonomy, text)

    return store.retag(tagger, tagging_fingerprint(taxonomy, source_tags))


def build_site(
    settings: Settings, timeline: Timeline, registry: TagRegistry | None = None
) -> dict[str, bytes]:
    """Every output file (relative path → bytes) for ``timeline``: each output in each
    configured format, plus ``index.html`` and ``outputs.opml``. ``registry`` holds the
    tag slugs published before (see :func:`refeed.select.tag_registry`)."""
    site = select_site(settings, timeline, registry)
    numbers: dict[tuple[str, str], int] = {}  # each distinct entry gets an id
    entries: dict[int, Entry] = {}
    listings: dict[Output, list[Listed]] = {}
    for output, selected in site:
        listings[output] = []
        for entry in selected:
            entry_id = numbers.setdefault((entry.source_id, entry.key), len(numbers))
            entries[entry_id] = entry
            listings[output].append(_listed(entry_id, entry))
    files = _render_listings(settings, _source_infos(settings), listings, entries, {})
    directory = [_listing(output, listing) for output, listing in listings.items()]
    return files | render_directory(settings, directory)


Selection = list[tuple[Output, list[Entry]]]


def select_site(
    settings: Settings, timeline: Timeline, registry: TagRegistry | None = None
) -> Selection:
    """Every output with the entries it lists."""
    outputs = define_outputs(settings, timeline.tag_usage(), registry)
    return [(output, first_entries(output, timeline.candidates(output))) for output in outputs]


def render_directory(settings: Settings, listings: Sequence[Listing]) -> dict[str, bytes]:
    """``index.html`` and ``outputs.opml``: every output, with its size and age."""
    title, formats = settings.site.title, settings.publish.formats
    return {
        "index.html": render_index(title, formats, listings),
        "outputs.opml": render_opml(title, settings.site.base_url, formats, listings),
    }


def _source_infos(settings: Settings) -> dict[str, SourceInfo]:
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
