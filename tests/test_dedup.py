"""The pure duplicate decision, with plain values; and cluster order independence on a
real SQLite store (Hypothesis)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refeed.config import SourceConfig
from refeed.dedup import (
    FULL_RETELL_OVERLAP,
    NUM_PERM,
    SEED,
    DedupPolicy,
    band_keys,
    decide,
    entry_revision,
    figures_agree,
    fingerprint,
    is_summary_of,
    judge,
    minhash,
    overlap,
    rephrased,
    same_name,
    same_story,
    similarity,
    stem_overlap,
    text_likeness,
    words,
)
from refeed.model import Decision, Entry, FetchResult, ProcessedFeed, StoredEntry, Taxonomy
from refeed.normalize import normalize_entry
from refeed.storage import Store
from tests.factories import NOON, STORY, likeness_of, make_entry

POLICY = DedupPolicy(window=timedelta(hours=72))
def stored(entry_id: int, **changes: object) -> StoredEntry:
    """A stored row of source ``b`` that matches :func:`make_entry` by URL and hash."""
    row = StoredEntry(
        id=entry_id, source_id="b", key=f"b-{entry_id}", revision="r", published=NOON,
        canonical_url="https://x.example/story", content_hash="h1", duplicate_of=None,
        title="Talks resume", language="en",
    )
    return replace(row, **changes)  # type: ignore[arg-type]


def test_new_entry_without_candidates() -> None:
    assert decide(make_entry(), "r", None, [], POLICY) == Decision("new")


def test_existing_entry_same_revision_is_unchanged() -> None:
    entry = make_entry()
    existing = replace(stored(7, source_id="a", key="guid-1"), revision=entry_revision(entry))
    assert decide(entry, entry_revision(entry), existing, [], POLICY) == Decision(
        "unchanged", existing_id=7
    )


def test_existing_entry_other_revision_is_updated() -> None:
    entry = make_entry()
    existing = stored(7, source_id="a", key="guid-1", revision="old")
    assert decide(entry, entry_revision(entry), existing, [stored(3)], POLICY) == Decision(
        "updated", existing_id=7
    )


def test_copy_joins_the_first_seen_original() -> None:
    candidates = [stored(9), stored(4), stored(6, duplicate_of=4)]
    assert decide(make_entry(), "r", None, candidates, POLICY) == Decision(
        "duplicate", duplicate_of=4, merge=(9,)
    )


def test_an_entry_bridging_two_clusters_merges_them_into_the_oldest() -> None:
    candidates = [stored(5, duplicate_of=2), stored(8, canonical_url=None, content_hash="h1")]
    assert decide(make_entry(), "r", None, candidates, POLICY) == Decision(
        "duplicate", duplicate_of=2, merge=(8,)
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, True),
        ({"published": NOON - timedelta(hours=73), "canonical_url": "https://o.example/x"},
         False),
        ({"published": NOON - timedelta(hours=71), "canonical_url": "https://o.example/x"},
         True),
        ({"language": "uk"}, False),  # translations are never merged
        ({"language": None}, True),
        ({"content_hash": "", "canonical_url": None}, False),
        ({"source_id": "a"}, True),  # the same source: content hash equal, a new guid
        ({"source_id": "a", "content_hash": "h2"}, True),  # ... or same URL and title
        ({"source_id": "a", "content_hash": "h2", "title": "Other"}, False),
    ],
)
def test_same_story_rules(change: dict[str, object], expected: bool) -> None:
    assert same_story(make_entry(), stored(5, **change), POLICY) is expected


def test_opted_out_sources_and_the_off_switch() -> None:
    assert not same_story(make_entry(), stored(5), DedupPolicy(enabled=False))
    assert not same_story(make_entry(), stored(5),
                          DedupPolicy(excluded_sources=frozenset({"b"})))


LIVE_POST = ("Explosions heard in the capital, air defence at work; debris fell on a "
             "warehouse in the Solomianskyi district and emergency services are on their way")
LATER_POST = ("The number of injured in the capital rose to nine and one person died; a "
              "sixteen-storey building was damaged and search operations continue")


def test_a_live_blog_entry_is_not_the_last_one_seen_again() -> None:
    # one page (the fragments differ), one title and summary; each post its own text
    first = make_entry(key="post-8", canonical_url="https://x.example/live",
                       content_hash="h8", **likeness_of(LATER_POST))
    earlier = stored(5, source_id="a", key="post-1", canonical_url="https://x.example/live",
                     content_hash="h1", **likeness_of(LIVE_POST))
    assert not same_story(first, earlier, POLICY)
    reposted = replace(earlier, **likeness_of(LATER_POST))  # the same post, a new guid
    assert same_story(first, reposted, POLICY)


@pytest.mark.parametrize(
    ("first", "second", "close", "agree"),
    [
        (("7", "1000"), ("7", "1000", "12"), False, True),  # a trimmed copy, any time
        (("7", "1000"), ("8", "1000"), True, True),  # a correction within hours
        (("7", "1000"), ("8", "1000"), False, False),  # ... but a day later, another post
        (("5", "12", "40", "1000"), ("6", "14", "41", "1000"), True, False),  # a bulletin
    ],
)
def test_figures_tell_a_correction_from_another_bulletin(
    first: tuple[str, ...], second: tuple[str, ...], close: bool, agree: bool
) -> None:
    assert figures_agree(first, second, close=close) is agree
    assert figures_agree(second, first, close=close) is agree


def test_a_bulletin_a_few_hours_later_is_not_an_update() -> None:
    bulletin = (STORY + ". The regional administration publishes its daily summary of the "
                "consequences of shelling across the region every evening: {}")
    today = bulletin.format("3 killed, 12 injured, 40 buildings damaged")
    tonight = bulletin.format("5 killed, 19 injured, 41 buildings damaged")
    entry = make_entry(canonical_url=None, content_hash="x", **likeness_of(today))
    other = stored(5, canonical_url=None, content_hash="y",
                   published=NOON - timedelta(hours=3), **likeness_of(tonight))
    assert overlap(entry, other) >= POLICY.threshold
    assert not same_story(entry, other, POLICY)
    corrected = bulletin.format("3 killed, 13 injured, 40 buildings damaged")
    assert same_story(entry, replace(other, **likeness_of(corrected)), POLICY)


BODY = ("<p>The missile hit a five-storey residential building and a nearby shop in the "
        "city's Dovhyntsivskyi district shortly after 10 a.m., the regional governor said.</p>"
        "<p>Among the injured were two children. Rescuers were still searching the rubble in "
        "the afternoon, and the city declared Wednesday a day of mourning.</p>")


def normalized(summary: str, content: str, source: str,
               title: str = "Missile strike on Kryvyi Rih kills three") -> Entry:
    raw = {"id": f"{source}-1", "title": title,
           "summary": summary, "summary_detail": {"type": "text/html"},
           "content": [{"value": content, "type": "text/html"}],
           "link": f"https://{source}.example/1", "published_parsed": NOON.timetuple()}
    return normalize_entry(raw, SourceConfig(id=source, url=f"https://{source}.example/"),
                           Taxonomy(), NOON + timedelta(days=1))


def test_likeness_reads_the_whole_text_not_only_the_lede() -> None:
    # a republisher rewrote the intro; the body under it is the agency's
    agency = normalized("A Russian missile struck a residential area, killing three.", BODY, "a")
    copy = normalized("Three people died when a missile hit homes in the city.", BODY, "b")
    assert overlap(copy, as_stored(agency)) >= POLICY.threshold


AGENCY = ("<p>A fire at the Hrybovychi landfill near Lviv has been smouldering since Friday, "
          "and fine particulate matter in the Shevchenkivskyi district reached 78 micrograms "
          "per cubic metre on Sunday, the Lviv city council said.</p><p>Residents were "
          "advised to keep windows closed and children indoors. Firefighters have poured "
          "340 tonnes of water and sand on the site, working in shifts around the clock, "
          "and the regional emergency service sent two more crews and an excavator.</p>"
          "<p>The landfill was closed in 2016 after a deadly collapse; its owner is a "
          "municipal company, which has promised an inquiry into the cause of the fire and "
          "compensation for the residents of the nearby villages.</p>")
RETOLD = ("<p>Lviv's council says smoke from the smouldering Hrybovychi landfill pushed fine "
          "particles to 78 micrograms; firefighters have used 340 tonnes of water.</p>")


def test_a_summary_retelling_the_story_in_other_words_is_one() -> None:
    agency = normalized("", AGENCY, "a", "Landfill fire: Lviv air over the norm")
    portal = normalized("", RETOLD, "b", "Smoke from Hrybovychi: Lviv asks residents to stay in")
    assert overlap(portal, as_stored(agency)) < POLICY.threshold  # few word pairs shared
    verdict = judge(portal, as_stored(agency), POLICY)
    assert (verdict.same, verdict.rule) == (True, "the same facts, retold")
    later = replace(as_stored(agency), published=NOON - timedelta(hours=7))
    assert not same_story(portal, later, POLICY)  # a retelling comes within hours
    other_figure = normalized("", RETOLD.replace("78", "91"), "b",
                              "Smoke from Hrybovychi: Lviv asks residents to stay in")
    assert not same_story(other_figure, as_stored(agency), POLICY)
    # one background paragraph under a headline of its own is another story
    other_headline = normalized("", RETOLD, "b", "Regional council approves new budget")
    assert not same_story(other_headline, as_stored(agency), POLICY)
    numbered = normalized("", RETOLD, "b", "Lviv landfill fire: report №66")
    assert not same_story(numbered, as_stored(replace(agency, title="Lviv landfill fire: "
                                                      "report №27")), POLICY)


AGGREGATOR = ("<p>For a second day running, the air in Lviv's Shevchenkivskyi district is "
              "polluted above permitted levels: smoke from the Hrybovychi landfill, where a "
              "fire has smouldered since Friday, pushed fine particulate matter to 78 "
              "micrograms per cubic metre on Sunday, the city council told the agency.</p>"
              "<p>The council asked people to keep their windows shut and children at home. "
              "Rescuers working in shifts have dumped 340 tonnes of water and sand on the "
              "site; the regional emergency service added two crews and an excavator.</p>"
              "<p>The municipal company that owns the landfill, shut after a deadly collapse "
              "in 2016, says it will investigate the cause and compensate nearby villages.</p>")


def test_a_full_text_retold_in_other_words_is_one() -> None:
    agency = normalized("", AGENCY, "a", "Landfill fire: Lviv air over the norm")
    portal = normalized("", AGGREGATOR, "b", "Smoke from Hrybovychi fire keeps Lviv air "
                        "over the norm")
    assert not is_summary_of(portal, as_stored(agency))  # two full texts
    assert overlap(portal, as_stored(agency)) < POLICY.threshold
    verdict = judge(portal, as_stored(agency), POLICY)
    assert (verdict.same, verdict.rule) == (True, "the same facts, retold")
    # a headline's figures are the other text's, however each headline is numbered
    second_day = normalized("", AGENCY, "a", "Landfill fire: Lviv air over the norm, day 2")
    in_figures = normalized("", AGGREGATOR, "b", "Hrybovychi fire smoke: Lviv air at 78 "
                            "micrograms, over the norm")
    assert same_story(in_figures, as_stored(second_day), POLICY)
    other_figure = normalized("", AGGREGATOR, "b", "Hrybovychi fire smoke: Lviv air at 91 "
                              "micrograms, over the norm")
    assert not same_story(other_figure, as_stored(second_day), POLICY)
    # without a figure in common, a handful of names is too little to go on
    unnumbered = normalized("", re.sub(r"\d+", "many", AGGREGATOR), "b",
                            "Smoke from Hrybovychi fire keeps Lviv air over the norm")
    assert stem_overlap(unnumbered, as_stored(agency)) >= FULL_RETELL_OVERLAP
    assert not same_story(unnumbered, as_stored(agency), POLICY)
    # the same template with the words swapped keeps its sentences: another story
    assert not rephrased(stems=0.6, near=0.5)
    assert rephrased(stems=0.6, near=0.3)
    assert rephrased(stems=0.9, near=0.8)  # the same words, reordered


def test_two_full_texts_of_one_template_are_not_a_retelling() -> None:
    decree = ("<p>President Volodymyr Zelensky signed a decree extending {what} in Ukraine for "
              "another 90 days, from February 7, the Office of the President said on Tuesday. "
              "The Verkhovna Rada approved the bill earlier this week with 320 votes.</p>"
              "<p>{detail}</p>")
    first = normalized("", decree.format(
        what="martial law", detail="Under martial law the government may restrict movement, "
        "assemblies and the work of media, and elections cannot be held until it ends."),
        "a", "President signs decree extending martial law")
    second = normalized("", decree.format(
        what="general mobilisation", detail="Mobilisation lets territorial centres call up "
        "men of conscription age, who may not leave the country without permission."),
        "b", "President signs decree extending general mobilisation")
    assert overlap(second, as_stored(first)) < POLICY.threshold
    verdict = judge(second, as_stored(first), POLICY)
    assert not verdict.same, verdict


def test_a_retold_story_is_found_through_the_facts_it_shares(tmp_path: Path) -> None:
    # no word pair band, URL or fingerprint in common: only figures and names lead to it
    store = Store.open(tmp_path / "timeline.db")
    store.sync_sources([SourceConfig(id=name, url=f"https://{name}.example/") for name in "ab"])
    for entry in (normalized("", AGENCY, "a", "Landfill fire: Lviv air over the norm"),
                  normalized("", RETOLD, "b",
                             "Smoke from Hrybovychi: Lviv asks residents to stay in")):
        counts = store.record_poll(FetchResult(source_id=entry.source_id, url="u"),
                                   ProcessedFeed(entries=(entry,)), now=NOON,
                                   next_due=NOON, policy=POLICY)
    store.close()
    assert counts.duplicates == 1


def test_a_summary_naming_one_fact_finds_the_full_story_told_later(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "timeline.db")
    store.sync_sources([SourceConfig(id=name, url=f"https://{name}.example/") for name in "ab"])
    summary = ("<p>Smoke from a smouldering landfill fire pushed fine particles in the city to "
               "78 micrograms per cubic metre; keep windows closed.</p>")
    for entry in (normalized(summary, "", "b", "Landfill smoke: air over the norm"),
                  normalized("", AGENCY, "a", "Landfill fire: Lviv air over the norm")):
        counts = store.record_poll(FetchResult(source_id=entry.source_id, url="u"),
                                   ProcessedFeed(entries=(entry,)), now=NOON,
                                   next_due=NOON, policy=POLICY)
    store.close()
    assert counts.duplicates == 1


def test_headlines_naming_other_places_are_other_stories() -> None:
    template = ("<p>President Volodymyr Zelensky signed a decree appointing {name} as "
                "Ukraine's Ambassador Extraordinary and Plenipotentiary to {country}. "
                "Before the appointment, the diplomat headed a department of the Ministry "
                "of Foreign Affairs. The previous ambassador to {country} was dismissed by a "
                "separate decree.</p>")
    japan = normalized("", template.format(name="Ihor Lytvyn", country="Japan"), "a",
                       "Zelensky appoints new ambassador to Japan")
    brazil = normalized("", template.format(name="Maryna Honcharenko", country="Brazil"), "b",
                        "Zelensky appoints new ambassador to Brazil")
    verdict = judge(brazil, as_stored(japan), POLICY)
    assert (verdict.same, verdict.rule) == (False, "the headlines name other people or places")
    assert verdict.evidence["headlines"] == [["brazil", "zelensky"], ["japan", "zelensky"]]


WARNING = ("<p>On 13 November strong south-westerly wind with gusts of 15-20 m/s is expected "
           "{where}, up to 25 m/s in the mountains, the regional hydrometeorological centre "
           "said. A yellow danger level was declared. Rescuers advise drivers not to park "
           "under trees and hikers not to go into the mountains until the wind drops.</p>")


def test_texts_naming_none_of_the_same_places_are_other_stories() -> None:
    # one warning for Zakarpattia, one for Ivano-Frankivsk region, in the same words
    west = normalized("", WARNING.format(where="in Zakarpattia, around Uzhhorod and Mukachevo"),
                      "a", "Wind gusts up to 25 m/s: warning issued")
    east = normalized("", WARNING.format(where="in the Ivano-Frankivsk region, around Kolomyia"),
                      "b", "Wind gusts up to 25 m/s: warning issued")
    assert overlap(east, as_stored(west)) >= POLICY.threshold
    verdict = judge(east, as_stored(west), POLICY)
    assert (verdict.same, verdict.rule) == (False, "the texts name none of the same people or "
                                                   "places")
    assert verdict.evidence["names"] == [list(east.names), list(west.names)]
    # one name in common is enough to leave it to the other rules
    both = normalized("", WARNING.format(where="in Zakarpattia and the Ivano-Frankivsk region"),
                      "b", "Wind gusts up to 25 m/s: warning issued")
    assert same_story(both, as_stored(west), POLICY)


def test_texts_naming_other_dates_are_other_stories() -> None:
    bulletin = ("<p>Air defence forces shot down 41 of the 48 drones launched overnight into "
                "{day}, the Air Force of Ukraine said. Debris fell in the Kyiv, Sumy and "
                "Chernihiv regions; no casualties were reported.</p>")
    monday = normalized("", bulletin.format(day="10 November"), "a", "Air defence downs drones")
    tuesday = normalized("", bulletin.format(day="11 November"), "b", "Air defence downs drones")
    assert overlap(tuesday, as_stored(monday)) >= POLICY.threshold
    verdict = judge(tuesday, as_stored(monday), POLICY)
    assert (verdict.same, verdict.rule) == (False, "the texts name other dates")
    assert verdict.evidence["dates"] == [["11-11"], ["11-10"]]
    # a copy that leaves the date out still agrees
    undated = normalized("", bulletin.format(day="the morning"), "b", "Air defence downs drones")
    assert same_story(undated, as_stored(monday), POLICY)


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [("львів", "львові", True), ("зеленський", "зеленського", True), ("kyiv", "kyiv", True),
     ("японії", "бразилії", False), ("карпати", "зорі", False), ("kyiv", "kharkiv", False)],
)
def test_names_match_across_inflections(first: str, second: str, same: bool) -> None:
    assert same_name(first, second) is same


def as_stored(entry: Entry) -> StoredEntry:
    return StoredEntry(
        id=1, source_id=entry.source_id, key=entry.key, revision="", published=entry.published,
        canonical_url=entry.canonical_url, content_hash=entry.content_hash, duplicate_of=None,
        title=entry.title, language=entry.language, signature=entry.signature,
        shingles=entry.shingles, numbers=entry.numbers, names=entry.names,
        headline=entry.headline, stem_signature=entry.stem_signature, stems=entry.stems,
        dates=entry.dates)


def test_near_duplicates_by_overlap_within_window() -> None:
    edited = STORY.replace("no casualties", "nobody hurt")
    entry = make_entry(canonical_url=None, content_hash="x", **likeness_of(STORY))
    copy = stored(5, canonical_url=None, content_hash="y", **likeness_of(edited))
    assert overlap(entry, copy) >= POLICY.threshold
    assert same_story(entry, copy, POLICY)
    assert not same_story(entry, copy, replace(POLICY, near_duplicates=False))
    assert not same_story(entry, replace(copy, published=NOON - timedelta(hours=80)), POLICY)
    unrelated = likeness_of("Ukraine's parliament passes the 2027 budget in its first reading "
                            "with 250 votes after a long debate on defence spending")
    assert not same_story(entry, replace(copy, **unrelated), POLICY)


def test_a_trimmed_lede_is_contained_in_the_full_text() -> None:
    short = " ".join(STORY.split()[:12])
    entry = make_entry(canonical_url=None, content_hash="x", **likeness_of(STORY))
    trimmed = stored(5, canonical_url=None, content_hash="y", **likeness_of(short))
    assert similarity(entry.signature, trimmed.signature) < POLICY.threshold
    assert overlap(entry, trimmed) >= POLICY.threshold
    assert same_story(entry, trimmed, POLICY)


def test_changed_numbers_are_an_update_within_hours_but_a_new_bulletin_next_day() -> None:
    bulletin = ("Russia loses 1,750 soldiers over past day, the General Staff said in its "
                "morning report on Russian losses since the start of the invasion")
    entry = make_entry(canonical_url=None, content_hash="x", **likeness_of(bulletin))
    changed = likeness_of(bulletin.replace("1,750", "1,320"))
    later = stored(5, canonical_url=None, content_hash="y", **changed)
    assert same_story(entry, replace(later, published=NOON + timedelta(hours=3)), POLICY)
    assert not same_story(entry, replace(later, published=NOON + timedelta(hours=24)), POLICY)
    unchanged = stored(6, canonical_url=None, content_hash="y", **likeness_of(bulletin))
    assert same_story(entry, replace(unchanged, published=NOON + timedelta(hours=24)), POLICY)


def test_words_and_fingerprint_ignore_formatting_and_boilerplate() -> None:
    assert words("Russia loses 1,750 soldiers — «past day»!") == [
        "russia", "loses", "1750", "soldiers", "past", "day",
    ]
    body = "Delegations met in Istanbul."
    assert fingerprint("Talks", body) == fingerprint(
        "TALKS!", body + " The post Talks appeared first on Wire News.")
    assert fingerprint("Talks", body) == fingerprint("Talks", body + " Read more at wire.example")


def test_signatures_are_stable_and_banded() -> None:
    first, second = text_likeness(STORY).signature, text_likeness(STORY).signature
    assert first == second
    assert len(first) == 64
    assert len(band_keys(first)) == 16
    assert text_likeness("too short").signature == ()
    assert band_keys(()) == []


def test_revision_ignores_fallback_dates_but_not_real_ones() -> None:
    undated = make_entry(dated=False)
    later = NOON + timedelta(hours=1)
    assert entry_revision(undated) == entry_revision(
        replace(undated, published=later, updated=later)
    )
    assert entry_revision(make_entry()) != entry_revision(make_entry(updated=later))


@pytest.mark.parametrize(
    "change",
    [{"title": "Talks stall"}, {"content": "<p>more</p>"}, {"tags": ("putin",)},
     {"link": "https://x.example/other"}, {"authors": ("Bob",)}],
)
def test_revision_changes_with_content(change: dict[str, object]) -> None:
    assert entry_revision(make_entry()) != entry_revision(make_entry(**change))


# --- order independence --------------------------------------------------------------------

VARIANTS = [
    STORY,
    STORY.replace("overnight", "at night"),
    STORY.replace("reported by", "said"),
    "Parliament passes the 2027 budget in the first reading with 250 votes after a debate "
    "on defence spending and teachers' salaries",
    "Parliament passes the 2027 budget in the first reading with 250 votes after a long "
    "debate on defence spending and teachers' salaries",
]
POOL = [
    make_entry(source_id=f"s{index}", key=f"k{index}", canonical_url=None,
               content_hash=fingerprint("t", text), title="Night attack" if index < 3 else
               "Budget vote", link=None, **likeness_of(text))
    for index, text in enumerate(VARIANTS)
] + [make_entry(source_id="s9", key="k9", content_hash="", signature=(),
                canonical_url="https://x.example/story")]


def clusters(entries: list[Entry], polls: int) -> set[frozenset[str]]:
    """Store ``entries`` in that order over ``polls`` polls; the resulting clusters."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "db")
        store.sync_sources([SourceConfig(id=e.source_id, url="https://s.example/")
                            for e in entries])
        size = max(1, -(-len(entries) // polls))
        for start in range(0, len(entries), size):
            for entry in entries[start:start + size]:
                fetched = FetchResult(source_id=entry.source_id, url="u", body=b"x")
                store.record_poll(fetched, ProcessedFeed((entry,)), now=NOON, next_due=NOON,
                                  policy=POLICY)
        rows = list(store.db.query("SELECT id, key, duplicate_of FROM entries"))
        store.close()
    members: dict[int, set[str]] = {}
    for row in rows:
        members.setdefault(row["duplicate_of"] or row["id"], set()).add(row["key"])
    return {frozenset(keys) for keys in members.values()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(POOL), polls=st.integers(min_value=1, max_value=3))
def test_clusters_do_not_depend_on_arrival_order(order: list[Entry], polls: int) -> None:
    assert clusters(order, polls) == clusters(POOL, 1)


def test_the_pool_has_the_expected_clusters() -> None:
    assert clusters(POOL, 1) == {frozenset({"k0", "k1", "k2"}), frozenset({"k3", "k4"}),
                                 frozenset({"k9"})}


@settings(max_examples=60, deadline=None)
@given(st.sets(st.text(min_size=1, max_size=30), min_size=1, max_size=80))
def test_signatures_are_datasketch_signatures(shingles: set[str]) -> None:
    """Signatures stored by versions that computed them with datasketch stay comparable."""
    from datasketch import MinHash  # noqa: PLC0415

    reference = MinHash(num_perm=NUM_PERM, seed=SEED)
    reference.update_batch([shingle.encode("utf-8") for shingle in shingles])
    assert minhash(shingles) == tuple(int(value) for value in reference.hashvalues)
