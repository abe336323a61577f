"""``refeed run``'s publishing: one publish at a time, when :mod:`refeed.freshness` says,
in a thread of its own.

Polls report what they stored (:meth:`Publisher.changed`). The publisher waits for the
debounce or for ``publish.max_delay``, whichever comes first, takes the pending changes
and runs :func:`~refeed.pipeline.publish_all` on a database connection of its own in one
dedicated thread, so the event loop goes on polling and serving readers meanwhile
(SQLite's WAL lets the publish read its snapshot while polls commit). Changes stored
during a publish wait for the next one, which starts at once when they are already due.
A publish that fails (a full disk, a read-only folder) keeps its changes and is tried
again; the timeline is safe either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from refeed.config import Settings
from refeed.errors import RefeedError
from refeed.freshness import Pending, publish_due
from refeed.memory import return_free_memory
from refeed.metrics import Metrics
from refeed.pipeline import notify_hub, publish_all
from refeed.publish import PublishReport
from refeed.storage import Storage, open_storage

log = logging.getLogger("refeed")
MAX_PUBLISH_RETRY = timedelta(minutes=1)  # a failed publish is tried again this soon


class Publisher:
    """Publishes the daemon's outputs while it runs (:meth:`run`, until cancelled)."""

    def __init__(self, settings: Callable[[], Settings], metrics: Metrics) -> None:
        self.settings = settings  # the daemon's current settings (a reload replaces them)
        self.metrics = metrics
        self.pending = Pending()
        self.publishing: Pending | None = None  # the changes the running publish takes in
        self._wake = asyncio.Event()
        self._retry_at: float | None = None  # after a failure: not before then
        self._took = 0.0  # seconds the last publish took
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="refeed-publish")
        self._store: Storage | None = None  # opened and used in that thread only
        metrics.watch_unpublished(self.unpublished_age)

    def changed(self, entries: int = 0) -> None:
        """The timeline or the settings changed now (``entries`` entries were stored)."""
        self.pending.add(time.monotonic(), entries)
        self._wake.set()

    def unpublished_age(self) -> float:
        """Seconds the oldest change not in the outputs yet has waited (0: none)."""
        now = time.monotonic()
        running = self.publishing.age(now) if self.publishing is not None else 0.0
        return max(self.pending.age(now), running)

    async def run(self) -> None:
        """Publish whenever changes are due, one publish at a time, until cancelled."""
        while True:
            bound = self.settings().publish.max_delay.total_seconds()
            due = publish_due(self.pending, bound, self._took)
            if due is not None and self._retry_at is not None:
                due = max(due, self._retry_at)
            if due is not None and due <= time.monotonic():
                await self.publish()
                continue
            self._wake.clear()
            timeout = None if due is None else due - time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def publish(self) -> None:
        """Publish what is pending now."""
        settings = self.settings()
        taken = self.publishing = self.pending.take()
        started = time.monotonic()
        try:
            report = await asyncio.get_running_loop().run_in_executor(
                self._thread, self._publish, settings)
        except Exception as error:  # a bug must not end publishing for good
            self._failed(settings, taken, error)
            return
        finally:
            self.publishing = None
        self._retry_at = None
        done = time.monotonic()
        self._took = done - started
        lags = list(taken.lags(done))
        self.metrics.record_publish(report, done - started, lags)
        log.info("event=publish written=%d unchanged=%d removed=%d entries=%d lag_max=%.1f"
                 " seconds=%.2f", len(report.written), report.unchanged, len(report.removed),
                 taken.entries, max((lag for lag, _ in lags), default=0.0), done - started)
        for problem in await notify_hub(settings, report):
            log.warning("event=websub-failed problem=%r", problem)

    def _failed(self, settings: Settings, taken: Pending, error: Exception) -> None:
        """Keep the changes of a failed publish and try again soon."""
        self.pending.put_back(taken)
        retry = min(settings.polling.interval, MAX_PUBLISH_RETRY).total_seconds()
        self._retry_at = time.monotonic() + retry
        if isinstance(error, RefeedError):  # a full disk, a read-only folder
            log.error("event=publish-failed output=%s error=%r retry_in=%ds",
                      settings.output_dir, str(error), retry)
        else:
            log.exception("event=publish-failed output=%s error=%r retry_in=%ds",
                          settings.output_dir, repr(error), retry)

    def _publish(self, settings: Settings) -> PublishReport:
        """One publish, in the publish thread."""
        if self._store is None:
            self._store = open_storage(settings.database)
        try:
            return publish_all(settings, self._store)
        finally:
            return_free_memory()

    async def close(self) -> None:
        """Let a publish in flight end (its files are replaced whole either way), then
        close the publish thread's connection and the thread."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close_store)
        self._thread.shutdown()

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

