"""An admin corrects deduplication: ``refeed dedup split`` / ``merge`` / ``reset``. The
correction is stored, survives re-polls and later arrivals, is shown by ``entries``,
is published at once, and ``reset`` gives the decision back to the rules."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from refeed.cli import cli
from refeed.config import Settings, load_settings
from refeed.dedup import DedupPolicy
from refeed.model import Entry, FetchResult, ProcessedFeed
from refeed.storage import Store
from tests.factories import NOON, STORY, likeness_of, make_entry, write_config

OTHER = ("Ukraine's parliament passes the 2027 budget in its first reading with 250 votes "
         "after a long debate on defence spending and teachers' salaries")


def entry(source: str, key: str, text: str) -> Entry:
    url = f"https://{source}.example/{key}"
    return make_entry(source_id=source, key=key, guid=key, content_hash=key, link=url,
                      canonical_url=url, **likeness_of(text))


def store_entries(settings: Settings, *entries: Entry) -> None:
    store = Store.open(settings.database)
    store.sync_sources(settings.sources)
    for item in entries:
        store.record_poll(FetchResult(source_id=item.source_id, url="https://x.example/"),
                          ProcessedFeed(entries=(item,)), now=NOON,
                          next_due=NOON + timedelta(hours=1), policy=DedupPolicy())
    store.close()


@pytest.fixture
def site(tmp_path: Path) -> Settings:
    """a1 and its copy b1 (one story), and b2 (another story)."""
    sources = [{"id": name, "url": f"https://{name}.example/feed"} for name in "abc"]
    settings = load_settings(write_config(tmp_path, {"sources": sources}))
    store_entries(settings, entry("a", "a1", STORY), entry("b", "b1", STORY + " overnight"),
                  entry("b", "b2", OTHER))
    return settings


def cli_run(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-c", str(settings.output_dir.parent / "config.yaml"),
                                      *args])
    assert result.exit_code == 0, result.output
    return result.output


def rows(settings: Settings) -> dict[str, dict[str, Any]]:
    lines = cli_run(settings, "entries", "--duplicates", "--json").splitlines()
    return {row["key"]: row for row in map(json.loads, lines)}


def published(settings: Settings) -> set[str]:
    """The links ``all.json`` lists."""
    document = json.loads((settings.output_dir / "all.json").read_text())
    return {item["url"] for item in document["items"]}


def test_a_split_entry_is_listed_alone_for_good(site: Settings) -> None:
    before = rows(site)
    assert before["b1"]["duplicate_of"] == before["a1"]["id"]
    assert "split off" in cli_run(site, "dedup", "split", str(before["b1"]["id"]))
    after = rows(site)
    assert after["b1"]["duplicate_of"] is None
    assert after["b1"]["dedup_override"] == "split"
    assert "https://b.example/b1" in published(site)
    # the same entry polled again, and a new copy of the story, leave it alone
    store_entries(site, entry("b", "b1", STORY + " overnight"), entry("c", "c1", STORY))
    again = rows(site)
    assert again["b1"]["duplicate_of"] is None
    assert again["c1"]["duplicate_of"] == again["a1"]["id"]
    # reset: the rules decide again, and it is a copy once more
    cli_run(site, "dedup", "reset", str(again["b1"]["id"]))
    reset = rows(site)
    assert reset["b1"]["duplicate_of"] == reset["a1"]["id"]
    assert reset["b1"]["dedup_override"] is None
    assert "https://b.example/b1" not in published(site)


def test_splitting_an_original_leaves_its_copies_together(site: Settings) -> None:
    store_entries(site, entry("c", "c1", STORY))
    before = rows(site)
    cli_run(site, "dedup", "split", str(before["a1"]["id"]))
    after = rows(site)
    assert after["a1"]["duplicate_of"] is None
    assert after["b1"]["duplicate_of"] is None  # the oldest copy stands for the story now
    assert after["c1"]["duplicate_of"] == after["b1"]["id"]


def test_merged_stories_are_listed_once_until_reset(site: Settings) -> None:
    before = rows(site)
    a1, b2 = str(before["a1"]["id"]), str(before["b2"]["id"])
    assert "merged" in cli_run(site, "dedup", "merge", a1, b2)
    after = rows(site)
    assert after["b2"]["duplicate_of"] == after["a1"]["id"]
    assert after["b2"]["dedup_override"] == "merge"
    assert "https://b.example/b2" not in published(site)
    cli_run(site, "dedup", "reset", b2)
    assert rows(site)["b2"]["duplicate_of"] is None
    assert "https://b.example/b2" in published(site)


def test_an_unknown_entry_is_a_usage_error(site: Settings) -> None:
    config = str(site.output_dir.parent / "config.yaml")
    for args in (["split", "999"], ["merge", "1", "999"], ["reset", "999"]):
        result = CliRunner().invoke(cli, ["-c", config, "dedup", *args])
        assert result.exit_code == 2, args
        assert "no entry with id 999" in result.output
