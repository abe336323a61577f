"""Deduplication end to end over 127.0.0.1: syndicated copies, updates, translations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from refeed.storage import EntryQuery, Store
from tests.factories import build_site, config_settings, poll, stored_timeline
from tests.feedserver import FeedServer

BODY = ("Russian drones attacked Kyiv overnight. Debris fell on a house in the Dniprovskyi "
        "district; the city military administration reported no casualties.")


def rss(items: list[dict[str, str]], language: str = "en") -> str:
    """A small RSS document with ``items`` (guid, title, link, description)."""
    body = "".join(
        f"<item><guid>{item['guid']}</guid><title>{item['title']}</title>"
        f"<link>{item['link']}</link><description>{item['description']}</description>"
        f"<pubDate>{item.get('date', 'Sun, 04 Oct 2026 06:00:00 +0000')}</pubDate></item>"
        for item in items
    )
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>t"
            "</title><link>https://t.example/</link><description>d</description>"
            f"<language>{language}</language>{body}</channel></rss>")


def site_files(settings: Any) -> dict[str, bytes]:
    """Every output of the stored timeline."""
    store = Store.open(settings.database)
    try:
        return build_site(settings, stored_timeline(store))
    finally:
        store.close()


def items(files: dict[str, bytes], path: str) -> list[dict[str, Any]]:
    """The JSON Feed items of one output."""
    listed: list[dict[str, Any]] = json.loads(files[path])["items"]
    return listed


def test_syndicated_copy_is_listed_once_with_its_provenance(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Any
) -> None:
    original = {"guid": "up-1", "title": "Drones attack Kyiv overnight",
                "link": "https://up.example/news/1/", "description": BODY}
    copy = {"guid": "wire-77", "title": "Kyiv hit by drones overnight, no casualties",
            "link": "https://UP.example/news/1/?utm_source=wire&amp;utm_medium=rss",
            "description": BODY + " Reporting by Wire staff."}
    feed_server.serve("up.xml", rss([original]))
    feed_server.serve("wire.xml", rss([copy]))
    settings = config_settings(tmp_path, [
        {"id": "up-en", "url": feed_server.url("up.xml"), "language": "en"},
        {"id": "wire", "url": feed_server.url("wire.xml")},
    ], tags={"drones": {"match": ["drone"]}})
    poll(settings, worker_pool, "up-en")
    assert poll(settings, worker_pool)["wire"].counts.duplicates == 1
    files = site_files(settings)
    for path in ("all.json", "lang/en.json", "tag/drones.json", "tag/drones/en.json"):
        [item] = items(files, path)
        assert item["title"] == "Drones attack Kyiv overnight"
        assert item["_refeed"]["seen_in"] == [
            {"source": "wire", "title": "wire",
             "url": "https://up.example/news/1/"},
        ]
    assert b'rel="related"' in files["all.atom"]


def test_an_update_keeps_the_output_id_and_replaces_the_content(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Any
) -> None:
    story = {"guid": "up-1", "title": "Drones attack Kyiv overnight",
             "link": "https://up.example/news/1/", "description": BODY}
    url = feed_server.serve("up.xml", rss([story]))
    settings = config_settings(tmp_path, [{"id": "up-en", "url": url}])
    poll(settings, worker_pool)
    [before] = items(site_files(settings), "all.json")
    feed_server.serve("up.xml", rss([story | {"description": BODY.replace(
        "no casualties", "two people injured")}]))
    assert poll(settings, worker_pool)["up-en"].counts.updated == 1
    [after] = items(site_files(settings), "all.json")
    assert after["id"] == before["id"]
    assert "two people injured" in after["content_html"]
    assert after["date_modified"] > before["date_modified"]


def test_three_language_editions_stay_one_per_language(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Any
) -> None:
    editions = {
        "en": ("Drones attack Kyiv overnight", BODY),
        "uk": ("Дрони атакували Київ уночі",
               "Російські дрони атакували Київ уночі. Уламки впали на будинок у Дніпровському "
               "районі; за даними військової адміністрації, постраждалих немає."),
        "ru": ("Дроны атаковали Киев ночью",
               "Российские дроны атаковали Киев ночью. Обломки упали на дом в Днепровском "
               "районе; по данным военной администрации, пострадавших нет."),
    }
    sources = []
    for code, (title, description) in editions.items():
        feed_server.serve(f"{code}.xml", rss([{
            "guid": f"{code}-1", "title": title, "description": description,
            "link": f"https://up.example/{code}/news/1/"}], language=code))
        sources.append({"id": f"up-{code}", "url": feed_server.url(f"{code}.xml")})
    settings = config_settings(tmp_path, sources)
    results = poll(settings, worker_pool)
    assert sum(result.counts.duplicates for result in results.values()) == 0
    files = site_files(settings)
    for code, (title, _) in editions.items():
        assert [item["title"] for item in items(files, f"lang/{code}.json")] == [title]
    assert len(items(files, "all.json")) == 3


def test_a_cms_migration_does_not_flood_outputs(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Any
) -> None:
    """Every guid changes at once; links and texts stay: nothing new is listed."""
    stories = [{"guid": f"old-{n}", "title": f"Story number {n} of the day",
                "link": f"https://up.example/news/{n}/",
                "description": f"{BODY} Item {n}."} for n in range(3)]
    url = feed_server.serve("up.xml", rss(stories))
    settings = config_settings(tmp_path, [{"id": "up-en", "url": url}])
    poll(settings, worker_pool)
    feed_server.serve("up.xml", rss([story | {"guid": f"new-{n}"}
                                     for n, story in enumerate(stories)]))
    counts = poll(settings, worker_pool)["up-en"].counts
    assert (counts.new, counts.duplicates) == (0, 3)
    assert len(items(site_files(settings), "all.json")) == 3
    store = Store.open(settings.database)
    assert len(store.entries(EntryQuery(include_duplicates=True))) == 6
    store.close()


def test_opted_out_source_is_never_merged(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Any
) -> None:
    story = {"guid": "x", "title": "Drones attack Kyiv overnight",
             "link": "https://up.example/news/1/", "description": BODY}
    feed_server.serve("a.xml", rss([story]))
    feed_server.serve("b.xml", rss([story | {"guid": "y"}]))
    settings = config_settings(tmp_path, [
        {"id": "a", "url": feed_server.url("a.xml")},
        {"id": "b", "url": feed_server.url("b.xml"), "dedup": False},
    ])
    poll(settings, worker_pool)
    assert len(items(site_files(settings), "all.json")) == 2
