"""The whole slice, as a reader meets it: a trilingual news site is polled with
``refeed poll``, served with ``refeed serve``, and read back by feedparser and by a real
feed reader (newsboat)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest

from tests.factories import free_port, read_data, write_config
from tests.feedserver import FeedServer

SYNDICATED = "Zelenskyy: negotiations in Istanbul will resume next week"


def refeed(config: Path, *args: str) -> str:
    """Run the real ``refeed`` command line; fail the test on a non-zero exit."""
    done = subprocess.run(
        [sys.executable, "-m", "refeed", "-c", str(config), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def site(tmp_path: Path, feed_server: FeedServer) -> Iterator[str]:
    """Poll the trilingual site (editions first, then the wire that syndicates one of
    their stories), then serve the outputs; yields the server's base URL."""
    for name in ("up-uk.xml", "up-ru.xml", "up-en.xml"):
        feed_server.serve(name, read_data(name))
    feed_server.serve("wire.atom", read_data("wire.atom"), content_type="application/atom+xml")
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    config = write_config(tmp_path, {
        "site": {"title": "UP test", "base_url": base, "languages": ["uk", "ru", "en"]},
        "server": {"host": "127.0.0.1", "port": port},
        "sources": [
            {"id": "up-uk", "url": feed_server.url("up-uk.xml"), "language": "uk"},
            {"id": "up-ru", "url": feed_server.url("up-ru.xml"), "language": "ru"},
            {"id": "up-en", "url": feed_server.url("up-en.xml"), "language": "en"},
            {"id": "wire", "url": feed_server.url("wire.atom"), "title": "Kyiv Wire"},
        ],
        "tags": {
            "putin": ["Putin", "Путін", "Путин"],
            "zelenskyy": {"aliases": ["Zelenskyy", "Зеленський", "Зеленский"],
                          "match": ["(?i)zelensk"]},
            "negotiations": {"aliases": ["negotiations", "переговори", "переговоры"],
                             "match": ["(?i)\\bnegotiat", "(?i)переговор"]},
        },
        "publish": {"feeds": [{"id": "talks-en", "title": "Talks, in English",
                               "tags": ["negotiations"], "languages": ["en"]}]},
    })
    refeed(config, "poll", "up-uk", "up-ru", "up-en")
    refeed(config, "poll")
    with subprocess.Popen(
        [sys.executable, "-m", "refeed", "-c", str(config), "serve"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ) as server:
        try:
            wait_for(base + "healthz")
            yield base
        finally:
            server.terminate()


def wait_for(url: str) -> None:
    """Wait (at most 20 s) until ``url`` answers."""
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def fetch(url: str) -> bytes:
    """The body at ``url``."""
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def titles(url: str) -> list[str]:
    """The entry titles of the feed at ``url``, in order, after a non-bozo parse."""
    parsed: Any = feedparser.parse(fetch(url))
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [entry.title for entry in parsed.entries]


def test_language_tag_and_named_outputs_list_exactly_their_entries(site: str) -> None:
    assert titles(site + "lang/uk.atom") == [
        "Зеленський: переговори у Стамбулі відновляться наступного тижня",
        "Путін оголосив нову хвилю мобілізації",
    ]
    assert titles(site + "tag/putin.atom") == [
        "Putin orders new mobilisation wave",
        "Путин объявил новую волну мобилизации",
        "Путін оголосив нову хвилю мобілізації",
    ]
    assert titles(site + "tag/negotiations/en.atom") == [SYNDICATED]
    assert titles(site + "talks-en.rss") == [SYNDICATED]
    json_items = json.loads(fetch(site + "tag/zelenskyy/ru.json"))["items"]
    assert [item["title"] for item in json_items] == [
        "Зеленский: переговоры в Стамбуле возобновятся на следующей неделе",
    ]


def test_syndicated_story_appears_once(site: str) -> None:
    everything = titles(site + "all.atom")
    assert everything.count(SYNDICATED) == 1
    assert len(everything) == 8  # 2 uk + 2 ru + 3 en + 1 wire exclusive


def test_index_and_opml_list_the_outputs(site: str) -> None:
    index = fetch(site).decode("utf-8")
    assert 'href="tag/negotiations/en.atom"' in index
    assert 'rel="alternate" type="application/atom+xml"' in index
    opml = fetch(site + "outputs.opml").decode("utf-8")
    assert f'xmlUrl="{site}tag/negotiations/en.atom"' in opml


@pytest.mark.skipif(shutil.which("newsboat") is None,
                    reason="newsboat is not installed (make test installs it with apt-get)")
def test_newsboat_reads_the_served_feeds(site: str, tmp_path: Path) -> None:
    urls = tmp_path / "urls"
    urls.write_text(f"{site}tag/negotiations/en.atom\n{site}lang/ru.rss\n")  # 2.21: no JSON Feed
    cache = tmp_path / "cache.db"
    done = subprocess.run(
        ["newsboat", "-u", str(urls), "-c", str(cache), "-C", "/dev/null", "-x", "reload"],
        capture_output=True, text=True, timeout=60, check=False,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT feedurl, title FROM rss_item ORDER BY feedurl, title").fetchall()
    assert rows == [
        (f"{site}lang/ru.rss", "Зеленский: переговоры в Стамбуле возобновятся на следующей неделе"),
        (f"{site}lang/ru.rss", "Путин объявил новую волну мобилизации"),
        (f"{site}tag/negotiations/en.atom", SYNDICATED),
    ]
