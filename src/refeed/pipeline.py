"""The one module that wires I/O to pure code. Read it as a shell pipeline::

    config.yaml | fetch (HTTP, 304 stops here) | parse | normalize | dedup | store
    store | select | render | publish (write only what changed)

:func:`poll_all` runs :func:`poll_source` for every chosen source concurrently. Fetching
runs on the event loop; parsing and normalizing are CPU-bound, so they run in a process
pool (one worker per core) while other sources are still downloading; storing runs back
on the loop, one transaction per source. :func:`publish_all` plans a publish from what changed in
the timeline since the last one (:mod:`refeed.plan`), renders it and writes the files
whose bytes changed.

The decisions are made elsewhere, in pure code: what a poll changes in its source's
state and when it is due again (:mod:`refeed.sourcestate`), what each entry is
(:mod:`refeed.dedup`), what a publish renders (:mod:`refeed.plan`, :mod:`refeed.select`).
Here values pass from one stage to the next.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from refeed.cadence import activity_interval
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
from refeed.plan import plan_publish, render_directory, render_listings
from refeed.prescan import body_digest, rules_salt
from refeed.publish import PublishReport, read_manifest, write_outputs
from refeed.sourcestate import due_after, poll_error
from refeed.storage import Storage
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
    store: Storage,
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
    store: Storage,
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
    store: Storage,
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
    error = poll_error(fetched, processed)
    pace = None if error else _pace(store, source.id, processed, state)
    due = due_after(now, settings.cadence(source), fetched, processed, state, pace,
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
    store: Storage, source_id: str, processed: ProcessedFeed | None, state: PollState
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


def publish_all(settings: Settings, store: Storage) -> PublishReport:
    """store | select | render | publish. Nothing at all happens when neither the
    timeline nor the settings changed since the last publish. Otherwise each output's
    listing is the last publish's with what changed in the timeline since merged in
    (or, when that cannot tell, selected again through indexes), only the outputs whose
    listing or listed entries changed are rendered again (see :mod:`refeed.plan`), and
    files are written where their bytes changed."""
    retag_timeline(settings, store)
    manifest = read_manifest(settings.output_dir)
    with store.snapshot():  # the change log and the entries read at one moment
        plan = plan_publish(settings, store, manifest)
    if plan is None:
        return PublishReport((), len(manifest.paths), ())  # nothing changed since
    files = render_listings(settings, plan.sources, plan.stale, plan.entries, plan.reused)
    files |= render_directory(settings, plan.directory)
    report = write_outputs(settings.output_dir, files, plan.kept, plan.record)
    store.forget_changes(plan.mark)
    return report


async def notify_hub(settings: Settings, report: PublishReport) -> list[str]:
    """Ping the WebSub hub (if configured) for every feed file the publish changed."""
    hub = settings.publish.websub_hub
    feeds = [path for path in report.written if path.rsplit(".", 1)[-1] in FEED_FORMATS]
    if hub is None or not feeds:
        return []
    topics = [settings.site.base_url + path for path in feeds]
    return await ping_hub(hub, topics, settings.polling.timeout.total_seconds())


def retag_timeline(settings: Settings, store: Storage) -> int:
    """Recompute stored entries' tags when the ``tags:`` table or a source's tags changed
    since they were stored (new aliases and rules apply to old entries too)."""
    taxonomy = settings.taxonomy
    source_tags = {source.id: source.tags for source in settings.sources}

    def tagger(entry: Entry) -> tuple[str, ...]:
        text = tagging_text(entry.title, entry.summary, entry.content)
        return entry_tags(entry.categories, source_tags.get(entry.source_id, ()), taxonomy, text)

    return store.retag(tagger, tagging_fingerprint(taxonomy, source_tags))
