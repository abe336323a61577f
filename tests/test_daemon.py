"""``refeed run`` as a real process: polls 127.0.0.1 sources, publishes, serves, reloads its
config on SIGHUP (refusing a broken one), refuses a second instance, stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from refeed.config import load_settings
from refeed.pipeline import utc_now
from refeed.scheduler import Daemon
from tests.conftest import read_data, write_config
from tests.feedserver import FeedServer
from tests.test_end_to_end import free_port


def wait_until(check: Callable[[], bool], seconds: float = 30) -> None:
    """Poll ``check`` until it is true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {check.__name__}")
        time.sleep(0.2)


def titles(base: str, path: str) -> list[str]:
    """The item titles of a served JSON Feed (empty when it is not there yet)."""
    try:
        with urllib.request.urlopen(base + path, timeout=5) as response:
            return [item["title"] for item in json.load(response)["items"]]
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
        return len(titles(base, "all.json")) == 2

    wait_until(ukrainian_entries_served)

    # add a source and send SIGHUP: it is polled and published without a restart
    config = daemon["config"]
    config["sources"].append({"id": "up-en", "url": daemon["server"].url("en.xml")})
    write_config(daemon["tmp"], config)
    process.send_signal(signal.SIGHUP)

    def english_entries_served() -> bool:
        return len(titles(base, "lang/en.json")) == 3

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
    assert len(titles(base, "all.json")) == 5
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
