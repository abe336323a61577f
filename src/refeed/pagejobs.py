"""Fetching article pages (issue 20): the I/O around :mod:`refeed.pages`.

For sources with ``pages`` on, each entry's page is due once per revision of the entry
(:meth:`refeed.storage.Storage.queue_pages`). :func:`fetch_pages` fetches the due pages
with every guard of feed fetching (:class:`refeed.fetch.Fetcher`: total deadline,
decompressed-size cap, at most 5 redirects, a User-Agent naming refeed), and more:

- a page on a private address is fetched, or redirected to, only when the admin put the
  source's feed on one (an entry's link is not the admin's to choose);
- ``robots.txt`` is honoured, read once per host and kept for :data:`ROBOTS_TTL`;
- requests to one host start at least ``pages.delay`` apart;
- a failed page is tried again after 5 min, 10 min, 20 min… up to ``pages.retries``
  times; its entry stays published from the feed meanwhile.

``refeed poll`` calls it after storing its polls and before publishing; ``refeed run``
calls it from a job of its own, so feed polls never wait for pages.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from refeed import USER_AGENT
from refeed.config import PagesConfig, PollingConfig, Settings, SourceConfig
from refeed.errors import FetchError
from refeed.fetch import Fetcher
from refeed.model import ErrorInfo, FetchResult, PageFindings, PageJob, Validators
from refeed.storage import Storage
from refeed.worker import read_article_page

PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
RETRY_AFTER = timedelta(minutes=5)  # the first retry of a failed page; then twice as long
ROBOTS_TTL = 3600.0  # seconds a host's robots.txt is kept
BATCH = 50  # pages fetched by one call at most: a daemon's job ends within minutes
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class PagesReport:
    """What one :func:`fetch_pages` did."""

    read: int = 0
    failed: int = 0


class RobotsCache:
    """Each host's robots.txt rules, kept for :data:`ROBOTS_TTL` (a daemon keeps one
    for its life; ``refeed poll`` one per run)."""

    def __init__(self) -> None:
        self._rules: dict[str, tuple[float, RobotFileParser | None]] = {}

    def known(self, origin: str) -> tuple[bool, RobotFileParser | None]:
        """Whether ``origin``'s rules are known, and they (None: allow everything)."""
        kept = self._rules.get(origin)
        if kept is None or kept[0] < time.monotonic():
            return False, None
        return True, kept[1]

    def keep(self, origin: str, rules: RobotFileParser | None) -> None:
        """Remember ``origin``'s rules."""
        self._rules[origin] = (time.monotonic() + ROBOTS_TTL, rules)


class PageFetcher:
    """Fetches article pages politely; use as ``async with``."""

    def __init__(self, pages: PagesConfig, robots: RobotsCache) -> None:
        self.pages = pages
        self.fetcher = Fetcher(PollingConfig(
            timeout=pages.timeout, max_bytes=pages.max_bytes,
            concurrency=pages.concurrency, per_host=pages.per_host))
        self.robots = robots
        self._turns: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._robots_reads: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._last_start: dict[str, float] = {}

    async def __aenter__(self) -> PageFetcher:
        await self.fetcher.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, traceback: TracebackType | None) -> None:
        await self.fetcher.__aexit__(exc_type, exc, traceback)

    async def fetch(self, source: SourceConfig, url: str) -> FetchResult:
        """The page at ``url`` of an entry of ``source``, or why not."""
        trusted = await self.fetcher.admin_trusts(source.url)
        target = SourceConfig.model_construct(id=source.id, url=url)
        refusal = await self._robots_refusal(target, trusted)
        if refusal is not None:
            return FetchResult(source_id=source.id, url=url, error=refusal)
        await self._take_turn(url)
        return await self.fetcher.fetch(target, Validators(), trusted=trusted,
                                        accept=PAGE_ACCEPT)

    async def _take_turn(self, url: str) -> None:
        """Wait until ``pages.delay`` has passed since the last request to the host."""
        host = urlsplit(url).netloc
        async with self._turns[host]:
            wait = self._last_start.get(host, -1e9) + self.pages.delay.total_seconds() \
                - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_start[host] = time.monotonic()

    async def _robots_refusal(self, page: SourceConfig, trusted: bool) -> ErrorInfo | None:
        parts = urlsplit(page.url)
        origin = f"{parts.scheme}://{parts.netloc}"
        async with self._robots_reads[origin]:  # one read per host, however many pages wait
            return await self._robots_rules_refusal(page, origin, trusted)

    async def _robots_rules_refusal(self, page: SourceConfig, origin: str,
                                    trusted: bool) -> ErrorInfo | None:
        known, rules = self.robots.known(origin)
        if not known:
            robots = SourceConfig.model_construct(id=page.id, url=f"{origin}/robots.txt")
            await self._take_turn(robots.url)
            fetched = await self.fetcher.fetch(robots, Validators(), trusted=trusted,
                                               accept="text/plain, */*;q=0.1")
            if fetched.ok and fetched.body is not None:
                rules = RobotFileParser()
                rules.parse(fetched.body.decode("utf-8", "replace").splitlines())
            elif fetched.http_status is None or fetched.http_status >= 500:
                # unreachable: RFC 9309 says to assume everything is disallowed, for now
                return ErrorInfo.from_exception(FetchError(
                    f"robots.txt unreachable ({fetched.error})", robots.url))
            self.robots.keep(origin, rules)  # 4xx: no rules, everything allowed
        if rules is not None and not rules.can_fetch(USER_AGENT, page.url):
            return ErrorInfo.from_exception(FetchError("robots.txt disallows it", page.url))
        return None


async def fetch_pages(settings: Settings, store: Storage, *, robots: RobotsCache | None = None,
                      executor: Executor | None = None, clock: Clock,
                      limit: int = BATCH) -> PagesReport:
    """Fetch and read the due pages of sources with ``pages`` on; store what they gave.
    Pages are read in ``executor`` (the poll's process pool, whose workers hold the
    language models), else in a thread."""
    sources = {source.id: source for source in settings.sources
               if source.pages.tags or source.pages.full_text}
    if not sources:
        return PagesReport()
    store.queue_pages(sources.keys(), clock())
    jobs = store.due_pages(sources.keys(), clock(), limit)
    if not jobs:
        return PagesReport()
    async with PageFetcher(settings.pages, robots or RobotsCache()) as fetcher:
        outcomes = await asyncio.gather(*(
            _read_one(settings, store, fetcher, sources[job.source_id], job, clock, executor)
            for job in jobs))
    return PagesReport(read=sum(outcomes), failed=len(outcomes) - sum(outcomes))


async def _read_one(settings: Settings, store: Storage, fetcher: PageFetcher,
                    source: SourceConfig, job: PageJob, clock: Clock,
                    executor: Executor | None) -> bool:
    """Fetch, read and store one page; False when it failed (and is retried later)."""
    fetched = await fetcher.fetch(source, job.link)
    error = fetched.error
    entry = store.entry(job.entry_id)
    if error is None and fetched.body is not None and entry is not None:
        reading = functools.partial(
            read_article_page, entry, fetched.body, fetched.headers.get("content-type", ""),
            fetched.final_url or job.link, source, settings)
        try:
            completed, findings = await asyncio.get_running_loop().run_in_executor(
                executor, reading)
        except Exception as crash:  # a crashed worker or a bug on one page
            completed, findings = None, PageFindings(error=ErrorInfo.from_exception(crash))
        error = findings.error
        if completed is not None:
            store.record_page(job, completed, findings.tags,
                              full_text=completed.content != entry.content, now=clock())
            return True
    failure = error or ErrorInfo("FetchError", "no page")
    now = clock()
    retry_at = (now + RETRY_AFTER * 2 ** job.attempts
                if job.attempts < settings.pages.retries else None)
    store.record_page_failure(job, failure, now, retry_at)
    return False
