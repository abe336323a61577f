"""Publishing from SQLite: outputs select through indexes exactly what an in-memory
selection picks, and a publish renders only the outputs whose selection changed."""

from __future__ import annotations

import json
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pytest

from refeed.config import Settings
from refeed.pipeline import publish_all
from refeed.publish import MANIFEST, PublishReport, read_manifest
from refeed.select import define_outputs
from refeed.storage import Store
from tests.factories import (
    candidates,
    config_settings,
    first_entries,
    poll,
    read_data,
    select_entries,
    stored_tag_usage,
    stored_timeline,
    tag_usage,
)
from tests.feedserver import FeedServer

NAMED = [
    {"id": "talks-en", "tags": ["negotiations"], "languages": ["en"]},
    {"id": "no-putin", "exclude_tags": ["putin"], "match": "(?i)kyiv|київ|киев"},
    {"id": "editions", "sources": ["up-uk", "up-ru"], "limit": 2},
]
NEW_ITEM = """<item>
      <title>Grain corridor: talks resume in Ankara</title>
      <link>https://news.example/eng/news/2026/10/05/1004/</link>
      <guid>https://news.example/eng/news/2026/10/05/1004/</guid>
      <description>Negotiations on the corridor restart on Monday.</description>
      <pubDate>Mon, 05 Oct 2026 09:00:00 +0300</pubDate>
    </item>
    <item>"""


@pytest.fixture
def site(tmp_path: Path, feed_server: FeedServer, worker_pool: Executor) -> Settings:
    """The three editions and the wire, polled (editions first), with named feeds."""
    for name in ("up-uk.xml", "up-ru.xml", "up-en.xml"):
        feed_server.serve(name, read_data(name))
    feed_server.serve("wire.atom", read_data("wire.atom"), content_type="application/atom+xml")
    sources = [{"id": name, "url": feed_server.url(f"{name}.xml"), "language": name[3:]}
               for name in ("up-uk", "up-ru", "up-en")]
    sources.append({"id": "wire", "url": feed_server.url("wire.atom")})
    settings = config_settings(tmp_path, sources, publish={"feeds": NAMED, "tag_min_entries": 1},
                             output_dir="out")
    poll(settings, worker_pool, "up-uk", "up-ru", "up-en")
    poll(settings, worker_pool)
    return settings


def publish(settings: Settings) -> PublishReport:
    """One publish_all on a fresh connection."""
    store = Store.open(settings.database)
    try:
        return publish_all(settings, store)
    finally:
        store.close()


@pytest.mark.parametrize("sparse_tag_rows", [0, 1_000_000], ids=["walked", "indexed"])
def test_indexed_selection_equals_the_in_memory_one(site: Settings, sparse_tag_rows: int) -> None:
    store = Store.open(site.database)
    store.sparse_tag_rows = sparse_tag_rows
    try:
        timeline = stored_timeline(store)
        assert len(timeline) >= 7
        usage = stored_tag_usage(store)
        assert usage == tag_usage(timeline)
        outputs = define_outputs(site, usage)
        assert {"talks-en", "tag/putin/uk", "lang/ru"} <= {output.path for output in outputs}
        for output in outputs:
            expected = select_entries(output, timeline)
            assert first_entries(output, candidates(store, output)) == expected, output.path
    finally:
        store.close()


def test_a_publish_with_nothing_new_renders_nothing(site: Settings) -> None:
    first = publish(site)
    assert "all.atom" in first.written
    manifest = json.loads((site.output_dir / MANIFEST).read_bytes())
    assert set(manifest["fingerprints"]) >= {"all", "lang/uk", "talks-en"}
    tampered = site.output_dir / "lang" / "uk.atom"
    tampered.write_bytes(b"edited by hand")  # the fingerprint says uk.atom is current
    second = publish(site)
    assert second.written == ()
    assert tampered.read_bytes() == b"edited by hand"  # so it was not rendered again
    tampered.unlink()
    assert publish(site).written == ("lang/uk.atom",)  # a missing file is rendered


def test_a_new_entry_renders_only_the_outputs_that_list_it(
    site: Settings, feed_server: FeedServer, worker_pool: Executor
) -> None:
    publish(site)
    untouched = site.output_dir / "lang" / "uk.atom"
    untouched.write_bytes(b"edited by hand")
    english = read_data("up-en.xml").decode().replace("<item>", NEW_ITEM, 1)
    feed_server.serve("up-en.xml", english)
    assert poll(site, worker_pool, "up-en")["up-en"].counts.new == 1
    report = publish(site)
    changed = {path.rsplit(".", 1)[0] for path in report.written}
    assert changed == {"all", "lang/en", "tag/negotiations", "tag/negotiations/en", "talks-en",
                       "index"}
    assert untouched.read_bytes() == b"edited by hand"
    listed = json.loads((site.output_dir / "talks-en.json").read_bytes())["items"]
    assert listed[0]["title"] == "Grain corridor: talks resume in Ankara"


def test_changed_settings_render_everything_again(
    site: Settings, tmp_path: Path
) -> None:
    publish(site)
    before = json.loads((site.output_dir / MANIFEST).read_bytes())["fingerprints"]
    retitled: dict[str, Any] = {"site": {"languages": ["uk", "ru", "en"], "title": "Renamed"}}
    renamed = config_settings(tmp_path, [source.model_dump(mode="json", exclude_none=True)
                                       for source in site.sources],
                            publish={"feeds": NAMED, "tag_min_entries": 1}, output_dir="out",
                            **retitled)
    report = publish(renamed)
    after = json.loads((site.output_dir / MANIFEST).read_bytes())["fingerprints"]
    assert after.keys() == before.keys()
    assert all(after[path] != before[path] for path in before)
    assert {"all.atom", "lang/uk.json", "tag/putin/ru.atom"} <= set(report.written)


def test_the_change_log_moves_with_changes_to_what_is_rendered(site: Settings) -> None:
    store = Store.open(site.database)
    try:
        def changed_by(sql: str) -> bool:
            before = store.changes_mark()
            with store.db.conn:
                store.db.execute(sql)
            return store.changes_mark() != before

        assert not changed_by("UPDATE entries SET last_seen = '2030-01-01T00:00:00Z'")
        assert not changed_by("UPDATE sources SET etag = 'x'")
        assert changed_by("UPDATE entries SET title = title || '!' WHERE id = 1")
        assert changed_by("DELETE FROM entry_tags WHERE entry_id = 1")
        assert changed_by("INSERT INTO entry_tags (entry_id, tag, folded) VALUES (1, 'X', 'x')")
        assert changed_by("DELETE FROM entries WHERE id = 2")
    finally:
        store.close()


def test_an_unchanged_timeline_is_not_even_selected_again(site: Settings) -> None:
    """The second publish finds the stamp the first left and reads no output's entries;
    a change to a rendered field makes the next one select and render again."""
    publish(site)
    tampered = site.output_dir / "all.json"
    tampered.write_bytes(b"edited by hand")
    store = Store.open(site.database)
    try:
        with store.db.conn:
            store.db.execute("UPDATE entries SET last_seen = '2030-01-01T00:00:00Z'")
    finally:
        store.close()
    assert publish(site) == PublishReport((), len(read_manifest(site.output_dir).paths), ())
    store = Store.open(site.database)
    try:
        with store.db.conn:
            store.db.execute("UPDATE entries SET title = 'Retitled' WHERE id = "
                             "(SELECT max(id) FROM entries WHERE duplicate_of IS NULL)")
    finally:
        store.close()
    assert "all.json" in publish(site).written
    assert b"Retitled" in tampered.read_bytes()
