"""Why two entries are, or are not, one story: the rule and the evidence, from the same
code that decides (``dedup.judge``), shown by ``refeed dedup explain`` and by
``refeed entries --duplicates --json``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from refeed.cli import cli
from refeed.config import load_settings
from refeed.dedup import DedupPolicy, judge
from refeed.model import Entry, FetchResult, ProcessedFeed
from refeed.storage import Store
from tests.factories import NOON, STORY, likeness_of, make_entry, write_config

POLICY = DedupPolicy()
BULLETIN = (STORY + ". The regional administration publishes its daily summary of the "
            "consequences of shelling across the region every evening: {}")
TOLL = BULLETIN.format("1 killed, 2 injured, 20 homes hit")
OTHER = ("Ukraine's parliament passes the 2027 budget in its first reading with 250 votes "
         "after a long debate on defence spending and teachers' salaries")


def entry(source: str, key: str, text: str, **changes: object) -> Entry:
    values: dict[str, object] = {"source_id": source, "key": key, "guid": key,
                                 "canonical_url": f"https://{source}.example/{key}",
                                 "content_hash": key, **likeness_of(text)}
    return make_entry(**(values | changes))


@pytest.mark.parametrize(
    ("second", "same", "rule"),
    [
        (entry("b", "b1", TOLL), True, "nearly the same text, the same figures"),
        (entry("b", "b1", OTHER), False, "different texts"),
        (entry("b", "b1", TOLL, language="uk"), False, "translations are never merged"),
        (entry("b", "b1", TOLL, published=NOON - timedelta(days=5)), False,
         "published further apart than dedup.window"),
        (entry("b", "b1", TOLL, canonical_url="https://a.example/a1"), True,
         "the same canonical URL"),
        (entry("b", "b1", TOLL, content_hash="a1"), True, "the same title and text"),
        (entry("b", "b1", BULLETIN.format("4 killed, 9 injured, 30 homes hit"),
               published=NOON - timedelta(days=1)), False,
         "nearly the same text, but other figures"),
        (entry("a", "a2", OTHER, canonical_url="https://a.example/a1"), False,
         "one source: the same page and title, another text (a live blog)"),
        (entry("a", "a2", TOLL, canonical_url="https://a.example/a1"), True,
         "one source: the same page and title again"),
        (entry("a", "a2", TOLL), True,
         "one source: the same title and nearly the same text again"),
        (entry("a", "a2", BULLETIN.format("4 killed, 9 injured, 30 homes hit")), False,
         "one source: another page or title"),
        (entry("a", "a2", TOLL, title="Talks resume in Istanbul"), True,
         "one source: the same text again, edited"),
    ],
)
def test_each_rule_names_itself_with_its_evidence(second: Entry, same: bool, rule: str) -> None:
    first = entry("a", "a1", TOLL)
    verdict = judge(first, second, POLICY)
    assert (verdict.same, verdict.rule) == (same, rule)
    if "text" in rule and "title and text" not in rule and "page" not in rule:
        assert verdict.evidence["threshold"] == POLICY.threshold
        assert isinstance(verdict.evidence["overlap"], float)


def stored_site(tmp_path: Path) -> Path:
    """A timeline with an original, its copy from another source and another story."""
    config = write_config(tmp_path, {"sources": [{"id": "a", "url": "https://a.example/f"},
                                                 {"id": "b", "url": "https://b.example/f"}]})
    settings = load_settings(config)
    store = Store.open(settings.database)
    store.sync_sources(settings.sources)
    for item in (entry("a", "a1", STORY), entry("b", "b1", STORY + " overnight"),
                 entry("b", "b2", OTHER)):
        store.record_poll(FetchResult(source_id=item.source_id, url="https://x.example/"),
                          ProcessedFeed(entries=(item,)), now=NOON,
                          next_due=NOON + timedelta(hours=1), policy=POLICY)
    store.close()
    return config


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-c", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_entries_json_shows_why_each_copy_is_one(tmp_path: Path) -> None:
    config = stored_site(tmp_path)
    rows = [json.loads(line) for line in run(config, "entries", "--duplicates", "--json")
            .splitlines()]
    [copy] = [row for row in rows if row["duplicate_of"]]
    assert copy["duplicate_rule"] == "nearly the same text, the same figures"
    assert copy["duplicate_evidence"]["overlap"] >= POLICY.threshold
    assert all(row["duplicate_rule"] is None for row in rows if not row["duplicate_of"])


def test_dedup_explain_prints_the_verdict_rule_and_evidence(tmp_path: Path) -> None:
    config = stored_site(tmp_path)
    ids = {row["key"]: row["id"] for row in map(json.loads, run(
        config, "entries", "--duplicates", "--json").splitlines())}
    same = run(config, "dedup", "explain", str(ids["a1"]), str(ids["b1"])).splitlines()
    assert same[2] == "the same story: nearly the same text, the same figures"
    assert any(line.startswith("  overlap: ") for line in same)
    assert same[-1] == "stored as one story"
    other = run(config, "dedup", "explain", str(ids["a1"]), str(ids["b2"])).splitlines()
    assert other[2] == "different stories: different texts"
    assert other[-1] == "stored as two stories"
    missing = CliRunner().invoke(cli, ["-c", str(config), "dedup", "explain", "1", "999"])
    assert missing.exit_code == 2
    assert "no entry with id 999" in missing.output
