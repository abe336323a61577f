"""Select, with plain values: which outputs exist, which entries each lists, and slugs."""

from __future__ import annotations

import posixpath
import random
import re
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refeed.model import Entry
from refeed.select import (
    Listed,
    Output,
    define_outputs,
    matches,
    published_tags,
    relisted,
    tag_registry,
    tag_slug,
)
from tests.factories import NOON, make_entry, select_entries, site_settings, tag_usage

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
OUTPUT_PATH = re.compile(r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*$")
HOSTILE_TAGS = [
    "../../etc/passwd", "/abs", "%2e%2e", "..", ".", "", " ", "🎉🔥", "Путін", "Переговори",
    "a/b", "a\\b", "C:\\Windows", "~root", "tag/../..", "\u202eevil", "x" * 300, "İstanbul",
]


def numbered(count: int, **changes: Any) -> list[Entry]:
    """``count`` entries of source ``a``, entry ``i`` published ``i`` hours after noon."""
    return [
        make_entry(key=f"k{i}", guid=f"k{i}", published=NOON + timedelta(hours=i),
                   updated=NOON + timedelta(hours=i), **changes)
        for i in range(count)
    ]


def paths(outputs: list[Output]) -> list[str]:
    """The paths of ``outputs``, in order."""
    return [output.path for output in outputs]


def keys(entries: list[Entry]) -> list[str]:
    """The keys of ``entries``, in order."""
    return [entry.key for entry in entries]


# --- which outputs exist -------------------------------------------------------------------


def test_default_outputs_in_index_order() -> None:
    config = site_settings(
        tags={"putin": ["Путін"], "negotiations": ["переговори"]},
        publish={"feeds": [{"id": "talks", "tags": ["negotiations"]}]},
    )
    assert paths(define_outputs(config, {})) == [
        "all", "lang/en", "lang/uk",
        "tag/putin", "tag/negotiations",
        "tag/putin/en", "tag/putin/uk", "tag/negotiations/en", "tag/negotiations/uk",
        "talks",
    ]


def test_output_kinds_titles_and_filters() -> None:
    config = site_settings(tags={"putin": ["Путін"]})
    by_path = {output.path: output for output in define_outputs(config, {})}
    assert by_path["all"] == Output("all", "Site", "all", limit=50)
    assert by_path["lang/uk"].kind == "language"
    assert by_path["lang/uk"].languages == ("uk",)
    assert by_path["tag/putin"].kind == "tag"
    assert by_path["tag/putin"].tags == ("putin",)
    assert by_path["tag/putin/en"].kind == "tag-language"
    assert (by_path["tag/putin/en"].tags, by_path["tag/putin/en"].languages) == (
        ("putin",), ("en",)
    )


@pytest.mark.parametrize(
    ("flag", "gone"),
    [
        ("per_language", {"lang/en", "lang/uk"}),
        ("per_tag", {"tag/putin"}),
        ("per_tag_language", {"tag/putin/en", "tag/putin/uk"}),
    ],
)
def test_each_output_family_can_be_switched_off(flag: str, gone: set[str]) -> None:
    everything = set(paths(define_outputs(site_settings(tags={"putin": []}), {})))
    config = site_settings(tags={"putin": []}, publish={flag: False})
    assert set(paths(define_outputs(config, {}))) == everything - gone


def test_configured_tags_have_outputs_even_before_any_entry() -> None:
    config = site_settings(tags={"putin": ["Путін"]})
    assert "tag/putin" in paths(define_outputs(config, {}))


@pytest.mark.parametrize(("count", "published"), [(4, False), (5, True), (40, True)])
def test_feed_tags_need_tag_min_entries(count: int, published: bool) -> None:
    config = site_settings(publish={"tag_min_entries": 5})
    assert ("tag/economy" in paths(define_outputs(config, {"Economy": count}))) is published


def test_feed_tag_spelled_like_a_configured_tag_gets_no_second_output() -> None:
    config = site_settings(tags={"putin": []}, publish={"tag_min_entries": 1})
    assert published_tags(config, {"PUTIN": 9, "Sport": 9}) == ["putin", "Sport"]


def test_a_tag_keeps_its_slug_when_a_tag_with_the_same_slug_appears() -> None:
    """Беларусь was published as ``tag/belarus``; Belarus (sorting first) comes later and
    must not take over that URL: subscribers of ``tag/belarus`` keep their feed."""
    config = site_settings(publish={"tag_min_entries": 1})
    first = define_outputs(config, {"Беларусь": 3})
    assert "tag/belarus" in paths(first)
    later = define_outputs(config, {"Беларусь": 3, "Belarus": 5}, tag_registry(first))
    tags = {output.path: output.tags for output in later if output.kind == "tag"}
    assert tags == {"tag/belarus": ("Беларусь",), "tag/belarus-2": ("Belarus",)}
    unremembered = define_outputs(config, {"Беларусь": 3, "Belarus": 5})
    assert {o.path: o.tags for o in unremembered if o.kind == "tag"}["tag/belarus"] == (
        "Belarus",)  # what happened before slugs were remembered


def test_a_slug_once_published_is_never_given_to_another_tag() -> None:
    config = site_settings(publish={"tag_min_entries": 1})
    registry = tag_registry(define_outputs(config, {"Беларусь": 3}))
    gone = define_outputs(config, {"Belarus": 5}, registry)  # Беларусь has no entries now
    assert [o.path for o in gone if o.kind == "tag"] == ["tag/belarus-2"]


def test_frequent_feed_tags_are_sorted_so_slugs_do_not_depend_on_count_order() -> None:
    config = site_settings(publish={"tag_min_entries": 1})
    forward = define_outputs(config, {"C++": 3, "C#": 9, "c": 1})
    backward = define_outputs(config, {"c": 1, "C#": 9, "C++": 3})
    assert forward == backward


def test_named_feed_settings_are_carried_over() -> None:
    feed = {
        "id": "negotiations-en", "title": "Negotiations, in English", "tags": ["negotiations"],
        "languages": ["en"], "sources": ["a"], "exclude_tags": ["sport"],
        "match": "(?i)istanbul", "exclude": "(?i)sponsored", "limit": 7,
    }
    config = site_settings(tags={"negotiations": []}, publish={"feeds": [feed], "limit": 30})
    named = define_outputs(config, {})[-1]
    assert named == Output(
        "negotiations-en", "Negotiations, in English", "named", ("negotiations",), ("en",),
        ("a",), ("sport",), "(?i)istanbul", "(?i)sponsored", 7,
    )


def test_named_feed_defaults_to_its_id_as_title_and_the_global_limit() -> None:
    config = site_settings(publish={"feeds": [{"id": "everything"}], "limit": 12})
    named = define_outputs(config, {})[-1]
    assert (named.title, named.limit) == ("everything", 12)


# --- which entries an output lists ---------------------------------------------------------


def test_newest_published_first_up_to_limit() -> None:
    timeline = numbered(8)
    chosen = select_entries(Output("all", "T", "all", limit=5), timeline)
    assert keys(chosen) == ["k7", "k6", "k5", "k4", "k3"]


@given(st.permutations(numbered(3) + numbered(3, source_id="b") + numbered(2, source_id="c")))
@settings(max_examples=40, deadline=None)
def test_selection_does_not_depend_on_timeline_order(timeline: list[Entry]) -> None:
    output = Output("all", "T", "all", limit=6)
    reference = numbered(3) + numbered(3, source_id="b") + numbered(2, source_id="c")
    assert select_entries(output, timeline) == select_entries(output, reference)


def test_published_ties_are_broken_by_source_then_key() -> None:
    timeline = [make_entry(source_id=source, key=key) for source, key in
                [("b", "1"), ("a", "2"), ("a", "1"), ("b", "0")]]
    chosen = select_entries(Output("all", "T", "all"), timeline)
    assert [(entry.source_id, entry.key) for entry in chosen] == [
        ("a", "1"), ("a", "2"), ("b", "0"), ("b", "1")
    ]


def test_entry_matching_several_any_of_filters_is_listed_once() -> None:
    entry = make_entry(tags=("putin", "negotiations", "Negotiations"), language="en")
    output = Output("x", "T", "named", tags=("putin", "negotiations"), languages=("en", "uk"))
    assert select_entries(output, [entry]) == [entry]


def test_language_output_lists_only_its_language() -> None:
    timeline = [make_entry(key="en", language="en"), make_entry(key="uk", language="uk"),
                make_entry(key="none", language=None)]
    config = site_settings()
    outputs = {output.path: output for output in define_outputs(config, {})}
    assert keys(select_entries(outputs["lang/uk"], timeline)) == ["uk"]
    assert sorted(keys(select_entries(outputs["all"], timeline))) == ["en", "none", "uk"]


def test_tag_language_output_needs_both() -> None:
    timeline = [
        make_entry(key="both", tags=("putin",), language="uk"),
        make_entry(key="tag-only", tags=("putin",), language="en"),
        make_entry(key="lang-only", tags=("sport",), language="uk"),
    ]
    outputs = {o.path: o for o in define_outputs(site_settings(tags={"putin": []}), {})}
    assert keys(select_entries(outputs["tag/putin/uk"], timeline)) == ["both"]
    assert sorted(keys(select_entries(outputs["tag/putin"], timeline))) == ["both", "tag-only"]


def test_frequent_feed_tag_output_lists_every_spelling_of_the_tag() -> None:
    timeline = [make_entry(key=str(i), tags=(tag,)) for i, tag in enumerate(
        ["economy", "Economy", "Economy", "ECONOMY", "Sport"])]
    counts = tag_usage(timeline)
    assert counts == {"Economy": 4, "Sport": 1}  # under its most used spelling
    config = site_settings(publish={"tag_min_entries": 3})
    outputs = {output.path: output for output in define_outputs(config, counts)}
    assert "tag/sport" not in outputs
    assert sorted(keys(select_entries(outputs["tag/economy"], timeline))) == ["0", "1", "2", "3"]


FILTER_TIMELINE = [
    make_entry(key="en-talks", tags=("negotiations",), language="en", source_id="a",
               title="Talks in Istanbul", summary="<p>Delegations met.</p>"),
    make_entry(key="uk-talks", tags=("negotiations",), language="uk", source_id="b",
               title="Переговори", summary="<p>У <b>Стамбулі</b> (Istanbul) зустрілися.</p>"),
    make_entry(key="en-sport", tags=("sport",), language="en", source_id="b",
               title="Cup final", summary="<p>Sponsored by Acme</p>"),
    make_entry(key="en-both", tags=("sport", "negotiations"), language="en", source_id="a",
               title="Football diplomacy in Geneva", summary=""),
    make_entry(key="untagged", tags=(), language=None, source_id="a", title="Weather",
               summary="<p>Sunny, <i>istanbul</i> mentioned in markup only</p>"),
]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"en-talks", "uk-talks", "en-sport", "en-both", "untagged"}),
        ({"tags": ("negotiations",)}, {"en-talks", "uk-talks", "en-both"}),
        ({"tags": ("Negotiations", "sport")}, {"en-talks", "uk-talks", "en-sport", "en-both"}),
        ({"languages": ("uk",)}, {"uk-talks"}),
        ({"languages": ("en", "uk")}, {"en-talks", "uk-talks", "en-sport", "en-both"}),
        ({"sources": ("b",)}, {"uk-talks", "en-sport"}),
        ({"exclude_tags": ("SPORT",)}, {"en-talks", "uk-talks", "untagged"}),
        ({"tags": ("negotiations",), "exclude_tags": ("sport",)}, {"en-talks", "uk-talks"}),
        ({"match": "(?i)istanbul|geneva"}, {"en-talks", "uk-talks", "en-both", "untagged"}),
        ({"match": "Стамбул"}, {"uk-talks"}),
        ({"match": "<b>"}, set()),  # matched on text, not markup
        ({"exclude": "(?i)sponsored"}, {"en-talks", "uk-talks", "en-both", "untagged"}),
        ({"match": "(?i)istanbul", "exclude": "Weather"}, {"en-talks", "uk-talks"}),
        ({"tags": ("negotiations",), "languages": ("en",), "match": "(?i)istanbul|geneva",
          "exclude": "(?i)sponsored"}, {"en-talks", "en-both"}),
    ],
)
def test_named_feed_filters(filters: dict[str, Any], expected: set[str]) -> None:
    output = Output("named", "T", "named", **filters)
    assert {entry.key for entry in select_entries(output, FILTER_TIMELINE)} == expected
    assert all(matches(output, entry) == (entry.key in expected) for entry in FILTER_TIMELINE)


def test_named_feed_limit_applies_to_the_newest() -> None:
    config = site_settings(publish={"feeds": [{"id": "few", "limit": 2}], "limit": 50})
    named = define_outputs(config, {})[-1]
    assert keys(select_entries(named, numbered(5))) == ["k4", "k3"]


def test_global_limit_applies_to_generated_outputs() -> None:
    config = site_settings(publish={"limit": 3}, tags={"negotiations": []})
    for output in define_outputs(config, {}):
        assert len(select_entries(output, numbered(5, language="en"))) <= 3


# --- slugs and paths -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "slug"),
    [
        ("Putin", "putin"), ("Путін", "putin"), ("Путин", "putin"), ("peace talks", "peace-talks"),
        ("../../etc/passwd", "etc-passwd"), ("/abs", "abs"), ("..", "tag"), ("", "tag"),
        ("🎉🔥", "tag"), ("  Ukraine  ", "ukraine"),
    ],
)
def test_tag_slug_examples(tag: str, slug: str) -> None:
    assert tag_slug(tag) == slug


def test_cyrillic_is_transliterated() -> None:
    slug = tag_slug("Переговори у Стамбулі")
    assert slug.isascii()
    assert SLUG.match(slug)
    assert slug.startswith("peregovori") or slug.startswith("perehovory")


def outputs_for_tags(tags: list[str]) -> list[Output]:
    """Every output when each of ``tags`` is a frequent feed tag (plus one configured)."""
    config = site_settings(tags={"putin": ["Путін"]}, publish={"tag_min_entries": 1})
    return define_outputs(config, dict.fromkeys(tags, 3))


def assert_safe_paths(outputs: list[Output]) -> None:
    """Every output path is a unique, lowercase, relative path that stays in its folder."""
    found = paths(outputs)
    assert len(set(found)) == len(found)
    for path in found:
        assert OUTPUT_PATH.match(path), path
        assert posixpath.normpath(path) == path
        resolved = posixpath.normpath(posixpath.join("/srv/feeds", path + ".atom"))
        assert resolved.startswith("/srv/feeds/"), path


@pytest.mark.parametrize("tag", HOSTILE_TAGS)
def test_hostile_tag_stays_inside_the_output_folder(tag: str) -> None:
    outputs = outputs_for_tags([tag])
    assert_safe_paths(outputs)
    assert SLUG.match(tag_slug(tag))


def test_all_hostile_tags_together_get_distinct_paths() -> None:
    assert_safe_paths(outputs_for_tags([*HOSTILE_TAGS, "tag", "tag-2", "putin", "Putin!"]))


def test_colliding_slugs_get_numbered_in_a_stable_order() -> None:
    tags = ["C#", "C++", "c", "c-2"]
    first = {o.tags[0]: o.path for o in outputs_for_tags(tags) if o.kind == "tag"}
    again = {o.tags[0]: o.path for o in outputs_for_tags(list(reversed(tags))) if o.kind == "tag"}
    assert first == again
    assert first["putin"] == "tag/putin"  # configured tags are numbered first
    assert sorted(first.values()) == sorted(set(first.values()))


@given(st.text(max_size=120))
@settings(max_examples=300, deadline=None)
def test_slugs_are_always_lowercase_ascii(tag: str) -> None:
    assert SLUG.match(tag_slug(tag))


@given(st.lists(st.text(min_size=1, max_size=40), max_size=12))
@settings(max_examples=60, deadline=None)
def test_arbitrary_feed_tags_give_unique_safe_paths(tags: list[str]) -> None:
    assert_safe_paths(outputs_for_tags(tags))


# --- relisted: a listing merged with what changed equals the one selected anew ---------

Timeline = dict[int, tuple[int, bool]]  # id → (place, whether the output matches it)


def listed_of(timeline: Timeline, entry_id: int) -> Listed:
    """The :class:`Listed` of ``entry_id`` in ``timeline``: its place, a fixed date."""
    return Listed(entry_id, (float(timeline[entry_id][0]), "s", str(entry_id)), NOON)


def first_matching(timeline: Timeline, limit: int) -> list[int]:
    """The listing selected anew: the first ``limit`` matching ids in timeline order."""
    ordered = sorted((listed_of(timeline, entry_id).place, entry_id)
                     for entry_id, (_, match) in timeline.items() if match)
    return [entry_id for _, entry_id in ordered[:limit]]


def random_changes(rng: random.Random) -> tuple[Timeline, dict[int, tuple[int, bool] | None]]:
    """A timeline of up to 40 entries, and up to 12 changes: new entries, entries moved
    or matched differently, entries removed (``None``)."""
    def entry() -> tuple[int, bool]:
        return rng.randint(0, 10_000), rng.random() < 0.5

    before = {rng.randint(0, 60): entry() for _ in range(rng.randint(0, 40))}
    edits = {rng.randint(0, 80): None if rng.random() < 0.3 else entry()
             for _ in range(rng.randint(0, 12))}
    return before, edits


def test_a_merged_listing_is_the_one_selected_anew_or_none() -> None:
    rng = random.Random(7)
    merged_count = 0
    for _ in range(5000):
        before, edits = random_changes(rng)
        limit = rng.randint(1, 8)
        after = {entry_id: value for entry_id, value in (before | edits).items()
                 if value is not None}
        output = Output("feed", "Feed", "named", limit=limit)
        previous = first_matching(before, limit)
        places = {entry_id: listed_of(after, entry_id) for entry_id in after}
        joining = [places[entry_id] for entry_id in edits
                   if entry_id in after and after[entry_id][1]]
        merged = relisted(output, previous, set(edits), places, joining)
        if merged is not None:
            merged_count += 1
            assert [item.id for item in merged] == first_matching(after, limit)
        elif not edits:
            pytest.fail("nothing changed, yet the listing was not known")
    assert merged_count > 4000  # most changes are merged, not selected again
