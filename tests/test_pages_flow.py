"""Article pages read for their tags and full text, through real polls of a local site
in the model user's shape (summary-only feeds, tags only on the pages)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from refeed.config import PagesConfig, Settings, SourceConfig, load_settings
from refeed.pagejobs import PageFetcher, RobotsCache, fetch_pages
from refeed.pipeline import retag_timeline, utc_now
from refeed.storage import EntryQuery, Store
from tests.factories import free_port, poll, write_config
from tests.feedserver import FeedServer
from tests.pagesite import Story, article_page, feed

TAGS = {"putin": ["Putin", "Путін", "Путин"],
        "zelenskyy": ["Zelenskyy", "Зеленський", "Зеленский"],
        "negotiations": ["negotiations", "переговори", "переговоры"]}
STORIES = (
    Story("talks", "en", "Delegations meet in Istanbul",
          ("Delegations met in Istanbul on Monday for a new round of talks on a ceasefire. "
           "Turkey's foreign minister hosted the meeting at the Dolmabahce palace.",
           "The first topic is an exchange of prisoners of war, the delegation head said.",
           "The Kremlin said the president would not attend the round himself."),
          (("Putin", "putin"), ("negotiations", "negotiations"))),
    Story("grid", "en", "Power cuts return to Kharkiv",
          ("Scheduled power cuts return to Kharkiv after a strike on a substation overnight. "
           "The regional utility said the outages would last four hours a day.",
           "Hospitals and water pumps run on generators, the mayor said."),
          (("Zelenskyy", "zelenskyy"),)),
    Story("perehovory", "uk", "Делегації зустрілися в Стамбулі",
          ("Делегації зустрілися у Стамбулі в понеділок на новий раунд переговорів про "
           "припинення вогню. Зустріч приймав міністр закордонних справ Туреччини.",
           "Першою темою став обмін полоненими, сказав голова делегації."),
          (("Путін", "putin"), ("переговори", "perehovory"))),
    Story("peregovory", "ru", "Делегации встретились в Стамбуле",
          ("Делегации встретились в Стамбуле в понедельник на новый раунд переговоров о "
           "прекращении огня. Встречу принимал министр иностранных дел Турции.",
           "Первой темой стал обмен пленными, сказал глава делегации."),
          (("Путин", "putin"), ("переговоры", "peregovory"), ("Зеленский", "zelenskiy"))),
)


def serve_site(server: FeedServer) -> dict[str, str]:
    """The site's pages and its three editions' feeds; returns the feeds' URLs."""
    base = server.url("").rstrip("/")
    for story in STORIES:
        others = tuple(other for other in STORIES if other.language == story.language
                       and other is not story)
        server.serve(story.path, article_page(story, others),
                     content_type="text/html; charset=utf-8", validators=False)
    server.serve("robots.txt", "User-agent: *\nDisallow: /private/\n",
                 content_type="text/plain")
    return {language: server.serve(f"{language}.xml", feed(language, tuple(
        story for story in STORIES if story.language == language), base))
        for language in ("uk", "ru", "en")}


def site_config(tmp_path: Path, feeds: dict[str, str], **pages: Any) -> Path:
    return write_config(tmp_path, {
        "site": {"languages": ["uk", "ru", "en"]},
        "sources": [{"id": f"site-{language}", "url": url, "language": language,
                     "pages": {"tags": True, "full_text": True} | pages}
                    for language, url in feeds.items()],
        "tags": TAGS, "pages": {"delay": "0s"},
        "publish": {"tag_min_entries": 1},
    })


def refeed(config: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "refeed", "-c", str(config), *args],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def links(path: Path) -> set[str]:
    return {item["url"].rsplit("/", 2)[-2] for item in json.loads(path.read_text())["items"]}


def test_tag_feeds_and_full_text_come_from_the_pages(tmp_path: Path,
                                                     feed_server: FeedServer) -> None:
    config = site_config(tmp_path, serve_site(feed_server))
    printed = refeed(config, "poll")
    assert "article pages: 4 read, 0 failed" in printed
    out = tmp_path / "feeds"
    assert links(out / "tag" / "putin.json") == {"talks", "perehovory", "peregovory"}
    assert links(out / "tag" / "putin" / "en.json") == {"talks"}
    assert links(out / "tag" / "zelenskyy.json") == {"grid", "peregovory"}
    assert links(out / "tag" / "negotiations" / "uk.json") == {"perehovory"}
    items = {item["url"].rsplit("/", 2)[-2]: item
             for item in json.loads((out / "all.json").read_text())["items"]}
    talks = items["talks"]["content_html"]
    assert "exchange of prisoners of war" in talks  # the article's text, not its summary
    assert "Subscribe to our newsletter" not in talks  # the sidebar left out
    assert "Power cuts" not in talks
    # a second poll fetches no page again
    pages = [story.path for story in STORIES]
    before = sum(len(feed_server.requests_to(path)) for path in pages)
    assert before == len(STORIES)
    refeed(config, "poll")
    assert sum(len(feed_server.requests_to(path)) for path in pages) == before


def page_state(settings: Settings) -> dict[str, Any]:
    store = Store.open(settings.database)
    try:
        [row] = store.entries(EntryQuery(limit=10))
        return dict(store.page_states([row["id"]])[row["id"]]) | {
            "entry": row, "failures": store.page_failures()}
    finally:
        store.close()


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ({"status": 500}, "500"),
        ({"content_type": "application/pdf"}, "not an HTML page (application/pdf)"),
        ({"generate": lambda _: b"<html>" + b"x" * 2_000_000}, "exceeds max_bytes"),
        ({"delay": 3.0}, "timed out"),
        ({"robots": "User-agent: *\nDisallow: /en/news/\n"}, "robots.txt disallows it"),
    ],
)
def test_a_page_that_fails_leaves_its_entry_published(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor, route: dict[str, Any],
    reason: str,
) -> None:
    story = STORIES[1]
    base = feed_server.url("").rstrip("/")
    feed_server.serve("robots.txt", route.pop("robots", ""), content_type="text/plain")
    feed_server.serve(story.path, article_page(story), validators=False,
                      **{"content_type": "text/html"} | route)
    url = feed_server.serve("en.xml", feed("en", (story,), base))
    config = write_config(tmp_path, {
        "sources": [{"id": "site-en", "url": url, "pages": {"tags": True, "full_text": True}}],
        "pages": {"delay": "0s", "timeout": "1s", "max_bytes": "1MB"},
    })
    settings = load_settings(config)
    poll(settings, worker_pool)
    store = Store.open(settings.database)
    try:
        report = asyncio.run(fetch_pages(settings, store, clock=utc_now))
    finally:
        store.close()
    assert (report.read, report.failed) == (0, 1)
    state = page_state(settings)
    assert state["state"] == "due"  # retried later
    assert reason in state["error"]["message"]
    assert state["entry"]["title"] == story.title  # published from the feed
    assert state["failures"] == {"site-en": 1}  # what refeed status counts


def test_an_entry_of_a_public_feed_never_leads_to_a_private_address(
        feed_server: FeedServer) -> None:
    # the feed is the admin's to place; an entry's link, or a redirect, is not
    story = STORIES[1]
    target = feed_server.serve(story.path, article_page(story), content_type="text/html")
    public = SourceConfig(id="wire", url="https://93.184.215.14/feed.xml")

    async def fetch(url: str) -> str:
        async with PageFetcher(PagesConfig(delay=timedelta(0)), RobotsCache()) as fetcher:
            fetcher.robots.keep(url.split("/", 3)[0] + "//" + url.split("/", 3)[2], None)
            result = await fetcher.fetch(public, url)
        assert result.error is not None
        return result.error.message

    assert "private address refused" in asyncio.run(fetch(target))
    assert feed_server.requests_to(story.path) == []


def busy_feed(fetch: int) -> bytes:
    """A source that gains a story on every fetch (stories 1…n, the newest 20)."""
    items = "".join(f"<item><title>Busy story {n}</title><guid>https://busy.example/{n}</guid>"
                    f"<link>https://busy.example/{n}</link><description>Part {n}."
                    "</description></item>" for n in range(fetch, max(0, fetch - 20), -1))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Busy</title>'
            f"<link>https://busy.example/</link>{items}</channel></rss>").encode()


def served(base: str, path: str) -> list[dict[str, Any]]:
    try:
        with urllib.request.urlopen(base + path, timeout=5) as response:
            return list(json.load(response)["items"])
    except OSError:
        return []


def wait_for(check: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {check.__name__}"
        time.sleep(0.2)


@pytest.mark.slow
def test_the_daemon_keeps_polling_while_slow_pages_are_read(
        tmp_path: Path, feed_server: FeedServer) -> None:
    feeds = serve_site(feed_server)
    for story in STORIES:  # each page takes 2 s to answer
        feed_server.serve(story.path, article_page(story), content_type="text/html",
                          validators=False, delay=2.0)
    feed_server.serve("busy.xml", generate=busy_feed)
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    config = write_config(tmp_path, {
        "site": {"base_url": base, "languages": ["uk", "ru", "en"]},
        "server": {"host": "127.0.0.1", "port": port},
        "polling": {"interval": "1s", "min_interval": "1s", "max_interval": "1s"},
        "pages": {"delay": "1s", "per_host": 1},
        "publish": {"formats": ["json"], "max_delay": "2s", "tag_min_entries": 1},
        "sources": [{"id": "busy", "url": feed_server.url("busy.xml"), "dedup": False,
                     "language": "en"},
                    {"id": "site-en", "url": feeds["en"], "language": "en",
                     "pages": {"tags": True, "full_text": True}}],
        "tags": TAGS,
    })
    with (tmp_path / "daemon.log").open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "refeed", "-c", str(config), "run"],
                                   stdout=subprocess.DEVNULL, stderr=log)
        try:
            def busy_published() -> int:
                titles = [item["title"] for item in served(base, "all.json")]
                return max((int(title.rsplit(" ", 1)[1]) for title in titles
                            if title.startswith("Busy story")), default=0)

            wait_for(lambda: busy_published() > 0, 30)
            first, started = busy_published(), time.monotonic()
            # the site's two pages take 2 s each, 1 s apart: about 5 s of page reading
            wait_for(lambda: len(served(base, "tag/putin.json")) == 1, 30)
            elapsed = time.monotonic() - started
            assert busy_published() - first >= elapsed - 3  # a poll a second, pages or not
        finally:
            process.terminate()
            assert process.wait(timeout=15) == 0


def test_page_tags_remap_with_the_aliases_and_an_updated_entry_is_read_again(
        tmp_path: Path, feed_server: FeedServer, worker_pool: Executor) -> None:
    story = STORIES[2]  # tagged Путін and переговори on its page
    base = feed_server.url("").rstrip("/")
    feed_server.serve(story.path, article_page(story), content_type="text/html",
                      validators=False)
    url = feed_server.serve("uk.xml", feed("uk", (story,), base))
    document: dict[str, Any] = {
        "sources": [{"id": "site-uk", "url": url, "pages": {"tags": True}}],
        "pages": {"delay": "0s"}}
    settings = load_settings(write_config(tmp_path, document))

    def poll_and_read(settings: Settings) -> list[str]:
        poll(settings, worker_pool)
        store = Store.open(settings.database)
        try:
            asyncio.run(fetch_pages(settings, store, clock=utc_now))
            retag_timeline(settings, store)
            [row] = store.entries(EntryQuery(limit=10))
            return sorted(row["tags"])
        finally:
            store.close()

    assert poll_and_read(settings) == ["News", "Путін", "переговори"]
    aliased = load_settings(write_config(tmp_path, document | {"tags": TAGS}))
    assert poll_and_read(aliased) == ["News", "negotiations", "putin"]  # no page read again
    assert len(feed_server.requests_to(story.path)) == 1
    edited = Story(story.slug, "uk", story.title + " (оновлено)", story.paragraphs, story.tags)
    feed_server.serve("uk.xml", feed("uk", (edited,), base))
    assert poll_and_read(aliased) == ["News", "negotiations", "putin"]
    assert len(feed_server.requests_to(story.path)) == 2  # the updated entry's page again


def test_a_page_is_given_up_after_its_retries(
        tmp_path: Path, feed_server: FeedServer, worker_pool: Executor) -> None:
    story = STORIES[1]
    base = feed_server.url("").rstrip("/")
    feed_server.serve(story.path, "", status=500)
    url = feed_server.serve("en.xml", feed("en", (story,), base))
    settings = load_settings(write_config(tmp_path, {
        "sources": [{"id": "site-en", "url": url, "pages": {"tags": True}}],
        "pages": {"delay": "0s", "retries": 1}}))
    poll(settings, worker_pool)
    store = Store.open(settings.database)
    try:
        asyncio.run(fetch_pages(settings, store, clock=utc_now))
        later = lambda: utc_now() + timedelta(hours=1)  # noqa: E731 -- past the backoff
        asyncio.run(fetch_pages(settings, store, clock=later))
        asyncio.run(fetch_pages(settings, store, clock=later))  # nothing due any more
    finally:
        store.close()
    state = page_state(settings)
    assert (state["state"], state["attempts"]) == ("failed", 2)
    assert len(feed_server.requests_to(story.path)) == 2
