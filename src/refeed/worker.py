"""What a pool worker runs: parse | normalize of one downloaded document.

A worker imports this module to run :func:`process_document`, so it imports only what
parsing and normalizing need — not the HTTP client, the renderer or the database, which
cost every worker ~30 MiB and a slower start when the function lived in ``pipeline``.

The pool's forkserver imports it (through :mod:`refeed.forkserver`) before it forks any
worker, so the workers share these modules' memory.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from types import FrameType

from refeed.config import Settings, SourceConfig
from refeed.errors import ParseError
from refeed.language import LanguagePolicy
from refeed.model import Entry, ErrorInfo, PageFindings, ProcessedFeed, Taxonomy
from refeed.normalize import normalize_feed
from refeed.parse import parse_document

FEED_HINTS = ("ttl", "sy_updateperiod", "sy_updatefrequency")
# A document's parse and normalize must end within this (the farm's take ~0.1 s, a 10 MB
# one a few seconds): a hostile feed can make feedparser's regexes take hours, and a
# worker stuck on it would stop every other source's polls behind it.
PROCESS_SECONDS = 60.0
SHARED_LANGUAGES = "REFEED_WORKER_LANGUAGES"


def share_detectors(policy: LanguagePolicy) -> None:
    """Name ``policy`` as the one whose detectors a forkserver started from now on loads
    once for all its workers (see :mod:`refeed.forkserver`)."""
    named = {"languages": policy.languages if policy.detect else [],
             "low_accuracy": policy.low_accuracy, "others": policy.others}
    os.environ[SHARED_LANGUAGES] = json.dumps(named)


def process_document(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    source: SourceConfig,
    rules: tuple[Taxonomy, LanguagePolicy],
    max_bytes: int,
    now: datetime,
    known: Collection[str] = frozenset(),
    salt: str = "",
    seconds: float = PROCESS_SECONDS,
) -> ProcessedFeed:
    """parse | normalize, in a worker process, within ``seconds``; a parse failure (or
    running out of time) comes back as data. Items whose digest under ``salt`` is
    ``known`` (stored by an earlier poll) are not parsed again."""
    try:
        with deadline(seconds, url):
            parsed = parse_document(body, headers, url, max_bytes, known, salt)
            taxonomy, policy = rules
            entries = normalize_feed(parsed, source, taxonomy, now, policy)
    except ParseError as error:
        return ProcessedFeed(error=ErrorInfo.from_exception(error))
    hints = {key: str(parsed.feed[key]) for key in FEED_HINTS if parsed.feed.get(key)}
    return ProcessedFeed(
        tuple(entries), parsed.warning, feed=hints, digests=parsed.digests,
        skipped=parsed.skipped,
    )


@contextmanager
def deadline(seconds: float, url: str) -> Iterator[None]:
    """Raise :class:`ParseError` in the block once it has run ``seconds`` (a real-time
    timer: Python's regex engine and parsers check for signals as they go). Only in a
    process's main thread, where pool workers run their tasks; elsewhere no limit. A
    timer set before (a test runner's) is put back with what was left of it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise ParseError(f"parsing took longer than {seconds:g} s", url)

    previous = signal.signal(signal.SIGALRM, expire)
    earlier, repeat = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if earlier:
            left = earlier - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), repeat)


def read_article_page(
    entry: Entry, body: bytes, content_type: str, url: str, source: SourceConfig,
    settings: Settings,
) -> tuple[Entry | None, PageFindings]:
    """read | complete of one fetched article page: ``entry`` as the page completes it
    (None when the page could not be read), and what the page gave."""
    from refeed.pages import read_page, with_page  # noqa: PLC0415 -- lxml, only for pages

    findings = read_page(body, content_type, url, source.pages)
    if findings.error is not None:
        return None, findings
    return with_page(entry, findings, source, settings), findings
