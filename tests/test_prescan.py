"""Incremental parsing: known items are cut before feedparser (refeed.prescan), unchanged
documents are not parsed at all, and the stored timeline is the same as a full parse's."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import feedparser
import pytest

from refeed.parse import MAX_ENTRIES, parse_document
from refeed.pipeline import poll_all
from refeed.prescan import prescan
from refeed.storage import Store
from tests.factories import config_settings
from tests.feedserver import FeedServer

P = ParamSpec("P")
T = TypeVar("T")
URL = "https://news.example/feed"


def rss(items: list[str], language: str = "en", guids: bool = True) -> bytes:
    """An RSS 2.0 document with one item per title (guid and link: its first word)."""
    body = "".join(
        f"<item><title>{title}</title><link>https://news.example/{title.split()[0]}</link>"
        + (f"<guid>{title.split()[0]}</guid>" if guids else "")
        + f"<description>Story {title}: delegations met in Geneva.</description>"
        "<pubDate>Sun, 04 Oct 2026 06:00:00 GMT</pubDate></item>\n"
        for title in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>News</title><link>https://news.example/</link><language>{language}</language>"
        f"<lastBuildDate>{len(items)}</lastBuildDate>\n{body}</channel></rss>"
    ).encode()


def atom(items: list[str]) -> bytes:
    """An Atom document with one entry per title."""
    entries = "".join(
        f"<entry><id>urn:x:{n}</id><title>{title}</title><updated>2026-10-04T06:00:00Z</updated>"
        f'<link href="https://news.example/{n}"/></entry>'
        for n, title in enumerate(items)
    )
    return (
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>N</title>'
        f"<id>urn:x</id><updated>2026-10-04T06:00:00Z</updated>{entries}</feed>"
    ).encode()


def titles(document: bytes) -> list[str]:
    """The titles feedparser finds in ``document``."""
    return [entry.title for entry in feedparser.parse(document).entries]


def test_known_items_are_cut_and_the_rest_still_parses() -> None:
    first = prescan(rss(["alpha one", "beta two", "gamma three"]), URL, (), "salt")
    assert len(first.digests) == 3
    assert first.skipped == 0
    second = prescan(rss(["delta four", "alpha one", "beta two", "gamma three"]), URL,
                     set(first.digests), "salt")
    assert second.skipped == 3
    assert titles(second.body) == ["delta four"]
    assert second.digests[1:] == first.digests  # unchanged items keep their digest


def test_a_changed_item_is_not_cut() -> None:
    first = prescan(rss(["alpha one", "beta two"]), URL, (), "salt")
    second = prescan(rss(["alpha one", "beta two (corrected)"]), URL, set(first.digests), "s")
    assert titles(second.body) == ["alpha one", "beta two (corrected)"]  # other salt
    third = prescan(rss(["alpha one", "beta two (corrected)"]), URL, set(first.digests), "salt")
    assert titles(third.body) == ["beta two (corrected)"]


def test_feed_level_inheritance_changes_every_digest() -> None:
    english = prescan(rss(["alpha one"]), URL, (), "salt")
    russian = prescan(rss(["alpha one"], language="ru"), URL, (), "salt")
    elsewhere = prescan(rss(["alpha one"]), "https://other.example/feed", (), "salt")
    assert len({english.digests, russian.digests, elsewhere.digests}) == 3


def test_items_without_guid_are_always_parsed() -> None:
    document = rss(["alpha one", "beta two"], guids=False)
    first = prescan(document, URL, (), "salt")
    second = prescan(document, URL, set(first.digests), "salt")
    assert second.skipped == 0
    assert second.body == document


def test_atom_entries_are_cut_byte_exactly() -> None:
    first = prescan(atom(["alpha", "beta"]), URL, (), "salt")
    second = prescan(atom(["gamma", "alpha", "beta"]), URL, (), "salt")
    known = prescan(atom(["alpha", "beta"]), URL, set(first.digests), "salt")
    assert titles(known.body) == []
    assert known.skipped == 2
    assert feedparser.parse(known.body).feed.title == "N"
    # positions shifted (ids are urn:x:<n>), so every entry is different: nothing is cut
    assert prescan(atom(["gamma", "alpha", "beta"]), URL, set(first.digests), "salt").skipped == 0
    assert len(second.digests) == 3


def test_empty_and_prefixed_items_are_cut_exactly() -> None:
    document = (b'<f:feed xmlns:f="http://www.w3.org/2005/Atom"><f:entry/><f:entry >'
                b"<f:id>a</f:id><f:title>kept</f:title></f:entry ></f:feed>")
    first = prescan(document, URL, (), "salt")
    assert len(first.digests) == 2
    second = prescan(document, URL, {first.digests[1]}, "salt")
    assert second.body == b'<f:feed xmlns:f="http://www.w3.org/2005/Atom"><f:entry/></f:feed>'


def test_json_feed_items_are_cut() -> None:
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [
        {"id": "1", "title": "one", "content_text": "x"},
        {"id": "2", "title": "two \ud800", "content_text": "y"},  # a lone surrogate too
        {"title": "no id", "content_text": "z"},
    ]}
    body = json.dumps(document).encode()
    first = prescan(body, URL, (), "salt")
    second = prescan(body, URL, set(first.digests), "salt")
    assert second.skipped == 2
    assert [item["title"] for item in json.loads(second.body)["items"]] == ["no id"]


def test_items_past_the_limit_are_cut_and_counted() -> None:
    scan = prescan(rss(["alpha one", "beta two", "gamma three", "delta four"]), URL, (), "s", 2)
    assert titles(scan.body) == ["alpha one", "beta two"]
    assert (len(scan.digests), scan.skipped, scan.dropped) == (2, 0, 2)
    items = [{"id": str(n), "title": f"t{n}"} for n in range(5)]
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}
    scan = prescan(json.dumps(document).encode(), URL, (), "s", 3)
    assert [item["id"] for item in json.loads(scan.body)["items"]] == ["0", "1", "2"]
    assert (len(scan.digests), scan.skipped, scan.dropped) == (3, 0, 2)


def test_a_document_of_more_than_max_entries_is_read_up_to_it_with_a_warning() -> None:
    parsed = parse_document(rss([f"n{n} story" for n in range(MAX_ENTRIES + 5)]), {}, URL,
                            10**8)
    assert len(parsed.entries) == MAX_ENTRIES
    assert parsed.entries[-1]["title"] == f"n{MAX_ENTRIES - 1} story"
    assert parsed.warning == (f"the document lists {MAX_ENTRIES + 5} entries; only the first"
                              f" {MAX_ENTRIES} are read")


@pytest.mark.parametrize("document", [
    b"<rss><channel><item><title>broken",  # not well-formed
    rss(["alpha one"]).decode().encode("utf-16"),  # UTF-16: offsets would be wrong
    b"<rss><channel><item><title>&nbsp;</title><guid>g</guid></item></channel></rss>",
    b'<?xml version="1.0" encoding="x-unknown"?><rss/>',
])
def test_documents_the_fast_pass_cannot_split_are_parsed_whole(document: bytes) -> None:
    scan = prescan(document, URL, {"anything"}, "salt")
    assert scan.body == document
    assert scan.digests == ()
    assert scan.skipped == 0


class CountingExecutor(ThreadPoolExecutor):
    """A real executor that counts the jobs it was given (how many documents were parsed)."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.jobs = 0

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Count, then run as usual."""
        self.jobs += 1
        return super().submit(fn, *args, **kwargs)


def poll_once(settings: Any, executor: CountingExecutor) -> dict[str, Any]:
    """Poll every source once; the counts of the single source."""
    store = Store.open(settings.database)
    try:
        (result,) = asyncio.run(poll_all(settings, store, executor=executor))
    finally:
        store.close()
    return {"status": result.status, **vars(result.counts)}


def stored(database: Path) -> list[tuple[Any, ...]]:
    """What the timeline holds, minus refeed's bookkeeping times."""
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT key, title, summary, language, revision, published, content_hash, "
            "(SELECT group_concat(tag) FROM entry_tags WHERE entry_id = entries.id) "
            "FROM entries ORDER BY key"
        ).fetchall()


def test_incremental_poll_stores_what_a_full_parse_stores(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.serve("feed.xml", rss(["alpha Putin", "beta two", "gamma three"]),
                      validators=False)
    source = {"id": "news", "url": feed_server.url("feed.xml"), "language": "en"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    incremental = config_settings(tmp_path / "a", [source])
    with CountingExecutor() as executor:
        assert poll_once(incremental, executor)["new"] == 3
        churned = rss(["delta negotiations", "alpha Putin", "beta two (fixed)", "gamma three"])
        feed_server.serve("feed.xml", churned, validators=False)
        counts = poll_once(incremental, executor)
        assert (counts["new"], counts["updated"], counts["unchanged"]) == (1, 1, 2)
        assert executor.jobs == 2
        full = config_settings(tmp_path / "b", [source])
        poll_once(full, executor)
    assert stored(incremental.database) == stored(full.database)


def test_unchanged_body_without_validators_is_not_parsed_again(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.serve("feed.xml", rss(["alpha one", "beta two"]), validators=False)
    source = {"id": "news", "url": feed_server.url("feed.xml"), "language": "en"}
    settings = config_settings(tmp_path, [source])
    with CountingExecutor() as executor:
        poll_once(settings, executor)
        counts = poll_once(settings, executor)
        assert executor.jobs == 1
        assert counts == {"status": "ok", "new": 0, "updated": 0, "unchanged": 2, "duplicates": 0}
        # new tag rules change how items are read: everything is parsed again
        retagged = config_settings(tmp_path, [source], tags={"beta": ["beta"]})
        assert poll_once(retagged, executor)["unchanged"] == 2
        assert executor.jobs == 2
