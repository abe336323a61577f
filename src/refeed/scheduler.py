"""``refeed run``: the daemon. One asyncio loop runs the scheduler, the fetches and the
reader-facing server; parsing runs in the worker pool.

- One APScheduler job per source (``max_instances=1``, ``coalesce=True``), due at the
  time stored by its last poll (see :mod:`refeed.cadence`); jobs are rebuilt from the
  config and the sources table at start — no pickled job store.
- After polls that stored something, outputs are published (:mod:`refeed.publisher`):
  once a burst of polls settles, and never later than ``publish.max_delay`` after the
  oldest change, one publish at a time, in a thread of its own.
- SIGHUP, or a change of config.yaml on disk, reloads the config: it is validated first;
  on any error the daemon logs every problem with its line and keeps the old config; on
  success sources are added, removed and rescheduled without a restart.
- SIGTERM/SIGINT: stop scheduling, cancel in-flight polls, close everything, return.
- One daemon per database: a lock file next to it; a second ``refeed run`` refuses.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import signal
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from refeed.config import Settings, load_settings
from refeed.errors import ConfigError, RefeedError
from refeed.fetch import Fetcher
from refeed.memory import tune_malloc
from refeed.metrics import Metrics
from refeed.pagejobs import RobotsCache, fetch_pages
from refeed.pipeline import make_worker_pool, poll_source, utc_now
from refeed.publisher import Publisher
from refeed.server import SERVED_KEY, make_app
from refeed.storage import open_storage
from refeed.storage.codecs import from_iso

log = logging.getLogger("refeed")
MIN_RESCHEDULE = timedelta(seconds=1)
RESTART_SPREAD = timedelta(seconds=0.2)  # between overdue sources' first polls, at most
UNHEALTHY_LAG = 4  # /healthz fails when a change waits this many times publish.max_delay
GONE = 410
CONFIG_CHECK_SECONDS = 2.0
PAGES_SECONDS = 5.0  # how often due article pages are looked for


@contextlib.contextmanager
def database_lock(database: Path) -> Iterator[IO[str]]:
    """Hold an exclusive lock next to ``database`` for as long as the daemon runs."""
    path = database.with_name(database.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefeedError("another refeed run is using this database", str(database)) from None
        yield handle


class Daemon:
    """The long-running process behind ``refeed run``."""

    def __init__(self, config_path: Path, settings: Settings) -> None:
        self.config_path = config_path
        self.settings = settings
        self.config_mtime = config_path.stat().st_mtime_ns
        self.stopping = asyncio.Event()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.store = open_storage(settings.database)
        self.pool = make_worker_pool(settings.language_policy)
        self.fetcher = Fetcher(settings.polling)
        self.runner: web.AppRunner | None = None
        self.metrics = Metrics()
        self.publisher = Publisher(lambda: self.settings, self.metrics)
        self.polls: set[asyncio.Task[Any]] = set()
        self.publishing: asyncio.Task[None] | None = None
        self.robots = RobotsCache()

    async def run(self) -> None:
        """Serve, schedule and poll until SIGTERM/SIGINT."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        await self.fetcher.__aenter__()
        self.publishing = asyncio.create_task(self.publisher.run())
        try:
            await self._start_server()
            self.store.sync_sources(self.settings.sources)
            self.scheduler.start()
            self._schedule_all()
            self.publisher.changed()  # what a crash between commit and publish left stale
            self.scheduler.add_job(self._check_config, "interval", seconds=CONFIG_CHECK_SECONDS,
                                   id="config-watch", coalesce=True, max_instances=1)
            self.scheduler.add_job(self._read_pages, "interval", seconds=PAGES_SECONDS,
                                   id="pages", coalesce=True, max_instances=1)
            self.scheduler.add_job(self._prune, "interval", days=1, id="retention",
                                   next_run_time=utc_now() + timedelta(minutes=1),
                                   coalesce=True, max_instances=1)
            log.info("event=started sources=%d output=%s", len(self.settings.sources),
                     self.settings.output_dir)
            await self.stopping.wait()
        finally:
            await self._shutdown()

    async def _start_server(self) -> None:
        server = self.settings.server
        app = make_app(self.settings, self.health, self.metrics.registry)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, server.host, server.port).start()
        log.info("event=serving address=http://%s:%d/", server.host, server.port)

    def health(self) -> dict[str, Any]:
        """The daemon's part of ``/healthz``: ``problems`` lists what makes it unhealthy."""
        bound = self.settings.publish.max_delay.total_seconds()
        waiting = self.publisher.unpublished_age()
        problems = [] if self.scheduler.running else ["the scheduler is not running"]
        if waiting > UNHEALTHY_LAG * bound:
            problems.append(f"a change has waited {waiting:.0f} s to be published"
                            f" (publish.max_delay is {bound:g} s)")
        return {"scheduler_running": self.scheduler.running,
                "scheduled_sources": len(self._source_jobs()),
                "publish_pending_seconds": round(waiting, 1),
                "publish_max_delay_seconds": bound, "problems": problems}

    def _source_jobs(self) -> list[str]:
        return [job.id for job in self.scheduler.get_jobs() if job.id.startswith("poll:")]

    def _schedule_all(self) -> None:
        states = {row["id"]: row for row in self.store.source_states()}
        now = utc_now()
        sources = self.settings.sources
        # a restart does not poll everything at once: overdue sources are spread out, over
        # one polling interval at most (10,000 sources 0.2 s apart would take 33 minutes)
        step = min(RESTART_SPREAD, self.settings.polling.interval / max(1, len(sources)))
        for index, source in enumerate(sources):
            if states.get(source.id, {}).get("http_status") == GONE:
                continue  # 410 Gone: not polled again until the config changes its URL
            stored = states.get(source.id, {}).get("next_due")
            due = from_iso(stored) if stored else now
            self._schedule(source.id, max(due, now + step * index))

    def _schedule(self, source_id: str, when: datetime) -> None:
        # never at once: a source's poll reschedules itself while it still runs, and a job
        # due before that run ends would be skipped (max_instances) and lost
        soonest = utc_now() + MIN_RESCHEDULE
        self.scheduler.add_job(
            self._poll, DateTrigger(run_date=max(when, soonest)), args=[source_id],
            id=f"poll:{source_id}", replace_existing=True, max_instances=1, coalesce=True,
            misfire_grace_time=None,
        )

    async def _poll(self, source_id: str) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.polls.add(task)
        try:
            await self._poll_once(source_id)
        except asyncio.CancelledError:
            if not self.stopping.is_set():
                raise
            # stopped by SIGTERM: nothing of the poll was stored, the next start polls
            # the source again (APScheduler would log the cancellation as an error)
        finally:
            if task is not None:
                self.polls.discard(task)

    async def _poll_once(self, source_id: str) -> None:
        settings = self.settings
        source = next((s for s in settings.sources if s.id == source_id), None)
        if source is None or self.stopping.is_set():
            return
        try:
            result = await poll_source(settings, source, self.store, self.fetcher, self.pool)
        except RefeedError as error:  # the database could not be written
            log.error("event=poll-failed source=%s error=%r", source_id, str(error))
            self._schedule(source_id, utc_now() + settings.source_interval(source))
            return
        counts = result.counts
        log.info(
            "event=poll source=%s status=%s http=%s new=%d updated=%d duplicates=%d "
            "elapsed=%.2f%s", source_id, result.status, result.http_status, counts.new,
            counts.updated, counts.duplicates, result.elapsed,
            f" error={str(result.error)!r}" if result.error else "",
        )
        self.metrics.record_poll(result, self.store.failing_sources())
        due = self.store.next_due(source_id)
        if result.http_status == GONE:
            log.warning("event=gone source=%s action=polling-stopped", source_id)
        elif due is not None:
            self._schedule(source_id, due)
        stored = counts.new + counts.updated + counts.duplicates
        if stored:
            self.publisher.changed(stored)

    async def _read_pages(self) -> None:
        """Fetch the article pages due (a job of its own: polls never wait for it)."""
        if self.stopping.is_set():
            return
        try:
            report = await fetch_pages(self.settings, self.store, robots=self.robots,
                                       executor=self.pool, clock=utc_now)
        except RefeedError as error:  # the database could not be written
            log.error("event=pages-failed error=%r", str(error))
            return
        if report.read or report.failed:
            log.info("event=pages read=%d failed=%d", report.read, report.failed)
        if report.read:
            self.publisher.changed(report.read)

    async def _prune(self) -> None:
        settings = self.settings
        removed = self.store.prune(utc_now(), settings.retention.max_age, settings.max_entries())
        log.info("event=retention pruned=%d", removed)
        if removed:
            self.publisher.changed()

    async def _check_config(self) -> None:
        try:
            mtime = self.config_path.stat().st_mtime_ns
        except OSError:
            return
        if mtime != self.config_mtime:
            self.reload()

    def reload(self) -> None:
        """Load config.yaml again; keep the old config when the new one is invalid."""
        try:
            self.config_mtime = self.config_path.stat().st_mtime_ns
            settings = load_settings(self.config_path)
        except (ConfigError, OSError) as error:
            for line in str(error).splitlines():
                log.error("event=reload-refused problem=%r", line)
            return
        old_urls = {source.id: source.url for source in self.settings.sources}
        old, new = set(old_urls), {source.id for source in settings.sources}
        moved = {source.id for source in settings.sources
                 if source.id in old_urls and old_urls[source.id] != source.url}
        self.settings = settings
        self.fetcher.polling = settings.polling
        if self.runner is not None:
            self.runner.app[SERVED_KEY].settings = settings
        self.store.sync_sources(settings.sources)
        for removed in old - new:
            with contextlib.suppress(Exception):
                self.scheduler.remove_job(f"poll:{removed}")
        for added in sorted((new - old) | moved):  # a new URL is polled at once
            self._schedule(added, utc_now())
        self.publisher.changed()
        log.info("event=reloaded sources=%d added=%d removed=%d", len(new), len(new - old),
                 len(old - new))

    async def _shutdown(self) -> None:
        log.info("event=stopping in_flight=%d", len(self.polls))
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for task in list(self.polls):
            task.cancel()
        await asyncio.gather(*self.polls, return_exceptions=True)
        if self.publishing is not None:
            self.publishing.cancel()
            await asyncio.gather(self.publishing, return_exceptions=True)
        await self.publisher.close()
        if self.runner is not None:
            await self.runner.cleanup()
        await self.fetcher.__aexit__(None, None, None)
        self.pool.shutdown(cancel_futures=True)
        self.store.close()
        log.info("event=stopped")


def run_daemon(config_path: Path, settings: Settings) -> None:
    """Run the daemon until SIGTERM/SIGINT (``refeed run``)."""
    tune_malloc()  # before any thread or pool process starts
    with database_lock(settings.database):
        asyncio.run(Daemon(config_path, settings).run())
