"""Render, with plain values: Atom 1.0, RSS 2.0, JSON Feed 1.1, OPML and the HTML index.

Checks follow the W3C feed validator's main rules, feedparser reads every output back, and
hostile text (made realistic by passing it through ``normalize_entry`` first) must always
give well-formed XML with no script element in it.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html import escape as escape_html
from typing import Any
from urllib.parse import urlsplit

import feedparser
import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from refeed.config import SourceConfig
from refeed.model import Enclosure, Entry, Taxonomy
from refeed.normalize import normalize_entry
from refeed.render import (
    FeedInfo,
    Listing,
    SourceInfo,
    assemble,
    entry_fragments,
    entry_uid,
    feed_url,
    render_index,
    render_opml,
    split_document,
)
from refeed.select import Output, define_outputs
from tests.factories import NOON, feed_updated, make_entry, render_feed, site_settings

FORMATS = ("atom", "rss", "json")
XML_FORMATS = ("atom", "rss")
BASE = "http://feeds.example/"
A = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
RFC822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
                    r"Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}$")
SOURCES = {
    "a": SourceInfo("a", "Source A", "https://a.example/feed"),
    "b": SourceInfo("b", "Source B", "https://b.example/rss"),
}
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
NOW = datetime(2026, 10, 5, tzinfo=UTC)
PODCAST = (Enclosure("https://cdn.example/ep1.mp3", "audio/mpeg", 12345),
           Enclosure("https://cdn.example/cover.jpg", "image/jpeg", None))


def feed_info(output: Output | None = None) -> FeedInfo:
    """A FeedInfo for ``output`` (default: ``all``) on the test site."""
    return FeedInfo(output or Output("all", "Everything", "all"), BASE, "Test site", SOURCES)


def sample_entries() -> list[Entry]:
    """Three entries, newest published first: two sources, languages, tags, an enclosure."""
    return [
        make_entry(key="n1", title="Newest", published=NOON + timedelta(hours=2),
                   updated=NOON + timedelta(hours=2), language="uk", source_id="b",
                   tags=("putin", "negotiations"), link="https://b.example/n1"),
        make_entry(key="n2", title="Middle, edited later", published=NOON + timedelta(hours=1),
                   updated=NOON + timedelta(hours=5), content="<p>Body</p>",
                   link="https://a.example/n2", enclosures=PODCAST),
        make_entry(key="n3", title="Oldest", link="https://a.example/n3", language=None),
    ]


def parse_xml(data: bytes) -> etree._Element:
    """``data`` parsed as XML without resolving entities (raises if not well-formed)."""
    return etree.fromstring(data, SAFE_PARSER)


def read_back(data: bytes) -> Any:
    """``data`` parsed by feedparser (unsanitized), asserting it is not bozo."""
    parsed = feedparser.parse(data, sanitize_html=False)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def hostile_entry(text: str, kind: str = "text/html", key: str = "hostile") -> Entry:
    """An Entry made by ``normalize_entry`` from a raw entry whose every text is ``text``."""
    raw = {
        "id": key, "link": "https://x.example/story", "title": text,
        "title_detail": {"type": kind}, "summary": text, "summary_detail": {"type": kind},
        "content": [{"type": kind, "value": text}], "tags": [{"term": text[:60]}],
        "authors": [{"name": text[:60]}],
        "enclosures": [{"href": "https://x.example/a.mp3", "type": text[:30], "length": "7"}],
    }
    source = SourceConfig(id="a", url="https://a.example/feed")
    return normalize_entry(raw, source, Taxonomy(), NOW)


def html_fields(fmt: str, data: bytes) -> list[str]:
    """The HTML payloads of every entry of ``data`` (content and summary, as parsed)."""
    if fmt == "json":
        return [item.get("content_html", "") for item in json.loads(data)["items"]]
    root = parse_xml(data)
    names = [f"{A}content", f"{A}summary"] if fmt == "atom" else ["description", CONTENT]
    entries = root.iter(f"{A}entry" if fmt == "atom" else "item")
    return [child.text or "" for entry in entries for name in names
            for child in entry.iter(name)]


def assert_harmless_html(html: str) -> None:
    """``html``, parsed as a browser would, has no script element, event handler or
    ``javascript:`` URL."""
    assert "<script" not in html.lower()
    for element in lxml.html.fromstring(f"<div>{html}</div>").iter():
        assert element.tag != "script"
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (name, value)
            assert not value.strip().lower().startswith("javascript:"), (name, value)


# --- Atom ---------------------------------------------------------------------------------


def test_atom_feed_head_follows_the_validator_rules() -> None:
    root = parse_xml(render_feed("atom", feed_info(), sample_entries()))
    assert root.tag == f"{A}feed"
    assert root.findtext(f"{A}id") == f"{BASE}all.atom"
    assert root.findtext(f"{A}title") == "Everything"
    assert RFC3339.match(root.findtext(f"{A}updated") or "")
    assert root.findtext(f"{A}author/{A}name") == "Test site"
    self_links = [link.attrib for link in root.findall(f"{A}link") if link.get("rel") == "self"]
    assert self_links == [{"href": f"{BASE}all.atom", "rel": "self",
                           "type": "application/atom+xml"}]


def test_atom_entries_have_id_title_and_rfc3339_dates() -> None:
    entries = sample_entries()
    root = parse_xml(render_feed("atom", feed_info(), entries))
    elements = root.findall(f"{A}entry")
    assert len(elements) == len(entries)
    for element, entry in zip(elements, entries, strict=True):
        assert element.findtext(f"{A}id") == entry_uid(entry)
        assert element.findtext(f"{A}title") == entry.title
        for name, value in (("updated", entry.updated), ("published", entry.published)):
            text = element.findtext(f"{A}{name}") or ""
            assert RFC3339.match(text)
            assert datetime.fromisoformat(text) == value


def test_atom_links_keep_rel_type_and_length() -> None:
    entry = make_entry(enclosures=PODCAST)
    root = parse_xml(render_feed("atom", feed_info(), [entry]))
    links = [dict(link.attrib) for link in root.findall(f"{A}entry/{A}link")]
    assert links == [
        {"rel": "alternate", "type": "text/html", "href": "https://x.example/story"},
        {"rel": "enclosure", "href": "https://cdn.example/ep1.mp3", "type": "audio/mpeg",
         "length": "12345"},
        {"rel": "enclosure", "href": "https://cdn.example/cover.jpg", "type": "image/jpeg"},
    ]
    parsed = read_back(render_feed("atom", feed_info(), [entry])).entries[0]
    assert parsed["link"] == "https://x.example/story"
    assert [e["href"] for e in parsed["enclosures"]] == [e.url for e in PODCAST]


@pytest.mark.parametrize(("language", "expected"), [("uk", "uk"), ("en", "en"), (None, None)])
def test_atom_entry_carries_its_language(language: str | None, expected: str | None) -> None:
    root = parse_xml(render_feed("atom", feed_info(), [make_entry(language=language)]))
    entry = root.find(f"{A}entry")
    assert entry is not None
    assert entry.get(XML_LANG) == expected


def test_atom_entry_carries_source_and_categories() -> None:
    entry = make_entry(source_id="b", tags=("putin", "переговори"))
    root = parse_xml(render_feed("atom", feed_info(), [entry]))
    assert root.findtext(f"{A}entry/{A}source/{A}title") == "Source B"
    source_link = root.find(f"{A}entry/{A}source/{A}link")
    assert source_link is not None
    assert source_link.get("href") == "https://b.example/rss"
    terms = [category.get("term") for category in root.findall(f"{A}entry/{A}category")]
    assert terms == ["putin", "переговори"]


def test_single_language_output_declares_its_language() -> None:
    info = feed_info(Output("lang/uk", "Everything [uk]", "language", languages=("uk",)))
    atom = parse_xml(render_feed("atom", info, []))
    rss = parse_xml(render_feed("rss", info, []))
    assert atom.get(XML_LANG) == "uk"
    assert rss.findtext("channel/language") == "uk"
    assert json.loads(render_feed("json", info, []))["language"] == "uk"


# --- RSS ----------------------------------------------------------------------------------


def test_rss_channel_links_to_the_site_and_to_itself() -> None:
    info = feed_info(Output("tag/putin/uk", "Putin [uk]", "tag-language", ("putin",), ("uk",)))
    root = parse_xml(render_feed("rss", info, sample_entries()))
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Putin [uk]"
    assert channel.findtext("link") == BASE
    assert channel.findtext("description")
    self_links = [link.get("href") for link in channel.findall(f"{A}link")
                  if link.get("rel") == "self"]
    assert self_links == [f"{BASE}tag/putin/uk.rss"]


def test_rss_items_have_opaque_guids_rfc822_dates_and_sources() -> None:
    entries = sample_entries()
    root = parse_xml(render_feed("rss", feed_info(), entries))
    items = root.findall("channel/item")
    assert len(items) == len(entries)
    for item, entry in zip(items, entries, strict=True):
        guid = item.find("guid")
        assert guid is not None
        assert (guid.text, guid.get("isPermaLink")) == (entry_uid(entry), "false")
        pub_date = item.findtext("pubDate") or ""
        assert RFC822.match(pub_date)
        assert parsedate_to_datetime(pub_date) == entry.published
        source = item.find("source")
        assert source is not None
        assert (source.get("url"), source.text) == (SOURCES[entry.source_id].url,
                                                    SOURCES[entry.source_id].title)
        assert [c.text for c in item.findall("category")] == list(entry.tags)
    last_build = root.findtext("channel/lastBuildDate") or ""
    assert RFC822.match(last_build)


def test_rss_item_has_its_first_enclosure() -> None:
    root = parse_xml(render_feed("rss", feed_info(), [make_entry(enclosures=PODCAST)]))
    enclosures = [dict(e.attrib) for e in root.findall("channel/item/enclosure")]
    assert enclosures == [{"url": "https://cdn.example/ep1.mp3", "length": "12345",
                           "type": "audio/mpeg"}]


def test_rss_enclosure_of_unknown_type_still_has_a_mime_type() -> None:
    entry = make_entry(enclosures=(Enclosure("https://cdn.example/file", None, None),))
    enclosure = parse_xml(render_feed("rss", feed_info(), [entry])).find("channel/item/enclosure")
    assert enclosure is not None
    assert re.match(r"^[\w.+-]+/[\w.+-]+$", enclosure.get("type") or "")


# --- JSON Feed ----------------------------------------------------------------------------


def test_json_feed_document() -> None:
    entries = sample_entries()
    document = json.loads(render_feed("json", feed_info(), entries))
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == "Everything"
    assert document["home_page_url"] == BASE
    assert document["feed_url"] == f"{BASE}all.json"
    assert [item["id"] for item in document["items"]] == [entry_uid(e) for e in entries]
    for item, entry in zip(document["items"], entries, strict=True):
        assert item["title"] == entry.title
        assert item["url"] == entry.link
        assert RFC3339.match(item["date_published"])
        assert RFC3339.match(item["date_modified"])
        assert item.get("language") == entry.language
        assert item["tags"] == list(entry.tags)
        assert item["_refeed"]["source"] == {
            "id": entry.source_id, "title": SOURCES[entry.source_id].title,
            "url": SOURCES[entry.source_id].url,
        }
    assert document["items"][1]["attachments"] == [
        {"url": "https://cdn.example/ep1.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 12345},
        {"url": "https://cdn.example/cover.jpg", "mime_type": "image/jpeg"},
    ]


# --- every format -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_feedparser_reads_back_entries_titles_links_ids(fmt: str) -> None:
    entries = sample_entries()
    parsed = read_back(render_feed(fmt, feed_info(), entries))
    assert parsed.version == {"atom": "atom10", "rss": "rss20"}[fmt]
    assert parsed.feed["title"] == "Everything"
    assert parsed.feed["link"] == BASE
    assert [e["id"] for e in parsed.entries] == [entry_uid(e) for e in entries]
    assert [e["title"] for e in parsed.entries] == [e.title for e in entries]
    assert [e["link"] for e in parsed.entries] == [e.link for e in entries]
    assert [{t["term"] for t in e["tags"]} for e in parsed.entries] == [
        set(e.tags) for e in entries]


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_entries_give_identical_bytes(fmt: str) -> None:
    first = render_feed(fmt, feed_info(), sample_entries())
    assert render_feed(fmt, feed_info(), sample_entries()) == first


@pytest.mark.parametrize(
    ("fmt", "read"),
    [("atom", lambda root: datetime.fromisoformat(root.findtext(f"{A}updated"))),
     ("rss", lambda root: parsedate_to_datetime(root.findtext("channel/lastBuildDate")))],
)
def test_feed_updated_is_the_newest_entry_update(fmt: str, read: Any) -> None:
    assert read(parse_xml(render_feed(fmt, feed_info(), sample_entries()))) == (
        NOON + timedelta(hours=5)
    )
    assert read(parse_xml(render_feed(fmt, feed_info(), []))) == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_feed_is_valid(fmt: str) -> None:
    data = render_feed(fmt, feed_info(), [])
    if fmt == "json":
        assert json.loads(data)["items"] == []
    else:
        assert read_back(data).entries == []


def test_entry_ids_are_pinned_forever() -> None:
    assert entry_uid(make_entry()) == "urn:uuid:38a36844-b07a-5e68-91ac-ba87cdc61f50"


@pytest.mark.parametrize(("source_id", "key"), [
    ("a", "guid-1"), ("kyiv-uk", "https://x.example/новини/1?a=b"), ("s", ""), ("", "\n"),
    ("src", "tag:example.org,2026:\U0001f600"),
])
def test_entry_ids_are_the_uuid5_of_source_and_key(source_id: str, key: str) -> None:
    namespace = uuid.UUID("6f1d3a52-4c1e-5b0b-9a51-2f0f0c9e7d11")
    expected = uuid.uuid5(namespace, f"{source_id}\n{key}").urn
    assert entry_uid(make_entry(source_id=source_id, key=key)) == expected


@pytest.mark.parametrize(
    ("changes", "same"),
    [
        ({"title": "Other", "summary": "", "link": "https://y.example/"}, True),
        ({"guid": "something-else", "updated": NOON + timedelta(days=3)}, True),
        ({"language": "uk", "tags": ()}, True),
        ({"source_id": "b"}, False),
        ({"key": "guid-2"}, False),
        ({"source_id": "a\nguid", "key": "1"}, False),
    ],
)
def test_entry_id_depends_on_source_and_key_only(changes: dict[str, Any], same: bool) -> None:
    assert (entry_uid(make_entry(**changes)) == entry_uid(make_entry())) is same


def test_entry_id_is_the_same_in_every_format_and_output() -> None:
    entry = make_entry(tags=("putin",), language="uk")
    ids = set()
    for output in define_outputs(site_settings(tags={"putin": []}), {}):
        info = feed_info(output)
        ids.add(parse_xml(render_feed("atom", info, [entry])).findtext(f"{A}entry/{A}id"))
        ids.add(parse_xml(render_feed("rss", info, [entry])).findtext("channel/item/guid"))
        ids.add(json.loads(render_feed("json", info, [entry]))["items"][0]["id"])
    assert ids == {entry_uid(entry)}


@pytest.mark.parametrize(
    "changes",
    [{"title": ""}, {"title": "", "summary": "", "content": ""}, {"link": None, "summary": ""},
     {"title": "", "link": None, "summary": "", "content": ""},  # an empty <item/> (farm)
     {"source_id": "gone"}, {"authors": ()}],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_sparse_entries_still_render(fmt: str, changes: dict[str, Any]) -> None:
    data = render_feed(fmt, feed_info(), [make_entry(**changes)])
    if fmt == "json":
        assert json.loads(data)["items"][0]["title"]
    else:
        assert read_back(data).entries[0]["title"]


@pytest.mark.parametrize(
    "fmt",
    [pytest.param("atom"),
     "rss", "json"],
)
def test_entry_with_summary_but_no_link(fmt: str) -> None:
    entry = make_entry(link=None, canonical_url=None, summary="<p>Only a summary</p>")
    data = render_feed(fmt, feed_info(), [entry])
    text = json.loads(data)["items"][0]["content_html"] if fmt == "json" else (
        read_back(data).entries[0]["summary"])
    assert "Only a summary" in text


# --- hostile text -------------------------------------------------------------------------

HOSTILE = {
    "cdata-end": "a ]]> b <![CDATA[ c ]]> d",
    "script": "<script>alert(1)</script><img src=x onerror=alert(2)>"
              "<a href='javascript:alert(3)'>x</a>",
    "script-encoded": "&lt;script&gt;alert(1)&lt;/script&gt; <scr<script>ipt>alert(4)</script>",
    "controls": "a\x00b\x01c\x08d\x0be\x0cf\x1fg\ufffeh\uffffi\ud800j &#1; &#xFFFE; k",
    "arabic": "مرحبا بالعالم — الأخبار العاجلة",
    "hebrew": "שלום עולם \u202eטקסט הפוך\u202c",
    "huge": "Долгий заголовок " * 640,
    "emoji": "🇺🇦 👩‍👩‍👧 🎉 \U0001f9ea",
    "odd-unicode": "\u200b\u200d\ufeff\u2028\u2029\x85 e\u0301 \U0010fffd \U000e0001 ﷽",
    "entities": "&amp; &lt; &gt; &quot; &nbsp; &#0; &#x110000; &unknown; & < >",
}


def render_all(entries: list[Entry]) -> dict[str, bytes]:
    """``entries`` rendered in every format."""
    return {fmt: render_feed(fmt, feed_info(), entries) for fmt in FORMATS}


@pytest.mark.parametrize("kind", ["text/html", "text/plain"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_renders_well_formed_and_script_free(name: str, kind: str) -> None:
    entry = hostile_entry(HOSTILE[name], kind)
    for fmt, data in render_all([entry]).items():
        if fmt == "json":
            assert len(json.loads(data)["items"]) == 1
        else:
            parse_xml(data)
            assert len(read_back(data).entries) == 1
            assert b"<script" not in data.lower()
        for html in html_fields(fmt, data):
            assert_harmless_html(html)


@pytest.mark.parametrize("name", ["arabic", "hebrew", "huge", "emoji"])
@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_non_latin_titles_survive_intact(name: str, fmt: str) -> None:
    entry = hostile_entry(HOSTILE[name], "text/plain")
    assert len(entry.title) > 0
    assert read_back(render_feed(fmt, feed_info(), [entry])).entries[0]["title"] == entry.title


def test_ten_kilobyte_title_round_trips() -> None:
    entry = make_entry(title="x" * 10_240)
    assert len(read_back(render_feed("atom", feed_info(), [entry])).entries[0]["title"]) == 10_240


TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@given(title=TEXT, body=TEXT, tag=TEXT, kind=st.sampled_from(["text/html", "text/plain"]))
@settings(max_examples=100, deadline=None)
def test_any_normalized_text_renders_well_formed(title: str, body: str, tag: str,
                                                 kind: str) -> None:
    raw = {"id": title or "x", "title": title, "title_detail": {"type": kind}, "summary": body,
           "summary_detail": {"type": kind}, "tags": [{"term": tag}], "authors": [{"name": tag}],
           "link": "https://x.example/" + body}
    entry = normalize_entry(raw, SourceConfig(id="a", url="https://a.example/"), Taxonomy(), NOW)
    outputs = render_all([entry])
    for fmt in XML_FORMATS:
        parse_xml(outputs[fmt])
        assert len(read_back(outputs[fmt]).entries) == 1
    assert json.loads(outputs["json"])["items"][0]["id"] == entry_uid(entry)


def test_superscript_enclosure_length_does_not_crash_normalize() -> None:
    raw = {"id": "x", "title": "t", "enclosures": [
        {"href": "https://x.example/a.mp3", "type": "audio/mpeg", "length": "²"}]}
    entry = normalize_entry(raw, SourceConfig(id="a", url="https://a.example/"), Taxonomy(), NOW)
    assert entry.enclosures[0].length is None


# --- OPML and index.html ------------------------------------------------------------------


def site_listings(title: str = "Site") -> list[Listing]:
    """A listing for every output of a site with two languages, two tags and a named feed."""
    config = site_settings(
        site={"title": title, "base_url": BASE, "languages": ["en", "uk"]},
        tags={"putin": ["Путін"], "<b>bold</b>": []},
        publish={"feeds": [{"id": "talks", "title": "Talks & <more>"}]},
    )
    outputs = define_outputs(config, {})
    return [Listing(output, index % 3, NOON + timedelta(hours=index) if index % 3 else None)
            for index, output in enumerate(outputs)]


@pytest.mark.parametrize("formats", [("atom", "rss", "json"), ("rss",), ("json", "atom")])
def test_opml_lists_every_output_with_an_absolute_url(formats: tuple[str, ...]) -> None:
    listings = site_listings()
    root = parse_xml(render_opml("Site", BASE, formats, listings))
    assert root.tag == "opml"
    assert root.findtext("head/title")
    feeds = root.findall(".//outline[@xmlUrl]")
    urls = [outline.get("xmlUrl") or "" for outline in feeds]
    assert urls == [feed_url(BASE, listing.output.path, formats[0]) for listing in listings]
    assert all(urlsplit(url).scheme == "http" and urlsplit(url).netloc for url in urls)
    assert [outline.get("text") for outline in feeds] == [
        listing.output.title for listing in listings]


def test_index_lists_every_output_with_links_counts_and_dates() -> None:
    listings = site_listings()
    page = render_index("Site", FORMATS, listings)
    tree = lxml.html.fromstring(page)
    rows = tree.findall(".//li")
    assert len(rows) == len(listings)
    for row, listing in zip(rows, listings, strict=True):
        hrefs = [a.get("href") for a in row.iter("a")]
        assert hrefs == [f"{listing.output.path}.{fmt}" for fmt in FORMATS]
        text = row.text_content()
        assert listing.output.title in text
        noun = "entry" if listing.entries == 1 else "entries"
        assert f"{listing.entries} {noun}" in text
        when = listing.updated.strftime("%Y-%m-%d %H:%M") if listing.updated else "never"
        assert when in text
    headings = [h2.text_content() for h2 in tree.iter("h2")]
    assert headings == ["Everything", "By language", "By tag", "By tag and language",
                        "Selected feeds"]


def test_index_autodiscovery_for_all_and_languages() -> None:
    tree = lxml.html.fromstring(render_index("Site", FORMATS, site_listings()))
    discovered = {(link.get("href"), link.get("type"))
                  for link in tree.iter("link") if link.get("rel") == "alternate"}
    assert discovered == {
        (f"{path}.{fmt}", media)
        for path in ("all", "lang/en", "lang/uk")
        for fmt, media in (("atom", "application/atom+xml"), ("rss", "application/rss+xml"),
                           ("json", "application/feed+json"))
    }


def test_index_is_mobile_friendly_script_free_and_escaped() -> None:
    hostile = "<script>alert('x')</script> & \"quotes\""
    page = render_index(hostile, FORMATS, site_listings(hostile))
    tree = lxml.html.fromstring(page)
    assert b"<script" not in page.lower()
    assert not list(tree.iter("script"))
    assert [m.get("content") for m in tree.iter("meta") if m.get("name") == "viewport"]
    assert tree.findtext(".//title") == hostile
    assert tree.findtext(".//h1") == hostile
    names = [span.text_content() for span in tree.iter("span") if span.get("class") == "name"]
    assert "Talks & <more>" in names
    assert f"{hostile}: <b>bold</b>" in names
    assert not list(tree.iter("b"))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("hub", [None, "https://hub.example/"])
def test_outputs_rendered_together_are_the_ones_rendered_alone(fmt: str, hub: str | None) -> None:
    """A publish renders each entry once for all the outputs that list it: every output
    must still be exactly the document it is alone — its own header, date and language,
    its own entries in its own order, none of another output's."""
    newest, middle, oldest = sample_entries()
    feeds = [
        (FeedInfo(Output("all", "Everything", "all"), BASE, "Test site", SOURCES, hub),
         [newest, middle, oldest]),
        (FeedInfo(Output("lang/uk", "Українською", "language", languages=("uk",)), BASE,
                  "Test site", SOURCES, hub), [newest]),
        (FeedInfo(Output("tag/putin", "Putin", "tag"), BASE, "Test site", SOURCES, hub),
         [oldest, newest]),
        (FeedInfo(Output("quiet", "Nothing yet", "named"), BASE, "Test site", SOURCES, hub), []),
    ]
    distinct = {(entry.source_id, entry.key): entry for _, entries in feeds for entry in entries}
    rendered = entry_fragments(fmt, feeds[0][0], distinct)  # once, as a publish does
    together = [assemble(fmt, info, feed_updated(entries),
                         [rendered[entry.source_id, entry.key] for entry in entries])
                for info, entries in feeds]
    assert together == [render_feed(fmt, info, entries) for info, entries in feeds]
    assert len(set(together)) == len(feeds)


TRICKY = [  # text that looks like the markers a document is split at
    "</entry>\n  <entry> </item>\n    <item> ]}\n{",
    "line one\nline two\n]}\n",
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_document_splits_back_into_the_entries_it_was_assembled_from(
    fmt: str, count: int
) -> None:
    entries = {number: make_entry(key=f"k{number}", title=TRICKY[number % 2],
                                  summary=f"<p>{escape_html(TRICKY[number % 2])}</p>",
                                  content=f"<pre>{escape_html(TRICKY[0])}</pre>")
               for number in range(count)}
    fragments = entry_fragments(fmt, feed_info(), entries)
    updated = feed_updated(list(entries.values()))
    document = assemble(fmt, feed_info(), updated, list(fragments.values()))
    assert split_document(fmt, document) == list(fragments.values())
    assert document == render_feed(fmt, feed_info(), list(entries.values()))
    if count:
        assert split_document(fmt, document[:-30]) is None  # cut short
        assert split_document(fmt, document.replace(b"\n", b"\r\n")) is None
