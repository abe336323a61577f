"""Tags across languages: category cleanup, aliases, match rules, re-tagging stored entries,
and ``refeed tags`` — on plain values, the real Ukrainska Pravda feed and a real poll."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from refeed.cli import cli
from refeed.config import load_settings
from refeed.model import Taxonomy
from refeed.normalize import entry_tags, split_categories
from refeed.pipeline import publish_all
from refeed.storage import EntryQuery, Store
from tests.corpus import CORPUS
from tests.factories import (
    build_site,
    config_settings,
    poll,
    read_data,
    stored_timeline,
    write_config,
)
from tests.feedserver import FeedServer

TAXONOMY = Taxonomy(
    aliases={"putin": "putin", "путін": "putin", "путин": "putin", "war": "war"},
    rules=(("putin", r"\bputin"), ("putin", "путін"), ("putin", "путин")),
)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["Politics, War"], ("Politics", "War")),
        (["#Kyiv", "# Odesa"], ("Kyiv", "Odesa")),
        (["News / Kyiv"], ("News", "Kyiv")),
        (["Sport > Football", "a|b; c"], ("Sport", "Football", "a", "b", "c")),
        (["AC/DC"], ("AC/DC",)),
        (["  News  ", "news", "NEWS"], ("News",)),
        (["", " , ", "#"], ()),
    ],
)
def test_feed_categories_are_split_and_cleaned(
    labels: list[str], expected: tuple[str, ...]
) -> None:
    assert split_categories(labels) == expected


@pytest.mark.parametrize(
    "text",
    ["ПУТІН заявив", "Путіна критикують", "Putin's speech", "ＰＵＴＩＮ in fullwidth",
     "Путин выступил"],
)
def test_match_rules_are_case_insensitive_and_unicode_normalized(text: str) -> None:
    assert "putin" in entry_tags((), (), TAXONOMY, text)


def test_categories_and_source_tags_map_through_aliases() -> None:
    tags = entry_tags(("Путін", "War", "Economy"), ("war", "ukraine"), TAXONOMY, "nothing")
    assert tags == ("putin", "war", "Economy", "ukraine")


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
def test_real_ukrainska_pravda_feed_gets_tags_by_rules(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Any
) -> None:
    """The English edition says only "News" for every item: rules must do the tagging,
    and each tag output lists exactly the entries whose title or summary match."""
    body = (CORPUS / "real" / "terrestrial" / "rss_ukrainska_pravda.xml").read_bytes()
    url = feed_server.serve("up-en.xml", body)
    rules = {"zelenskyy": {"aliases": ["Zelensky"], "match": [r"\bzelensk"]},
             "negotiations": {"aliases": [], "match": [r"\bnegotiat", r"\bpeace talks"]}}
    settings = config_settings(tmp_path, [{"id": "up-en", "url": url, "language": "en"}],
                             tags=rules)
    poll(settings, worker_pool)
    store = Store.open(settings.database)
    timeline = stored_timeline(store)
    store.close()
    files = build_site(settings, timeline)
    assert len(timeline) == 20
    for tag, config in rules.items():
        expected = {
            entry.title for entry in timeline
            if any(re.search(pattern, f"{entry.title} {entry.summary}", re.IGNORECASE)
                   for pattern in config["match"])
        }
        listed = {item["title"] for item in json.loads(files[f"tag/{tag}.json"])["items"]}
        assert expected
        assert listed == expected
    # "News" stays the feed's own label: not a canonical tag, never mapped onto one
    assert all(set(entry.tags) <= {"News", *rules} for entry in timeline)
    assert all("News" in entry.tags for entry in timeline)


def test_changed_aliases_retag_stored_entries_without_polling(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Any
) -> None:
    url = feed_server.serve("uk.xml", read_data("up-uk.xml"))
    config: dict[str, Any] = {"sources": [{"id": "up-uk", "url": url}], "tags": {}}
    path = write_config(tmp_path, config)
    settings = load_settings(path)
    poll(settings, worker_pool)
    store = Store.open(settings.database)
    assert store.entries(EntryQuery(tag="zelenskyy")) == []
    config["tags"] = {"zelenskyy": ["Зеленський"], "mobilisation": {"match": ["мобіліз"]}}
    retagged = load_settings(write_config(tmp_path, config))
    publish_all(retagged, store)
    zelenskyy = [row["title"] for row in store.entries(EntryQuery(tag="zelenskyy"))]
    mobilisation = [row["title"] for row in store.entries(EntryQuery(tag="mobilisation"))]
    assert zelenskyy == ["Зеленський: переговори у Стамбулі відновляться наступного тижня"]
    assert mobilisation == ["Путін оголосив нову хвилю мобілізації"]
    assert (retagged.output_dir / "tag" / "zelenskyy.atom").is_file()
    # nothing is left to recompute: the same rules do not touch the entries again
    assert publish_all(retagged, store).written == ()
    store.close()
    # and a re-poll after the re-tag sees the entries as unchanged, not updated
    counts = poll(retagged, worker_pool)["up-uk"].counts
    assert (counts.updated, counts.new) == (0, 0)


def test_mixed_language_feed_lands_in_the_right_language_outputs(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Any
) -> None:
    """A feed declared uk whose items are in uk, ru, en and German."""
    items = [
        ("u1", "Уряд затвердив новий бюджет на наступний рік"),
        ("r1", "Правительство утвердило новый бюджет на следующий год"),
        ("e1", "The government approved a new budget for next year"),
        ("d1", "Die Bundesregierung hat am Mittwoch den Haushalt für das kommende Jahr "
               "beschlossen und die Schuldenbremse erneut ausgesetzt"),
    ]
    body = "".join(
        f"<item><guid>{key}</guid><title>{title}</title>"
        "<pubDate>Sun, 04 Oct 2026 08:00:00 +0000</pubDate></item>"
        for key, title in items
    )
    url = feed_server.serve("mixed.xml", "<?xml version='1.0' encoding='utf-8'?><rss "
                            "version='2.0'><channel><title>m</title><link>https://m.example/"
                            f"</link><description>d</description><language>uk</language>{body}"
                            "</channel></rss>")
    settings = config_settings(tmp_path, [{"id": "mixed", "url": url, "language": "uk"}])
    poll(settings, worker_pool)
    store = Store.open(settings.database)
    files = build_site(settings, stored_timeline(store))
    store.close()

    def guids(path: str) -> list[str]:
        return [item["title"][:5] for item in json.loads(files[path])["items"]]

    assert guids("lang/uk.json") == ["Уряд "]
    assert guids("lang/ru.json") == ["Прави"]
    assert guids("lang/en.json") == ["The g"]
    assert len(guids("all.json")) == 4  # the German item is in `all` only


def test_tags_command_lists_counts_per_language_and_unmapped_first(
    tmp_path: Path, feed_server: FeedServer, worker_pool: Any
) -> None:
    for name in ("up-uk.xml", "up-ru.xml", "up-en.xml"):
        feed_server.serve(name, read_data(name))
    sources = [{"id": n.removesuffix(".xml"), "url": feed_server.url(n)}
               for n in ("up-uk.xml", "up-ru.xml", "up-en.xml")]
    settings = config_settings(tmp_path, sources, tags={"putin": ["Putin", "Путін", "Путин"]})
    poll(settings, worker_pool)
    config = str(tmp_path / "config.yaml")
    result = CliRunner().invoke(cli, ["-c", config, "tags", "--json"])
    assert result.exit_code == 0, result.output
    report = [json.loads(line) for line in result.output.splitlines()]
    assert report[0] == {"tag": "putin", "canonical": True, "entries": 3,
                         "languages": {"en": 1, "ru": 1, "uk": 1}}
    unmapped = CliRunner().invoke(cli, ["-c", config, "tags", "--unmapped", "--lang", "uk"])
    assert unmapped.output.splitlines() == ["     1  Зеленський  [uk:1]  (unmapped)"]
