"""Tests for the pure normalize stage (:mod:`refeed.normalize`) and the declared-language
rules (:mod:`refeed.language`): plain feedparser-shaped dictionaries, and small real RSS,
Atom and JSON Feed documents read with :func:`refeed.parse.parse_document`."""

from __future__ import annotations

import dataclasses
import json
import time
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refeed.config import SourceConfig
from refeed.dedup import fingerprint
from refeed.language import primary_language, resolve_language
from refeed.model import Entry, ParsedFeed, Taxonomy
from refeed.normalize import (
    MAX_AUTHOR_LENGTH,
    canonical_tag,
    canonical_url,
    clean_link,
    clean_text,
    html_to_text,
    normalize_entry,
    normalize_feed,
    sanitize_html,
    sanitized_text,
)
from refeed.parse import parse_document
from refeed.text import tag_fold

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
FEED_URL = "https://www.pravda.com.ua/eng/rss/"
MAX_BYTES = 1_000_000
SOURCE = SourceConfig(id="up-en", url=FEED_URL, language="uk", tags=("Ukraine",))
FEEDPARSER_310_WARNING = "ignore:To avoid breaking existing software:DeprecationWarning"
ILLEGAL = "\x00\x01\x08\x0b\x0c\x0e\x1f\ud800\udbff\udc00\udfff\ufffe\uffff"
LEGAL_EDGES = "\t\n\r\x7f\ud7ff\ue000\ufffd\U00010000"


def is_xml_char(char: str) -> bool:
    """XML 1.0 ``Char``: tab, newline, carriage return and the non-surrogate planes."""
    code = ord(char)
    return (
        char in "\t\n\r"
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def xml_illegal_in(text: str) -> list[str]:
    """The characters of ``text`` that XML 1.0 cannot carry."""
    return [char for char in text if not is_xml_char(char)]


def make_taxonomy(
    spellings: Mapping[str, list[str]], rules: tuple[tuple[str, str], ...] = ()
) -> Taxonomy:
    """A :class:`Taxonomy` as ``Settings.taxonomy`` builds it: folded spelling (and each
    canonical name) → canonical tag."""
    aliases = {
        tag_fold(spelling): canonical
        for canonical, names in spellings.items()
        for spelling in (canonical, *names)
    }
    return Taxonomy(aliases, rules)


TAXONOMY = make_taxonomy(
    {
        "putin": ["Putin", "Путін", "Путин"],
        "zelenskyy": ["Zelensky", "Зеленський", "Зеленский"],
        "ukraine": ["Україна", "Украина"],
        "negotiations": ["переговори", "переговоры"],
    },
    rules=(("negotiations", r"(?i)\bnegotiat"), ("negotiations", "(?i)переговор")),
)


def normalize(raw: Mapping[str, Any], **overrides: Any) -> Entry:
    """``normalize_entry`` with the module's source, taxonomy and clock, unless overridden."""
    arguments: dict[str, Any] = {
        "source": SOURCE,
        "taxonomy": TAXONOMY,
        "now": NOW,
        "feed_language": None,
    }
    arguments.update(overrides)
    return normalize_entry(raw, **arguments)


def struct(moment: datetime) -> time.struct_time:
    """``moment`` as the UTC ``struct_time`` feedparser puts in ``*_parsed``."""
    return moment.astimezone(UTC).timetuple()


def parse(body: str | bytes, url: str = FEED_URL, content_type: str = "") -> ParsedFeed:
    """Parse a document as served from ``url``."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    headers = {"Content-Type": content_type} if content_type else {}
    return parse_document(data, headers, url, MAX_BYTES)


def normalize_document(
    body: str | bytes, url: str = FEED_URL, content_type: str = ""
) -> list[Entry]:
    """Parse and normalize a document with the module's source, taxonomy and clock."""
    return normalize_feed(parse(body, url, content_type), SOURCE, TAXONOMY, NOW)


def rss(items: str, channel: str = "") -> str:
    """An RSS 2.0 document with ``items`` (and extra ``channel`` elements)."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Ukrainska Pravda</title><link>https://www.pravda.com.ua/eng/</link>{channel}
{items}
</channel></rss>"""


def rss_item(inner: str = "", guid: str = "1") -> str:
    """One RSS ``<item>`` with a non-permalink ``guid`` and the ``inner`` elements."""
    return f'<item><guid isPermaLink="false">{guid}</guid>{inner}</item>'


def atom(entries: str, feed_attributes: str = "") -> str:
    """An Atom 1.0 document with ``entries``."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" {feed_attributes}>
<title>Atom</title><id>urn:feed</id><updated>2024-04-01T00:00:00Z</updated>
{entries}
</feed>"""


def json_feed(*items: Mapping[str, Any], **top: Any) -> str:
    """A JSON Feed 1.1 document with ``items``."""
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "J", **top, "items": list(items)}
    )


def string_values(value: object) -> list[str]:
    """Every string inside ``value`` (an Entry, its tuples and nested dataclasses)."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            s
            for field in dataclasses.fields(value)
            for s in string_values(getattr(value, field.name))
        ]
    if isinstance(value, tuple | list):
        return [s for item in value for s in string_values(item)]
    return []


# ----------------------------------------------------------------------------- entry keys


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        pytest.param({"id": "g-1", "link": "https://e.com/a"}, "g-1", id="guid"),
        pytest.param(
            {"id": "  ", "link": "https://E.com/a?utm_source=x"},
            "https://e.com/a",
            id="blank-guid-uses-clean-link",
        ),
        pytest.param({"link": "https://e.com/a#top"}, "https://e.com/a#top", id="link"),
    ],
)
def test_key_is_guid_else_link(raw: dict[str, Any], key: str) -> None:
    assert normalize(raw).key == key


def test_key_without_guid_or_link_is_a_stable_hash() -> None:
    raw = {
        "title": "Talks in Istanbul",
        "summary": "<p>Delegations met.</p>",
        "published": "Wed, 01 May 2024 10:00:00 +0300",
    }
    first, again = normalize(raw), normalize(dict(raw))
    retitled = normalize({**raw, "title": "Talks in Geneva"})
    assert first.key == again.key
    assert first.key != retitled.key
    assert first.key not in ("", raw["title"])


def test_overlong_guid_is_hashed_to_a_bounded_key() -> None:
    key = normalize({"id": "x" * 5000}).key
    assert len(key) <= 512
    assert key == normalize({"id": "x" * 5000}).key


def test_feed_drops_repeated_keys_first_wins() -> None:
    items = "".join(
        rss_item(f"<title>{title}</title>", "same") for title in ("First", "Second")
    ) + rss_item("<title>Third</title>", "other")
    entries = normalize_document(rss(items))
    assert [(e.key, e.title) for e in entries] == [("same", "First"), ("other", "Third")]


# ------------------------------------------------------------------------------------ URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://WWW.Pravda.COM.ua/News/1/", "https://www.pravda.com.ua/News/1/"),
        (
            "https://e.com/a?utm_source=rss&id=3&fbclid=x&b=2&gclid=y&utm_medium=m",
            "https://e.com/a?id=3&b=2",
        ),
        ("https://e.com/a?z=1&a=2&UTM_Campaign=c", "https://e.com/a?z=1&a=2"),
        ("https://e.com/a?utm_source=rss#comments", "https://e.com/a#comments"),
        ("https://e.com:443/a", "https://e.com/a"),
        ("  https://e.com/a  ", "https://e.com/a"),
        ("https://e.com", "https://e.com/"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("data:text/html,hi", None),
        ("mailto:news@pravda.com.ua", None),
        ("/relative/path", None),
        ("", None),
    ],
)
def test_clean_link(url: str, expected: str | None) -> None:
    assert clean_link(url) == expected


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://e.com/a?id=3#comments", "https://e.com/a?id=3"),
        ("https://e.com/news/1", "https://e.com/news/1"),
        ("https://e.com/", None),
        ("https://e.com", None),
        ("https://e.com/#section", None),
        ("https://e.com/?p=12", "https://e.com/?p=12"),
    ],
)
def test_canonical_url(link: str, expected: str | None) -> None:
    assert canonical_url(link) == expected


def test_entry_link_keeps_fragment_canonical_drops_it() -> None:
    entry = normalize({"link": "HTTPS://E.com/story?utm_source=tg&ref=7#part-2"})
    assert entry.link == "https://e.com/story?ref=7#part-2"
    assert entry.canonical_url == "https://e.com/story?ref=7"


@pytest.mark.parametrize("link", ["javascript:void(0)", "https://www.pravda.com.ua/"])
def test_entry_without_canonical_url(link: str) -> None:
    assert normalize({"link": link}).canonical_url is None


# ---------------------------------------------------------------------------------- titles


@pytest.mark.parametrize(
    ("title", "kind", "expected"),
    [
        ("A <b>bold</b> &amp; move", "text/html", "A bold & move"),
        ("A <b>bold</b> &amp; move", "application/xhtml+xml", "A bold & move"),
        ("Use <b> for bold & more", "text/plain", "Use <b> for bold & more"),
        ("  Two\n  lines\t here ", "text/plain", "Two lines here"),
        ("Без <i>типу</i>", None, "Без <i>типу</i>"),
    ],
)
def test_title_is_plain_text(title: str, kind: str | None, expected: str) -> None:
    raw: dict[str, Any] = {"title": title}
    if kind:
        raw["title_detail"] = {"type": kind, "value": title}
    assert normalize(raw).title == expected


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(
            rss("<item><title>Plain &lt;b&gt; tag &amp; co</title></item>"),
            "Plain <b> tag & co",
            id="rss-plain",
        ),
        pytest.param(
            atom(
                '<entry><id>1</id><title type="html">Hello &lt;b&gt;World&lt;/b&gt; '
                "&amp;amp; co</title></entry>"
            ),
            "Hello World & co",
            id="atom-html",
        ),
        pytest.param(
            atom('<entry><id>1</id><title type="text">a &lt;b&gt; c</title></entry>'),
            "a <b> c",
            id="atom-text",
        ),
    ],
)
def test_title_from_documents(document: str, expected: str) -> None:
    assert [entry.title for entry in normalize_document(document)] == [expected]


# -------------------------------------------------------------------------------- HTML


@pytest.mark.parametrize(
    ("html", "forbidden"),
    [
        ("<p>hi<script>alert(1)</script></p>", "script"),
        ("<p>hi<script>alert(1)</script></p>", "alert"),
        ('<img src="https://e.com/x.png" onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<p onclick="steal()">x</p>', "onclick"),
        ("<style>body{display:none}</style><p>x</p>", "display"),
        ('<iframe src="https://evil.example/"></iframe>', "iframe"),
    ],
)
def test_sanitize_html_removes_active_content(html: str, forbidden: str) -> None:
    assert forbidden not in sanitize_html(html)


def test_sanitize_html_marks_links_noopener() -> None:
    cleaned = sanitize_html('<p>See <a href="https://e.com/a">this</a></p>')
    assert cleaned == '<p>See <a href="https://e.com/a" rel="noopener noreferrer">this</a></p>'


def test_entry_summary_and_content_are_sanitized() -> None:
    dirty = '<p onclick="x()">Hi<script>x()</script> <a href="https://e.com/">e</a></p>'
    entry = normalize({"summary": dirty, "content": [{"type": "text/html", "value": dirty}]})
    expected = '<p>Hi <a href="https://e.com/" rel="noopener noreferrer">e</a></p>'
    assert (entry.summary, entry.content) == (expected, expected)


def test_plain_text_summary_is_escaped_not_parsed() -> None:
    entry = normalize({"summary": "5 < 6 & <b>", "summary_detail": {"type": "text/plain"}})
    assert entry.summary == "5 &lt; 6 &amp; &lt;b&gt;"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One</p>\n\n<p>two &amp; <b>three</b></p>", "One two & three"),
        ("<script>x()</script>visible", "visible"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    "dirty",
    [
        '<a title="a > b" href="https://e.com/?q=1&amp;r=2">link</a> 5 &lt; 6 &gt; 4',
        "<p>x<!-- <b>hidden</b> -->y</p><![CDATA[<i>z</i>]]>",
        "<img alt='it\'s > \"quoted\"' src=x>after<br/>line&nbsp;&#x1F600;&#1;",
        "<table><tr><td>a</td><td>b</td></tr></table><script>c</script><style>d</style>e",
        "unclosed <b>bold <i>both",
    ],
)
def test_sanitized_html_reads_as_the_same_text_without_a_parse(dirty: str) -> None:
    """``sanitized_text`` strips nh3's output by pattern: it must read exactly what a
    full HTML parse reads, whatever the markup nh3 was given."""
    sanitized = sanitize_html(dirty)
    assert sanitized_text(sanitized) == html_to_text(sanitized)
    assert sanitized_text(sanitized).strip()


RELATIVE_CONTENT_DOCUMENTS = [
    pytest.param(
        rss(
            rss_item(
                '<description><![CDATA[<a href="/news/2">n</a><img src="img/p.png">]]>'
                "</description>"
            )
        ),
        "https://www.pravda.com.ua/eng/rss/feed.xml",
        "application/rss+xml",
        id="rss",
    ),
    pytest.param(
        atom(
            '<entry><id>1</id><content type="html">&lt;a href="/news/2"&gt;n&lt;/a&gt;'
            '&lt;img src="img/p.png"&gt;</content></entry>'
        ),
        "https://www.pravda.com.ua/eng/rss/feed.xml",
        "application/atom+xml",
        id="atom",
    ),
    pytest.param(
        json_feed({"id": "1", "content_html": '<a href="/news/2">n</a><img src="img/p.png">'}),
        "https://www.pravda.com.ua/eng/rss/feed.json",
        "application/feed+json",
        id="json",
    ),
]


@pytest.mark.parametrize(("document", "url", "content_type"), RELATIVE_CONTENT_DOCUMENTS)
def test_relative_urls_in_content_resolve_against_feed_url(
    document: str, url: str, content_type: str
) -> None:
    (entry,) = normalize_document(document, url, content_type)
    html = entry.content or entry.summary
    assert 'href="https://www.pravda.com.ua/news/2"' in html
    assert 'src="https://www.pravda.com.ua/eng/rss/img/p.png"' in html


def test_document_html_is_sanitized() -> None:
    description = (
        "<description><![CDATA[<p>ok<script>alert(1)</script>"
        '<img src="https://e.com/i.png" onerror="alert(2)"></p>]]></description>'
    )
    (entry,) = normalize_document(rss(rss_item(description)))
    assert entry.summary == '<p>ok<img src="https://e.com/i.png"></p>'


def test_json_feed_summary_is_plain_text() -> None:
    (entry,) = normalize_document(json_feed({"id": "1", "summary": "Use <b> for bold"}))
    assert entry.summary == "Use &lt;b&gt; for bold"


# ----------------------------------------------------------- XML-illegal characters


def test_illegal_characters_are_stripped_from_every_string_field() -> None:
    bad = f"a{ILLEGAL}b"
    raw = {
        "id": f"guid{bad}",
        "link": f"https://e.com/p{bad}",
        "title": bad,
        "summary": bad,
        "content": [{"type": "text/html", "value": bad}],
        "authors": [{"name": bad}],
        "tags": [{"term": bad}],
        "language": bad,
        "enclosures": [{"href": f"https://e.com/a{bad}.mp3", "type": f"audio/mpeg{bad}"}],
    }
    entry = normalize(raw)
    assert entry.title == "ab"
    assert [s for s in string_values(entry) if xml_illegal_in(s)] == []


@pytest.mark.parametrize("reference", ["&#1;", "&#x8;", "&#xFFFE;"])
@pytest.mark.parametrize("field", ["summary", "content", "title"])
def test_illegal_character_references_do_not_survive(reference: str, field: str) -> None:
    html = f"<p title='{reference}'>a{reference}b</p>"
    raw: dict[str, Any] = {
        "title": html,
        "title_detail": {"type": "text/html"},
        "summary": html,
        "content": [{"type": "text/html", "value": html}],
    }
    assert xml_illegal_in(getattr(normalize(raw), field)) == []


def test_illegal_character_reference_in_rss_document_does_not_survive() -> None:
    (entry,) = normalize_document(rss(rss_item("<description>a &amp;#1; b</description>")))
    assert xml_illegal_in(entry.summary) == []


def test_lone_surrogate_in_date_string_is_dropped_and_the_date_read() -> None:
    body = json_feed({"title": "No id, no url", "date_published": "2024-05-01\ud800"})
    (entry,) = normalize_document(body)
    assert entry.dated
    assert entry.published == datetime(2024, 5, 1, tzinfo=UTC)


# ---------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("raw", "published", "updated", "dated"),
    [
        pytest.param(
            {"published_parsed": struct(NOW - timedelta(hours=2))},
            NOW - timedelta(hours=2),
            NOW - timedelta(hours=2),
            True,
            id="published",
        ),
        pytest.param(
            {
                "published_parsed": struct(NOW - timedelta(hours=2)),
                "updated_parsed": struct(NOW - timedelta(hours=1)),
            },
            NOW - timedelta(hours=2),
            NOW - timedelta(hours=1),
            True,
            id="both",
        ),
        pytest.param(
            {"updated_parsed": struct(NOW - timedelta(days=3))},
            NOW - timedelta(days=3),
            NOW - timedelta(days=3),
            True,
            id="updated-only",
        ),
        pytest.param({}, NOW, NOW, False, id="undated"),
        pytest.param(
            {"published_parsed": struct(NOW + timedelta(days=365))},
            NOW,
            NOW,
            True,
            id="future-clamped",
        ),
        pytest.param({"published_parsed": "not a struct"}, NOW, NOW, False, id="garbage"),
    ],
)
def test_dates(raw: dict[str, Any], published: datetime, updated: datetime, dated: bool) -> None:
    entry = normalize(raw)
    assert (entry.published, entry.updated, entry.dated) == (published, updated, dated)
    assert entry.published.utcoffset() == timedelta(0)
    assert entry.updated.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("document", "published"),
    [
        pytest.param(
            rss(rss_item("<pubDate>Wed, 01 May 2024 10:00:00 +0300</pubDate>")),
            datetime(2024, 5, 1, 7, tzinfo=UTC),
            id="rss",
        ),
        pytest.param(
            atom("<entry><id>1</id><updated>2024-04-02T03:00:00+02:00</updated></entry>"),
            datetime(2024, 4, 2, 1, tzinfo=UTC),
            id="atom",
        ),
        pytest.param(
            json_feed({"id": "1", "date_published": "2024-04-01T10:00:00-04:00"}),
            datetime(2024, 4, 1, 14, tzinfo=UTC),
            id="json",
        ),
    ],
)
def test_document_dates_are_utc(document: str, published: datetime) -> None:
    (entry,) = normalize_document(document)
    assert entry.published == published
    assert entry.published.tzinfo is not None
    assert entry.published.utcoffset() == timedelta(0)
    assert entry.dated


def test_rss_item_with_only_pubdate_normalizes_without_warnings() -> None:
    (entry,) = normalize_document(rss(rss_item("<pubDate>Wed, 01 May 2024 10:00:00 GMT</pubDate>")))
    assert entry.updated == entry.published


# ----------------------------------------------------------------------------------- tags


@pytest.mark.parametrize(
    ("label", "canonical"),
    [
        ("Путін", "putin"),
        ("Путин", "putin"),
        ("putin", "putin"),
        ("PUTIN", "putin"),
        ("  Putin \n", "putin"),
        (unicodedata.normalize("NFD", "Зеленський"), "zelenskyy"),
        ("ЗЕЛЕНСЬКИЙ", "zelenskyy"),
        ("News", "News"),
        ("Новини  дня", "Новини дня"),
    ],
)
def test_canonical_tag(label: str, canonical: str) -> None:
    assert canonical_tag(label, TAXONOMY) == canonical


def test_entry_tags_are_canonical_unique_and_include_source_tags() -> None:
    raw = {
        "tags": [{"term": t} for t in ("Путін", "Путин", "putin", "PUTIN", "News", "news")]
        + [{"term": "", "label": "Україна"}]
    }
    assert normalize(raw).tags == ("putin", "News", "ukraine")


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        ("Negotiations resume", "", ("ukraine", "negotiations")),
        ("Новини", "<p>Переговори в Стамбулі</p>", ("ukraine", "negotiations")),
        ("Weather", "<p>Sunny</p>", ("ukraine",)),
    ],
)
def test_match_rules_add_tags(title: str, summary: str, expected: tuple[str, ...]) -> None:
    assert normalize({"title": title, "summary": summary}).tags == expected


def test_rule_tag_already_present_is_not_repeated() -> None:
    raw = {"title": "Peace negotiations", "tags": [{"term": "переговоры"}]}
    assert normalize(raw).tags == ("negotiations", "ukraine")


def test_document_categories_map_to_canonical_tags() -> None:
    categories = "".join(f"<category>{label}</category>" for label in ("Путін", "PUTIN", "Війна"))
    (entry,) = normalize_document(rss(rss_item(categories)))
    assert entry.tags == ("putin", "Війна", "ukraine")


# ------------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("raw", "feed_language", "source_language", "expected"),
    [
        pytest.param(
            {"title_detail": {"language": "en-US"}, "language": "ru"},
            "uk",
            "uk",
            "en",
            id="xml-lang-first",
        ),
        pytest.param(
            {"title_detail": {"language": None}, "language": "ru-RU"},
            "uk",
            "uk",
            "ru",
            id="dc-language",
        ),
        # the admin's configured edition language beats the feed's declaration
        pytest.param({}, "EN-gb", "uk", "uk", id="source-over-feed-language"),
        pytest.param({}, "EN-gb", None, "en", id="feed-language"),
        pytest.param({}, None, "uk", "uk", id="source-language"),
        pytest.param(
            {"title_detail": {"language": "xx"}, "language": "not a code"},
            "zz-ZZ",
            "ru",
            "ru",
            id="invalid-codes-skipped",
        ),
        pytest.param({}, None, None, None, id="none"),
    ],
)
def test_language_precedence(
    raw: dict[str, Any],
    feed_language: str | None,
    source_language: str | None,
    expected: str | None,
) -> None:
    source = SourceConfig(id="s", url="https://e.com/", language=source_language)
    assert normalize(raw, source=source, feed_language=feed_language).language == expected


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(
            rss(
                rss_item("<dc:language>en-GB</dc:language>"),
                "<language>ru</language>",
            ),
            ["en"],
            id="rss-dc-over-channel",
        ),
        pytest.param(
            rss(rss_item(), "<language>ru-RU</language>"),
            ["uk"],  # the source's configured language (uk) beats the channel's
            id="rss-channel",
        ),
        pytest.param(rss(rss_item()), ["uk"], id="rss-source"),
        pytest.param(
            atom(
                '<entry xml:lang="en-US"><id>1</id><title>t</title></entry>'
                "<entry><id>2</id><title>t</title></entry>",
                'xml:lang="ru"',
            ),
            ["en", "ru"],
            id="atom-xml-lang",
        ),
        pytest.param(
            json_feed({"id": "1", "language": "en-US"}, {"id": "2"}, language="ru"),
            ["en", "uk"],
            id="json",
        ),
    ],
)
def test_document_language(document: str, expected: list[str]) -> None:
    assert [entry.language for entry in normalize_document(document)] == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en-US", "en"),
        ("EN", "en"),
        ("en_GB", "en"),
        ("uk", "uk"),
        ("UKR", "uk"),
        ("rus", "ru"),
        (" ru ", "ru"),
        ("zh-Hant-TW", "zh"),
        ("xx", None),
        ("ua", None),
        ("und", None),
        ("english", None),
        ("", None),
        pytest.param(
            "x-default",
            None,
        ),
        pytest.param(
            "zxx",
            None,
        ),
        pytest.param(
            "mul",
            None,
        ),
    ],
)
def test_primary_language(code: str, expected: str | None) -> None:
    assert primary_language(code) == expected


def test_resolve_language_takes_first_valid() -> None:
    assert resolve_language([None, "", "xx", "en-US", "ru"]) == "en"
    assert resolve_language([None, "xx"]) is None


# ----------------------------------------------------------------------------- enclosures


def test_enclosures() -> None:
    raw = {
        "enclosures": [
            {"href": "https://e.com/a.mp3", "type": "audio/mpeg", "length": "123"},
            {"href": "https://e.com/a.mp3", "type": "audio/mpeg", "length": "123"},
            {"href": "https://e.com/b.jpg?utm_source=rss", "type": "", "length": "big"},
            {"href": "javascript:alert(1)", "type": "audio/mpeg"},
        ]
    }
    assert [(e.url, e.type, e.length) for e in normalize(raw).enclosures] == [
        ("https://e.com/a.mp3", "audio/mpeg", 123),
        ("https://e.com/b.jpg", None, None),
    ]


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(
            rss(rss_item('<enclosure url="https://e.com/a.mp3" type="audio/mpeg" length="42"/>')),
            id="rss",
        ),
        pytest.param(
            atom(
                '<entry><id>1</id><link rel="enclosure" href="https://e.com/a.mp3" '
                'type="audio/mpeg" length="42"/></entry>'
            ),
            id="atom",
        ),
        pytest.param(
            json_feed(
                {
                    "id": "1",
                    "attachments": [
                        {
                            "url": "https://e.com/a.mp3",
                            "mime_type": "audio/mpeg",
                            "size_in_bytes": 42,
                        }
                    ],
                }
            ),
            id="json",
        ),
    ],
)
def test_document_enclosures(document: str) -> None:
    (entry,) = normalize_document(document)
    assert [(e.url, e.type, e.length) for e in entry.enclosures] == [
        ("https://e.com/a.mp3", "audio/mpeg", 42)
    ]


# ---------------------------------------------------------------------------- fingerprint


def test_content_fingerprint_ignores_case_spacing_and_punctuation() -> None:
    first = fingerprint("Talks  in Istanbul", "Delegations   met.")
    assert first == fingerprint("talks in ISTANBUL:", "delegations — met")
    assert first != fingerprint("Talks in Geneva", "Delegations met.")
    assert fingerprint("Bare title", "") == ""


# ------------------------------------------------------------------------- properties

ANY_CHARACTER = st.one_of(st.characters(), st.sampled_from(ILLEGAL + LEGAL_EDGES))
ANY_TEXT = st.lists(ANY_CHARACTER, max_size=40).map("".join)  # st.text() drops surrogates
QUERY_NAMES = st.sampled_from(
    ["utm_source", "UTM_Medium", "utm_campaign", "fbclid", "gclid", "id", "q", "page", "ключ"]
)
QUERIES = st.lists(st.tuples(QUERY_NAMES, st.text(max_size=8)), max_size=6)
TAG_LETTERS = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyz абвгґдеєжзиіїйклмнопрстуфхцчшщьюяыэё")
)


@st.composite
def web_urls(draw: st.DrawFn) -> str:
    """http(s) URLs with mixed-case hosts, odd paths, tracking and ordinary parameters."""
    scheme = draw(st.sampled_from(["http", "https", "HTTPS"]))
    host = draw(st.sampled_from(["example.com", "WWW.Pravda.com.UA", "пример.рф", "e.com:8080"]))
    path = draw(st.text(max_size=12))
    fragment = draw(st.text(max_size=4))
    return f"{scheme}://{host}/{path}?{urlencode(draw(QUERIES))}#{fragment}"


def is_tracking(name: str) -> bool:
    """True for the tracking parameters the brief names: ``utm_*``, ``fbclid``, ``gclid``."""
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in ("fbclid", "gclid")


@settings(deadline=None)
@given(ANY_TEXT)
def test_clean_text_leaves_only_xml_characters(text: str) -> None:
    cleaned = clean_text(text)
    assert xml_illegal_in(cleaned) == []
    assert cleaned == "".join(char for char in text if is_xml_char(char))
    assert clean_text(cleaned) == cleaned


@settings(deadline=None)
@given(st.one_of(web_urls(), st.text(max_size=30)))
def test_clean_link_drops_tracking_and_is_idempotent(url: str) -> None:
    cleaned = clean_link(url)
    if cleaned is None:
        return
    query = parse_qsl(urlsplit(cleaned).query, keep_blank_values=True)
    assert not [name for name, _ in query if is_tracking(name)]
    assert urlsplit(cleaned).scheme in ("http", "https")
    assert clean_link(cleaned) == cleaned


@settings(deadline=None)
@given(st.lists(TAG_LETTERS, min_size=1, max_size=15).map("".join).filter(str.strip))
def test_canonical_tag_is_case_insensitive(spelling: str) -> None:
    taxonomy = make_taxonomy({"canonical": [spelling]})
    variants = {spelling, spelling.upper(), spelling.lower(), spelling.title()}
    assert {canonical_tag(variant, taxonomy) for variant in variants} == {"canonical"}
    unmapped = {tag_fold(canonical_tag(variant, Taxonomy())) for variant in variants}
    assert len(unmapped) == 1


@settings(deadline=None)
@given(ANY_TEXT, ANY_TEXT)
def test_normalized_entry_has_only_xml_characters(title: str, summary: str) -> None:
    entry = normalize({"title": title, "summary": summary, "tags": [{"term": title}]})
    assert [s for s in string_values(entry) if xml_illegal_in(s)] == []


def test_is_xml_char_agrees_with_the_spec_edges() -> None:
    assert all(not is_xml_char(char) for char in ILLEGAL)
    assert all(is_xml_char(char) for char in LEGAL_EDGES)


def test_relative_urls_in_content_follow_the_element_s_xml_base() -> None:
    document = (
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://news.example/base/">'
        "<title>t</title><entry xml:base=\"sub/\"><id>1</id><title>x</title>"
        '<content type="xhtml" xml:base="/c/"><div xmlns="http://www.w3.org/1999/xhtml">'
        '<img src="i.png"/><a href="../up.html">u</a></div></content></entry></feed>'
    )
    (entry,) = normalize_document(document, "https://news.example/feed.atom",
                                  "application/atom+xml")
    assert 'src="https://news.example/c/i.png"' in entry.content
    assert 'href="https://news.example/up.html"' in entry.content


@pytest.mark.parametrize("base", ["", "not a url", "ftp://x/", "https://[::1/x"])
def test_a_base_that_is_no_web_url_leaves_relative_urls_alone(base: str) -> None:
    assert sanitize_html('<a href="a.html">a</a>', base) == (
        '<a href="a.html" rel="noopener noreferrer">a</a>')


def test_author_names_are_cut_to_a_bounded_length() -> None:
    """Outputs never carry an author that makes a feed reader's parser crawl
    (feedparser's e-mail regex is quadratic in its length)."""
    source = SourceConfig(id="a", url="https://a.example/feed")
    entry = normalize_entry({"title": "x", "author": "a" * 5000 + "@"}, source, Taxonomy(), NOW)
    assert [len(author) for author in entry.authors] == [MAX_AUTHOR_LENGTH]
