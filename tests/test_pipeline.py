"""poll_all end to end: real HTTP on 127.0.0.1, the real process pool, a real SQLite file."""

from __future__ import annotations

from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from refeed.config import Settings
from refeed.model import PollResult
from refeed.normalize import tagging_fingerprint
from refeed.pipeline import REDIRECT_GRACE, make_worker_pool
from refeed.storage import EntryQuery, Store
from tests.factories import config_settings, poll, read_data, validators
from tests.feedserver import FeedServer
from tests.pool_probe import modules_loaded


def source_states(settings: Settings) -> dict[str, dict[str, Any]]:
    """The stored state of every source, by id."""
    store = Store.open(settings.database)
    try:
        return {row["id"]: row for row in store.source_states()}
    finally:
        store.close()


def poll_site(settings: Settings, pool: Executor) -> dict[str, PollResult]:
    """Poll the three editions first, then everything: the wire's copy of a story is then
    seen after the original (within one concurrent poll, "first seen" is a race)."""
    first = poll(settings, pool, "up-uk", "up-ru", "up-en")
    return first | {"wire": poll(settings, pool)["wire"]}


def timeline(settings: Settings, **filters: Any) -> list[dict[str, Any]]:
    """Stored timeline rows matching ``filters`` (see EntryQuery)."""
    store = Store.open(settings.database)
    try:
        return store.entries(EntryQuery(limit=1000, **filters))
    finally:
        store.close()


@pytest.fixture
def news_site(feed_server: FeedServer) -> list[dict[str, Any]]:
    """The trilingual test site plus a wire service that syndicates one English story."""
    for name in ("up-uk.xml", "up-ru.xml", "up-en.xml"):
        feed_server.serve(name, read_data(name))
    feed_server.serve("wire.atom", read_data("wire.atom"), content_type="application/atom+xml")
    return [
        {"id": "up-uk", "url": feed_server.url("up-uk.xml"), "language": "uk"},
        {"id": "up-ru", "url": feed_server.url("up-ru.xml"), "language": "ru"},
        {"id": "up-en", "url": feed_server.url("up-en.xml"), "language": "en"},
        {"id": "wire", "url": feed_server.url("wire.atom")},
    ]


def test_first_poll_stores_every_entry_normalized(
    tmp_path: Path, news_site: list[dict[str, Any]], worker_pool: Executor
) -> None:
    settings = config_settings(tmp_path, news_site)
    results = poll_site(settings, worker_pool)
    assert {sid: r.status for sid, r in results.items()} == dict.fromkeys(results, "ok")
    assert {sid: r.counts.new for sid, r in results.items()} == {
        "up-uk": 2, "up-ru": 2, "up-en": 3, "wire": 1,
    }
    rows = {row["title"]: row for row in timeline(settings)}
    assert len(rows) == 8
    story = rows["Zelenskyy: negotiations in Istanbul will resume next week"]
    assert story["link"] == "https://news.example/eng/news/2026/10/04/1001/"
    assert story["published"] == "2026-10-04T05:40:00Z"
    assert story["language"] == "en"
    assert set(story["tags"]) == {"News", "negotiations"}  # by category and by match rule
    assert "<script" not in rows["Putin orders new mobilisation wave"]["summary"]
    assert rows["Путін оголосив нову хвилю мобілізації"]["tags"] == ["putin"]
    assert rows["Путин объявил новую волну мобилизации"]["language"] == "ru"
    exclusive = rows["Wire exclusive: drone factory opens in Lviv"]
    assert exclusive["link"] == feed_server_url(news_site, "stories/78")
    assert feed_server_url(news_site, "photos/78") in exclusive["content"]


def feed_server_url(sources: list[dict[str, Any]], path: str) -> str:
    """An absolute URL on the test server that serves ``sources``."""
    return sources[0]["url"].rsplit("/", 1)[0] + "/" + path


def test_tags_are_one_across_languages(
    tmp_path: Path, news_site: list[dict[str, Any]], worker_pool: Executor
) -> None:
    settings = config_settings(tmp_path, news_site)
    poll_site(settings, worker_pool)
    by_tag = {
        tag: sorted(row["source_id"] for row in timeline(settings, tag=tag))
        for tag in ("putin", "zelenskyy", "negotiations")
    }
    assert by_tag == {
        "putin": ["up-en", "up-ru", "up-uk"],
        # the English item names Zelenskyy only in its title, and zelenskyy has no rule
        "zelenskyy": ["up-ru", "up-uk"],
        "negotiations": ["up-en", "up-ru", "up-uk"],
    }
    english = timeline(settings, tag="negotiations", language="en")
    assert [row["source_id"] for row in english] == ["up-en"]


def test_syndicated_story_is_stored_once_plus_a_duplicate_record(
    tmp_path: Path, news_site: list[dict[str, Any]], worker_pool: Executor
) -> None:
    settings = config_settings(tmp_path, news_site)
    results = poll_site(settings, worker_pool)
    assert results["wire"].counts.duplicates == 1
    everything = timeline(settings, include_duplicates=True)
    copies = [row for row in everything if row["title"].startswith("Zelenskyy: negotiations")]
    assert sorted(row["source_id"] for row in copies) == ["up-en", "wire"]
    [original] = [row for row in copies if row["duplicate_of"] is None]
    [duplicate] = [row for row in copies if row["duplicate_of"] is not None]
    assert (original["source_id"], duplicate["source_id"]) == ("up-en", "wire")
    assert duplicate["duplicate_of"] == original["id"]
    visible = [row["title"] for row in timeline(settings)]
    assert visible.count("Zelenskyy: negotiations in Istanbul will resume next week") == 1


def test_second_poll_of_unchanged_sources_is_all_304_and_adds_nothing(
    tmp_path: Path, news_site: list[dict[str, Any]], worker_pool: Executor,
    feed_server: FeedServer,
) -> None:
    settings = config_settings(tmp_path, news_site)
    poll(settings, worker_pool)
    before = timeline(settings, include_duplicates=True)
    again = poll(settings, worker_pool)
    assert {r.status for r in again.values()} == {"not-modified"}
    assert {r.http_status for r in again.values()} == {304}
    assert timeline(settings, include_duplicates=True) == before
    assert feed_server.requests_to("up-en.xml")[-1].headers["If-None-Match"]


def test_unchanged_content_without_validators_changes_nothing(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor
) -> None:
    url = feed_server.serve("plain.xml", read_data("up-en.xml"), validators=False)
    settings = config_settings(tmp_path, [{"id": "plain", "url": url}])
    poll(settings, worker_pool)
    before = timeline(settings)
    counts = poll(settings, worker_pool)["plain"].counts
    assert (counts.new, counts.updated, counts.unchanged) == (0, 0, 3)
    after = timeline(settings)
    assert [(r["id"], r["updated"], r["title"]) for r in after] == [
        (r["id"], r["updated"], r["title"]) for r in before
    ]


def test_changed_entry_is_updated_in_place(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor
) -> None:
    url = feed_server.serve("en.xml", read_data("up-en.xml"))
    settings = config_settings(tmp_path, [{"id": "up-en", "url": url, "language": "en"}])
    poll(settings, worker_pool)
    [before] = [r for r in timeline(settings) if r["title"] == "Kyiv metro reopens after repairs"]
    changed = read_data("up-en.xml").replace(
        b"Kyiv metro reopens after repairs", b"Kyiv metro reopens after long repairs"
    )
    feed_server.serve("en.xml", changed)
    counts = poll(settings, worker_pool)["up-en"].counts
    assert (counts.new, counts.updated, counts.unchanged) == (0, 1, 2)
    rows = timeline(settings)
    assert len(rows) == 3
    [after] = [r for r in rows if r["id"] == before["id"]]
    assert after["title"] == "Kyiv metro reopens after long repairs"
    assert after["published"] == before["published"]
    assert after["updated"] > before["updated"]


@pytest.mark.parametrize(
    ("case", "route", "expected"),
    [
        ("html", {"body": b"<html><body>hi</body></html>", "content_type": "text/html"},
         "not an RSS, Atom or JSON feed"),
        ("empty", {"body": b""}, "empty document"),
        ("entity", {"body": "entities.xml"}, "<!ENTITY"),
        ("oversize", {"body": b"<rss>" + b" " * 3_000_000 + b"</rss>"}, "max_bytes"),
        ("timeout", {"body": "up-en.xml", "delay": 3.0}, "timed out"),
        ("missing", {"body": b"gone", "status": 404}, "HTTP 404"),
        ("broken", {"body": b"oops", "status": 500}, "HTTP 500"),
    ],
)
def test_bad_source_fails_alone(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor,
    case: str, route: dict[str, Any], expected: str,
) -> None:
    body = route.pop("body")
    data = read_data(body) if isinstance(body, str) else body
    bad_url = feed_server.serve(f"{case}.xml", data, **route)
    good_url = feed_server.serve("good.xml", read_data("up-en.xml"))
    settings = config_settings(
        tmp_path,
        [{"id": "bad", "url": bad_url}, {"id": "good", "url": good_url}],
        polling={"timeout": "2s", "max_bytes": "1MB"},
    )
    results = poll(settings, worker_pool)
    assert results["good"].status == "ok"
    assert results["good"].counts.new == 3
    assert results["bad"].status == "failed"
    assert results["bad"].error is not None
    assert expected in results["bad"].error.message
    states = source_states(settings)
    assert states["bad"]["ok"] == 0
    assert expected in states["bad"]["error"]
    assert states["bad"]["failures"] == 1
    assert states["good"]["ok"] == 1
    assert states["good"]["entries"] == 3


def test_connection_refused_fails_alone(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor
) -> None:
    good_url = feed_server.serve("good.xml", read_data("up-en.xml"))
    settings = config_settings(
        tmp_path,
        [{"id": "down", "url": "http://127.0.0.1:9/feed"}, {"id": "good", "url": good_url}],
    )
    results = poll(settings, worker_pool)
    assert results["down"].status == "failed"
    assert results["down"].error is not None
    assert "Cannot connect" in results["down"].error.message
    assert results["good"].counts.new == 3


def test_failed_poll_keeps_entries_and_validators(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor
) -> None:
    url = feed_server.serve("en.xml", read_data("up-en.xml"))
    settings = config_settings(tmp_path, [{"id": "up-en", "url": url}])
    poll(settings, worker_pool)
    feed_server.serve("en.xml", b"down for maintenance", status=503)
    assert poll(settings, worker_pool)["up-en"].status == "failed"
    store = Store.open(settings.database)
    [state] = store.source_states()
    sent = validators(store, "up-en")
    store.close()
    assert state["entries"] == 3
    assert sent.etag is not None


def test_json_feed_source(tmp_path: Path, feed_server: FeedServer, worker_pool: Executor) -> None:
    url = feed_server.serve(
        "wire.json", read_data("wire.json"), content_type="application/feed+json"
    )
    settings = config_settings(tmp_path, [{"id": "wire", "url": url}])
    assert poll(settings, worker_pool)["wire"].counts.new == 1
    [row] = timeline(settings)
    assert row["title"] == "Peace talks: delegations land in Geneva"
    assert row["language"] == "en"
    assert set(row["tags"]) == {"negotiations"}
    assert row["published"] == "2026-10-04T06:00:00Z"
    assert "onerror" not in row["content"]
    assert row["enclosures"] == [
        {"url": "https://wire.example/a.mp3", "type": "audio/mpeg", "length": 1234}
    ]


def test_poll_named_sources_only(
    tmp_path: Path, news_site: list[dict[str, Any]], worker_pool: Executor
) -> None:
    settings = config_settings(tmp_path, news_site)
    assert set(poll(settings, worker_pool, "up-uk")) == {"up-uk"}
    assert {row["source_id"] for row in timeline(settings)} == {"up-uk"}


def next_delay(settings: Settings) -> timedelta:
    """How long after its last fetch the only source is due again."""
    [state] = source_states(settings).values()
    return datetime.fromisoformat(state["next_due"]) - datetime.fromisoformat(state["last_fetch"])


def test_next_due_follows_the_source_interval(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor
) -> None:
    """One entry says nothing about the feed's pace: the configured interval holds."""
    url = feed_server.serve("wire.json", read_data("wire.json"))
    settings = config_settings(tmp_path, [{"id": "en", "url": url, "interval": "10m"}])
    poll(settings, worker_pool)
    assert timedelta(minutes=9) <= next_delay(settings) <= timedelta(minutes=11)  # +- jitter


def test_retry_after_on_503_postpones_the_next_poll(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor
) -> None:
    url = feed_server.serve("busy.xml", b"busy", status=503, headers={"Retry-After": "7200"})
    settings = config_settings(tmp_path, [{"id": "busy", "url": url, "interval": "10m"}])
    poll(settings, worker_pool)
    assert timedelta(hours=1.8) <= next_delay(settings) <= timedelta(hours=2.2)
    [state] = source_states(settings).values()
    assert state["failures"] == 1


def test_cache_control_max_age_postpones_the_next_poll(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor
) -> None:
    url = feed_server.serve("wire.json", read_data("wire.json"),
                            headers={"Cache-Control": "max-age=3600"})
    settings = config_settings(tmp_path, [{"id": "en", "url": url, "interval": "10m"}])
    poll(settings, worker_pool)
    assert timedelta(minutes=54) <= next_delay(settings) <= timedelta(minutes=66)


@pytest.mark.parametrize(("status", "followed"), [(301, True), (308, True), (302, False)])
def test_permanent_redirects_are_followed_after_a_grace_of_polls(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor, status: int, followed: bool
) -> None:
    feed_server.serve("new.xml", read_data("up-en.xml"))
    feed_server.serve("old.xml", redirect=feed_server.url("new.xml"), redirect_status=status)
    settings = config_settings(tmp_path, [{"id": "en", "url": feed_server.url("old.xml")}])
    for _ in range(REDIRECT_GRACE):
        assert poll(settings, worker_pool)["en"].status in ("ok", "not-modified")
    assert len(feed_server.requests_to("old.xml")) == REDIRECT_GRACE
    [state] = source_states(settings).values()
    assert state["moved_to"] == (feed_server.url("new.xml") if followed else None)
    poll(settings, worker_pool)
    old_requests = REDIRECT_GRACE + (0 if followed else 1)
    assert len(feed_server.requests_to("old.xml")) == old_requests
    assert len(feed_server.requests_to("new.xml")) == REDIRECT_GRACE + 1


def test_slow_feeds_and_their_own_hints_are_polled_less_often(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor
) -> None:
    """up-en's entries are hours apart: a 10-minute interval stretches to a quarter of
    the median gap; a feed's <ttl> stretches it too."""
    slow = feed_server.serve("en.xml", read_data("up-en.xml"))
    settings = config_settings(tmp_path, [{"id": "en", "url": slow, "interval": "10m"}])
    poll(settings, worker_pool)
    assert timedelta(hours=2.9) <= next_delay(settings) <= timedelta(hours=3.7)  # 13.2 h / 4
    rss = read_data("up-uk.xml").replace(b"<channel>", b"<channel><ttl>120</ttl>")
    feed_server.serve("uk.xml", rss)
    other = tmp_path / "other"
    other.mkdir()
    settings = config_settings(other, [{"id": "uk", "url": feed_server.url("uk.xml"),
                                      "interval": "10m"}])
    poll(settings, worker_pool)
    assert timedelta(minutes=108) <= next_delay(settings) <= timedelta(minutes=132)
    assert poll(settings, worker_pool)["uk"].status == "not-modified"
    assert timedelta(minutes=108) <= next_delay(settings) <= timedelta(minutes=132)  # kept


def paced_feed(entries: int, gap: timedelta) -> str:
    """An RSS document of ``entries`` items published ``gap`` apart."""
    newest = datetime(2026, 10, 4, 12, 0, tzinfo=UTC)
    items = "".join(
        f"<item><title>Dispatch {n}</title><guid>urn:dispatch:{n}</guid>"
        f"<pubDate>{format_datetime(newest - n * gap, usegmt=True)}</pubDate></item>"
        for n in range(entries)
    )
    return f'<rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'


def test_a_not_modified_poll_keeps_the_pace_learned_from_the_entries(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor
) -> None:
    """Entries 8 h apart make a 2 h pace (a quarter of the gap), stored with the source;
    a 304 brings no entry, and the next poll is still paced by the stored entries."""
    url = feed_server.serve("paced.xml", paced_feed(5, timedelta(hours=8)))
    settings = config_settings(tmp_path, [{"id": "en", "url": url, "interval": "10m"}])
    poll(settings, worker_pool)
    assert source_states(settings)["en"]["pace"] == 7200
    assert timedelta(hours=1.8) <= next_delay(settings) <= timedelta(hours=2.2)
    assert poll(settings, worker_pool)["en"].status == "not-modified"
    assert timedelta(hours=1.8) <= next_delay(settings) <= timedelta(hours=2.2)


def test_a_pace_never_stored_is_computed_on_a_not_modified_poll(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor
) -> None:
    """A database from before paces were stored learns them on its first 304."""
    url = feed_server.serve("paced.xml", paced_feed(5, timedelta(hours=8)))
    settings = config_settings(tmp_path, [{"id": "en", "url": url, "interval": "10m"}])
    poll(settings, worker_pool)
    store = Store.open(settings.database)
    store.db.execute("UPDATE sources SET pace = NULL, next_due = NULL")
    store.db.conn.commit()
    store.close()
    assert poll(settings, worker_pool)["en"].status == "not-modified"
    assert source_states(settings)["en"]["pace"] == 7200
    assert timedelta(hours=1.8) <= next_delay(settings) <= timedelta(hours=2.2)


def test_a_broken_document_served_again_unchanged_is_not_parsed_again(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Executor
) -> None:
    """Most broken feeds send no validators: the same broken bytes fail the same way, so
    the second poll reports the first one's parse error without a worker (a pool that
    would be used fails differently), and a repaired document is parsed as usual."""
    url = feed_server.serve("broken.xml", "<html><body>Not a feed</body></html>",
                            content_type="text/html", validators=False)
    settings = config_settings(tmp_path, [{"id": "en", "url": url}])
    first = poll(settings, worker_pool)["en"]
    assert first.status == "failed"
    assert first.error is not None
    assert first.error.kind == "ParseError"
    closed = make_worker_pool()
    closed.shutdown()  # submitting to it raises RuntimeError
    again = poll(settings, closed)["en"]
    assert again.status == "failed"
    assert again.error == first.error
    assert source_states(settings)["en"]["failures"] == 2
    feed_server.serve("broken.xml", paced_feed(3, timedelta(hours=1)), validators=False)
    repaired = poll(settings, worker_pool)["en"]
    assert repaired.status == "ok"
    assert repaired.counts.new == 3
    assert source_states(settings)["en"]["body_error"] is None


def test_a_poll_into_an_empty_timeline_records_the_tag_rules_it_stores_under(
    tmp_path: Path, news_site: list[dict[str, Any]], worker_pool: Executor
) -> None:
    """Entries are tagged as they are stored: the first publish must not tag the whole
    timeline again (it did, 49,000 entries after a cold ingest)."""
    settings = config_settings(tmp_path, news_site)
    poll(settings, worker_pool)
    store = Store.open(settings.database)
    try:
        [(rules,)] = store.db.execute("SELECT value FROM meta WHERE key = 'tag_rules'")
        sources = {source.id: source.tags for source in settings.sources}
        assert rules == tagging_fingerprint(settings.taxonomy, sources)
    finally:
        store.close()


def test_pool_workers_share_what_the_worker_code_loads_on_first_use() -> None:
    """The forkserver runs a document through the worker's code before it forks: numpy
    (MinHash) is then imported once, in memory the workers share, not in each worker
    (~11 MiB of private memory each)."""
    pool = make_worker_pool()
    try:
        loaded = pool.submit(modules_loaded, ("numpy", "refeed.worker"))
        assert loaded.result(60) == [True, True]
    finally:
        pool.shutdown()
