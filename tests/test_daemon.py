"""``refeed run`` as a real process: polls 127.0.0.1 sources, publishes, serves, reloads its
config on SIGHUP (refusing a broken one), refuses a second instance, stops on SIGTERM."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, cast

import pytest

from refeed.config import load_settings
from refeed.pipeline import utc_now
from refeed.scheduler import Daemon
from tests.factories import free_port, read_data, write_config
from tests.feedserver import FeedServer


def wait_until(check: Callable[[], bool], seconds: float = 30) -> None:
    """Poll ``check`` until it is true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {check.__name__}")
        time.sleep(0.2)


def served_items(base: str, path: str, field: str = "title") -> list[str]:
    """One field of each item of a served JSON Feed (empty when it is not there yet)."""
    try:
        with urllib.request.urlopen(base + path, timeout=5) as response:
            return [item[field] for item in json.load(response)["items"]]
    except OSError:
        return []


@pytest.fixture
def daemon(tmp_path: Path, feed_server: FeedServer) -> Iterator[dict[str, Any]]:
    """A running ``refeed run`` with one source; yields what the test needs."""
    feed_server.serve("uk.xml", read_data("up-uk.xml"))
    feed_server.serve("en.xml", read_data("up-en.xml"))
    port = free_port()
    config: dict[str, Any] = {
        "site": {"base_url": f"http://127.0.0.1:{port}/", "languages": ["uk", "en"]},
        "server": {"host": "127.0.0.1", "port": port},
        "sources": [{"id": "up-uk", "url": feed_server.url("uk.xml"), "language": "uk"}],
    }
    path = write_config(tmp_path, config)
    log = (tmp_path / "daemon.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "refeed", "-c", str(path), "run"],
        stdout=subprocess.DEVNULL, stderr=log,
    )
    try:
        yield {"process": process, "path": path, "config": config, "tmp": tmp_path,
               "base": f"http://127.0.0.1:{port}/", "server": feed_server,
               "log": tmp_path / "daemon.log"}
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        log.close()


@pytest.mark.slow
def test_daemon_polls_reloads_refuses_broken_config_and_stops(daemon: dict[str, Any]) -> None:
    base, process = daemon["base"], daemon["process"]

    def ukrainian_entries_served() -> bool:
        return len(served_items(base, "all.json")) == 2

    wait_until(ukrainian_entries_served)

    # add a source and send SIGHUP: it is polled and published without a restart
    config = daemon["config"]
    config["sources"].append({"id": "up-en", "url": daemon["server"].url("en.xml")})
    write_config(daemon["tmp"], config)
    process.send_signal(signal.SIGHUP)

    def english_entries_served() -> bool:
        return len(served_items(base, "lang/en.json")) == 3

    wait_until(english_entries_served)

    # a broken edit is refused with its line; the old config keeps working
    daemon["path"].write_text(daemon["path"].read_text() + "polling: {interval: soon}\n")
    process.send_signal(signal.SIGHUP)

    def refusal_logged() -> bool:
        return "polling.interval" in daemon["log"].read_text()

    wait_until(refusal_logged)
    assert process.poll() is None
    with urllib.request.urlopen(base + "healthz", timeout=5) as response:
        health = json.load(response)
    assert health["scheduler_running"] is True
    assert health["scheduled_sources"] == 2
    assert len(served_items(base, "all.json")) == 5
    with urllib.request.urlopen(base + "metrics", timeout=5) as response:
        metrics = response.read().decode()
    assert 'refeed_polls_total{outcome="ok"} 2.0' in metrics
    assert 'refeed_entries_total{kind="new"} 5.0' in metrics
    assert "refeed_sources_failing 0.0" in metrics
    assert "refeed_publish_seconds_count" in metrics

    # a second daemon on the same database refuses to start
    other = daemon["tmp"] / "other"
    other.mkdir()
    second_config = write_config(other, config | {
        "database": str(daemon["tmp"] / "refeed.db"), "server": {"port": free_port()},
    })
    second = subprocess.run(
        [sys.executable, "-m", "refeed", "-c", str(second_config), "run"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert second.returncode == 1
    assert "another refeed run is using this database" in second.stderr

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert "event=stopped" in daemon["log"].read_text()


def test_a_source_is_never_rescheduled_before_its_running_poll_can_end(tmp_path: Path) -> None:
    """A poll schedules its source's next run while it still runs; a run due before that
    poll ends would be skipped by APScheduler (one instance at a time) and the source
    dropped from the schedule for good — so the next run is never sooner than a second."""
    path = write_config(tmp_path, {"sources": [{"id": "a", "url": "http://127.0.0.1:9/"}]})
    daemon = Daemon(path, load_settings(path))

    def scheduled(due: datetime) -> datetime:
        daemon._schedule("a", due)
        job = daemon.scheduler.get_job("poll:a")
        daemon.scheduler.remove_job("poll:a")
        assert job is not None
        return cast(datetime, job.trigger.run_date)

    try:
        assert scheduled(utc_now() - timedelta(minutes=5)) >= utc_now() + timedelta(seconds=0.5)
        assert scheduled(utc_now()) >= utc_now() + timedelta(seconds=0.5)
        later = utc_now() + timedelta(minutes=15)
        assert scheduled(later) == later
    finally:
        daemon.pool.shutdown()
        daemon.store.close()


def growing_feed(fetch: int) -> bytes:
    """A busy source: its n-th fetch lists stories 1…n (at most the newest 20), so every
    poll finds one new entry."""
    items = "".join(
        f"<item><title>Story number {n}</title><guid>https://busy.example/{n}</guid>"
        f"<link>https://busy.example/{n}</link><description>What happened, part {n}."
        f"</description><pubDate>{format_datetime(BUSY_START + timedelta(minutes=n))}"
        "</pubDate></item>"
        for n in range(fetch, max(0, fetch - 20), -1)
    )
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            "<title>Busy</title><link>https://busy.example/</link><description>Busy"
            f"</description>{items}</channel></rss>").encode()


BUSY_START = datetime(2026, 12, 1, tzinfo=UTC)


def busy_daemon(tmp_path: Path, feed_server: FeedServer, **extra: Any) -> dict[str, Any]:
    """A config of one source polled every second that gains an entry on every poll."""
    feed_server.serve("busy.xml", generate=growing_feed)
    port = free_port()
    config: dict[str, Any] = {
        "site": {"base_url": f"http://127.0.0.1:{port}/"},
        "server": {"host": "127.0.0.1", "port": port},
        "polling": {"interval": "1s", "min_interval": "1s", "max_interval": "1s"},
        "language": {"detect": False},
        "publish": {"formats": ["json"], "max_delay": "4s"},
        "sources": [{"id": "busy", "url": feed_server.url("busy.xml"), "dedup": False}],
    } | extra
    return config


@contextmanager
def running(tmp_path: Path, config: dict[str, Any]) -> Iterator[subprocess.Popen[bytes]]:
    """``refeed run`` on ``config`` (its log in tmp_path/daemon.log), killed at the end."""
    path = write_config(tmp_path, config)
    with (tmp_path / "daemon.log").open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "refeed", "-c", str(path), "run"],
                                   stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def newest_story(base: str) -> int:
    """The highest story number ``all.json`` lists (0 before the first publish)."""
    numbers = [int(url.rsplit("/", 1)[1]) for url in served_items(base, "all.json", "url")]
    return max(numbers, default=0)


def sample(metrics: str, name: str) -> float:
    """The value of one sample (``name`` with its labels) in Prometheus' text format."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", metrics, re.M)
    assert found is not None, f"{name} is not in /metrics"
    return float(found[1])


def fetch_json(url: str) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of ``url``, error statuses included (0: no answer yet)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, cast(dict[str, Any], json.load(response))
    except urllib.error.HTTPError as error:
        return error.code, cast(dict[str, Any], json.load(error))
    except OSError:
        return 0, {}


@pytest.mark.slow
def test_a_source_storing_an_entry_every_second_is_published_within_max_delay(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """Polls that store something every second never push the publish back past
    ``publish.max_delay`` (a debounce alone would wait for a quiet moment forever)."""
    config = busy_daemon(tmp_path, feed_server)
    base = config["site"]["base_url"]
    with running(tmp_path, config) as process:
        wait_until(lambda: len(feed_server.requests_to("busy.xml")) >= 3)
        served = len(feed_server.requests_to("busy.xml"))  # stories 1…served exist now

        def served_story_published() -> bool:
            return newest_story(base) >= served

        wait_until(served_story_published, seconds=4 + 4)  # max_delay + the publish

        def polling_goes_on() -> bool:
            return len(feed_server.requests_to("busy.xml")) >= served + 3

        wait_until(polling_goes_on, seconds=10)
        status, health = fetch_json(base + "healthz")
        assert status == 200
        assert health["problems"] == []
        assert health["publish_max_delay_seconds"] == 4.0
        assert 0 <= health["publish_pending_seconds"] <= 4 * 4.0
        with urllib.request.urlopen(base + "metrics", timeout=5) as response:
            metrics = response.read().decode()
        lagged = sample(metrics, "refeed_publish_lag_seconds_count")
        assert lagged >= served
        # max_delay, the publish itself, and lags counted from the start of their second
        assert sample(metrics, 'refeed_publish_lag_seconds_bucket{le="7.5"}') == lagged
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


@pytest.mark.slow
def test_healthz_fails_when_changes_wait_several_times_max_delay(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A folder that cannot be written: polls go on, publishes fail and are retried, and
    /healthz turns 503 once a change has waited four times ``publish.max_delay``."""
    (tmp_path / "not-a-folder").write_text("a file where the output folder should be")
    config = busy_daemon(tmp_path, feed_server, output_dir="not-a-folder/feeds")
    config["publish"]["max_delay"] = "1s"
    base = config["site"]["base_url"]
    with running(tmp_path, config) as process:

        def unhealthy() -> bool:
            return fetch_json(base + "healthz")[0] == 503

        wait_until(unhealthy)
        status, health = fetch_json(base + "healthz")
        assert status == 503
        assert health["ok"] is False
        assert health["publish_pending_seconds"] >= 4 * 1.0
        assert "waited" in health["problems"][0]
        assert health["scheduler_running"] is True
        assert process.poll() is None
        assert "event=publish-failed" in (tmp_path / "daemon.log").read_text()
