"""refeed's parse + normalize over the third-party feed corpus in ``../shared/corpus``.

The corpus (see its README) holds feedparser's own test feeds and ~200 real-world feed
snapshots. Nothing is copied into this repository: files are read in place, relative to
the project root, and every test here is skipped when the folder is absent (CI runs on a
clean clone).

What is checked:

* every file of ``feedparser-tests/`` and ``real/`` (one case each) goes through
  ``parse_document`` + ``normalize_feed`` raising nothing but :class:`ParseError`, and only
  where feedparser agrees the document is no usable feed; the entries carry no character
  XML cannot hold, no script in their HTML, UTC dates, unique keys, and exactly as many
  entries as feedparser finds minus the ones repeating a key;
* ``wellformed/sanitize/``: no script, event handler or script URL survives;
* ``encoding/`` files with ``Header:`` lines, served by a real HTTP server on 127.0.0.1:
  the charset of ``Content-Type`` is honoured end to end;
* value checks on real feeds (languages, Cyrillic/Han/Arabic titles) and JSON Feeds;
* hostile variants of corpus files (an entity guard hidden behind a comment, one
  malformed URL).

feedparser is the oracle: a file's ``Expect:`` expression describes what *feedparser*
returns, and refeed must make the same sense of the bytes. For JSON the oracle is the
document itself (feedparser 6.0 cannot read JSON Feed).
"""

from __future__ import annotations

import ast
import functools
import io
import json
import re
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from pytest_httpserver import HTTPServer

from refeed.config import DEFAULT_NEIGHBOURS, PollingConfig, SourceConfig
from refeed.errors import ParseError
from refeed.language import LanguagePolicy
from refeed.model import Entry, ParsedFeed, Taxonomy
from refeed.normalize import html_to_text, normalize_feed, sanitized_text
from refeed.parse import parse_document
from tests.corpus import (
    CORPUS,
    XML_ILLEGAL,
    annotation,
    collapse,
    corpus_body,
    corpus_files,
    entry_identities,
    html_problems,
    served_headers,
    sniff_text,
    text_of,
    visible_text,
)

FEED_URL = "https://example.com/feed"
SOURCE = SourceConfig(id="corpus", url=FEED_URL)
TAXONOMY = Taxonomy(aliases={})
SITE_POLICY = LanguagePolicy(("uk", "ru", "en"), others=DEFAULT_NEIGHBOURS)
NOW = datetime(2030, 1, 1, tzinfo=UTC)
MAX_BYTES = int(PollingConfig().max_bytes)

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason="feed corpus ../shared/corpus is absent"
)

# The two documents that declare entities in a DOCTYPE (corpus README, "security-relevant").
ENTITY_FILES = frozenset({
    "feedparser-tests/wellformed/rss/entity_in_doctype.xml",
    "feedparser-tests/wellformed/rdf/doctype_contains_entity_decl.xml",
})

# --------------------------------------------------------------------------- the oracle


@dataclass(frozen=True)
class OracleSummary:
    """What feedparser makes of a document, reduced to what the corpus tests compare."""

    version: str
    bozo: bool
    entries: int
    distinct_keys: int


def lowered(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` with lower-case names (HTTP header names are case-insensitive)."""
    return {name.lower(): value for name, value in headers.items()}


def feedparser_oracle(body: bytes, headers: Mapping[str, str] | None = None) -> Any:
    """Plain ``feedparser.parse`` of ``body`` (response headers lower-cased: feedparser
    looks them up by lower-case name)."""
    return feedparser.parse(io.BytesIO(body), response_headers=lowered(headers or {}) or None)


JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(\.1)?$")


@functools.cache
def json_document(rel: str) -> Any:
    """The decoded JSON of corpus file ``rel``; ``None`` when it is no JSON text."""
    body = corpus_body(rel).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not body.startswith((b"{", b"[")):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def json_feed_items(rel: str) -> list[dict[str, Any]] | None:
    """The items of ``rel`` when it is a JSON Feed 1 or 1.1 (version URL with http or
    https), else ``None``."""
    document = json_document(rel)
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        return None
    if not JSON_FEED_VERSION.match(text_of(document.get("version"))):
        return None
    return [item for item in document["items"] if isinstance(item, dict)]


def json_oracle(rel: str) -> OracleSummary:
    """The oracle for JSON: the document itself (feedparser 6.0 cannot read JSON Feed;
    it reports every JSON file as no feed). Items are keyed like feedparser entries."""
    items = json_feed_items(rel)
    if items is None:
        return OracleSummary(version="", bozo=False, entries=0, distinct_keys=0)
    as_entries = [
        {
            "id": item.get("id"),
            "link": item.get("url") or item.get("external_url"),
            "title": item.get("title"),
            "published": item.get("date_published"),
            "updated": item.get("date_modified"),
            "summary": item.get("content_html") or item.get("content_text"),
        }
        for item in items
    ]
    keys = entry_identities(as_entries)
    return OracleSummary(version="json", bozo=False, entries=len(items), distinct_keys=len(keys))


@functools.cache
def oracle(rel: str, *, served: bool) -> OracleSummary:
    """feedparser's verdict on ``rel``: as a bare stream (``served=False``) or with the
    :func:`served_headers` refeed gets (``served=True``; the same thing unless the file
    has ``Header:`` lines: a default Content-Type changes nothing)."""
    if json_document(rel) is not None:
        return json_oracle(rel)
    if served and not annotation(rel).headers:
        return oracle(rel, served=False)
    result = feedparser_oracle(corpus_body(rel), served_headers(rel) if served else None)
    entries = result.get("entries", [])
    return OracleSummary(
        version=result.get("version") or "",
        bozo=bool(result.get("bozo")),
        entries=len(entries),
        distinct_keys=len(entry_identities(entries)),
    )


DECLARES_ENTITIES = "declares entities"
NOT_A_FEED = "not a feed (HTML, OPML, CDF, RSS-in-JSON, empty document)"
BROKEN_WITHOUT_ENTRIES = "broken document without entries"


def parse_error_category(rel: str) -> str | None:
    """Why a ParseError is a fair outcome for ``rel`` (``None`` when it is not): the
    document declares entities, is no feed at all to feedparser, or is broken (bozo) and
    yields no entry."""
    if rel in ENTITY_FILES:
        return DECLARES_ENTITIES
    verdict = oracle(rel, served=True)
    if not verdict.version:
        return NOT_A_FEED
    if verdict.bozo and verdict.entries == 0:
        return BROKEN_WITHOUT_ENTRIES
    return None


_EXPECT_FUNCTIONS = {"isinstance": isinstance, "ord": ord, "len": len}
_EXPECT_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Compare, ast.Eq,
    ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot, ast.Subscript, ast.Constant, ast.Name,
    ast.Load, ast.Attribute, ast.Call, ast.Tuple,
)


def evaluate_expect(expression: str, result: Mapping[str, Any]) -> Any:
    """Evaluate a corpus ``Expect:`` expression against feedparser's ``result``.

    The expression is third-party text, so it is checked first: comparisons, subscripts,
    ``feedparser.<name>`` and calls to isinstance/ord/len only, no private attribute."""
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        allowed = isinstance(node, _EXPECT_NODES)
        if isinstance(node, ast.Attribute):
            allowed = not node.attr.startswith("_")
        if isinstance(node, ast.Call):
            allowed = isinstance(node.func, ast.Name) and node.func.id in _EXPECT_FUNCTIONS
        if not allowed:
            raise ValueError(f"refusing to evaluate {ast.dump(node)} in {expression!r}")
    namespace = {"__builtins__": {}, "feedparser": feedparser, **_EXPECT_FUNCTIONS}
    return eval(compile(tree, "<Expect>", "eval"), namespace, dict(result))


# --------------------------------------------------------------------------- refeed


@dataclass(frozen=True)
class Outcome:
    """refeed's result for one corpus file: entries, or the ParseError it raised."""

    entries: tuple[Entry, ...] = ()
    error: ParseError | None = None


def run_refeed(body: bytes, headers: Mapping[str, str]) -> tuple[ParsedFeed, list[Entry]]:
    """parse_document + normalize_feed, the way the pipeline calls them."""
    parsed = parse_document(body, headers, FEED_URL, MAX_BYTES)
    return parsed, normalize_feed(parsed, SOURCE, TAXONOMY, NOW)


@functools.cache
def refeed_outcome(rel: str) -> Outcome:
    """refeed's result for ``rel`` served with :func:`served_headers` (computed once and
    shared by the tests looking at the same file; other exceptions propagate)."""
    try:
        _, entries = run_refeed(corpus_body(rel), served_headers(rel))
    except ParseError as error:
        return Outcome(error=error)
    return Outcome(entries=tuple(entries))


# --------------------------------------------------------------------------- invariants


def entry_problems(entry: Entry) -> list[str]:
    """Every way ``entry`` breaks the promises of normalize: XML-illegal characters in a
    string field, unsafe HTML (or HTML whose text :func:`sanitized_text` reads otherwise
    than a full parse), titles not on one line, dates that are not UTC or are out of
    order."""
    problems: list[str] = []
    strings = {
        "title": entry.title, "summary": entry.summary, "content": entry.content,
        "key": entry.key, "guid": entry.guid or "", "link": entry.link or "",
        **{f"authors[{index}]": author for index, author in enumerate(entry.authors)},
        **{f"tags[{index}]": tag for index, tag in enumerate(entry.tags)},
    }
    for field, value in strings.items():
        if illegal := XML_ILLEGAL.findall(value):
            problems.append(f"{field} has XML-illegal characters {illegal!r}")
    for field in ("summary", "content"):
        value = getattr(entry, field)
        problems += [f"{field}: {problem}" for problem in html_problems(value)]
        if sanitized_text(value) != html_to_text(value):  # the shortcut must be exact
            problems.append(f"{field}: text {sanitized_text(value)!r} != {html_to_text(value)!r}")
    if collapse(entry.title) != entry.title:
        problems.append(f"title is not one trimmed line: {entry.title!r}")
    for field in ("published", "updated"):
        moment: datetime = getattr(entry, field)
        if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
            problems.append(f"{field} {moment!r} is not UTC")
    if not entry.published <= entry.updated <= NOW:
        problems.append(f"dates out of order: {entry.published} / {entry.updated} / now {NOW}")
    return problems


def params(paths: Iterable[str]) -> list[Any]:
    """One ``pytest.param`` per corpus path, its id the path itself."""
    return [pytest.param(rel, id=rel) for rel in paths]


ALL_FILES = corpus_files("feedparser-tests", "real")
SANITIZE_FILES = [
    rel for rel in ALL_FILES if rel.startswith("feedparser-tests/wellformed/sanitize/")
]
HTTP_ENCODING_FILES = [
    rel for rel in ALL_FILES
    if rel.startswith("feedparser-tests/encoding/") and annotation(rel).headers
]
JSON_FILES = [rel for rel in ALL_FILES if rel.startswith("real/") and rel.endswith(".json")]


# --------------------------------------------------------------------------- 1 + 2: every file


@pytest.mark.parametrize("rel", params(ALL_FILES))
def test_corpus_file(rel: str) -> None:
    """parse + normalize never raise anything but a deserved ParseError; entries keep the
    normalize invariants; as many entries as feedparser finds, minus repeated keys."""
    outcome = refeed_outcome(rel)
    category = parse_error_category(rel)
    if outcome.error is not None:
        assert category is not None, f"ParseError on a usable feed: {outcome.error}"
        return
    assert category not in (DECLARES_ENTITIES, NOT_A_FEED), f"parsed, yet {category}"

    problems = {
        entry.key: found for entry in outcome.entries if (found := entry_problems(entry))
    }
    assert not problems
    keys = [entry.key for entry in outcome.entries]
    assert len(keys) == len(set(keys)), "duplicate entry keys"

    expected = oracle(rel, served=False)
    if expected.version and expected.entries:
        assert len(outcome.entries) == expected.distinct_keys, (
            f"the oracle finds {expected.entries} entries, {expected.distinct_keys} distinct"
        )


@pytest.mark.parametrize("rel", params(sorted(ENTITY_FILES)))
def test_entity_declaring_documents_are_refused(rel: str) -> None:
    """Both documents declaring entities are refused, whatever feedparser would make of
    them (one of them does yield an entry there)."""
    with pytest.raises(ParseError, match="ENTITY"):
        run_refeed(corpus_body(rel), served_headers(rel))


def test_entity_declaring_documents_are_the_known_two() -> None:
    """No other file of the corpus declares an entity (keeps ENTITY_FILES honest)."""
    declaring = {rel for rel in ALL_FILES if "<!ENTITY" in sniff_text(corpus_body(rel))}
    assert declaring == ENTITY_FILES


# --------------------------------------------------------------------------- 3: sanitizing


@pytest.mark.parametrize("rel", params(SANITIZE_FILES))
def test_sanitize_corpus_leaves_no_script(rel: str) -> None:
    """No script element, event handler, script URL or CSS expression survives in the
    summary or content of any entry of feedparser's sanitizer tests."""
    outcome = refeed_outcome(rel)
    assert outcome.error is None
    found = {
        f"{entry.key} {field}": problems
        for entry in outcome.entries
        for field in ("summary", "content")
        if (problems := html_problems(getattr(entry, field)))
    }
    assert not found


def test_sanitize_corpus_really_carries_payloads() -> None:
    """The HTML check is not blind: before sanitizing, the sanitizer corpus is full of
    what it looks for (the README counts 35 files with ``<script``)."""
    hostile = set()
    for rel in SANITIZE_FILES:
        parsed = parse_document(corpus_body(rel), served_headers(rel), FEED_URL, MAX_BYTES)
        for entry in parsed.entries:
            values = [text_of(entry.get("summary"))]
            values += [text_of(item.get("value")) for item in entry.get("content") or []]
            if any(html_problems(value) for value in values):
                hostile.add(rel)
    assert len(hostile) >= 35


# --------------------------------------------------------------------------- 4: HTTP charset


def spy_on_feedparser(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """From now on, every result of ``feedparser.parse`` (refeed's calls included) is
    appended to the returned list."""
    results: list[Any] = []
    real_parse = feedparser.parse

    def recording_parse(*args: Any, **kwargs: Any) -> Any:
        results.append(real_parse(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(feedparser, "parse", recording_parse)
    return results


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    """GET ``url`` with urllib: the body and the response headers."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), dict(response.headers.items())


@pytest.mark.parametrize("rel", params(HTTP_ENCODING_FILES))
def test_charset_from_http_headers_is_honoured(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, rel: str
) -> None:
    """Served by a real HTTP server with its ``Header:`` lines, the file decodes the way
    its ``Expect:`` says, both for plain feedparser and for the feedparser call inside
    refeed (so the response headers reach it), and refeed's titles and descriptions read
    the same as feedparser's."""
    wanted = served_headers(rel)
    httpserver.expect_request("/feed").respond_with_data(corpus_body(rel), headers=wanted)
    body, headers = fetch(httpserver.url_for("/feed"))
    assert body == corpus_body(rel)
    sent = lowered(headers)["content-type"]
    assert sent == lowered(wanted)["content-type"], "the server rewrote Content-Type"

    expected = feedparser_oracle(body, headers)
    expect = annotation(rel).expect
    assert expect is not None
    assert evaluate_expect(expect, expected), f"feedparser no longer satisfies {expect!r}"

    inside = spy_on_feedparser(monkeypatch)
    if expected.get("bozo") and not expected.get("entries"):
        with pytest.raises(ParseError):
            run_refeed(body, headers)
        assert evaluate_expect(expect, inside[0]), f"refeed's parse misses {expect!r}"
        return
    parsed, entries = run_refeed(body, headers)
    assert evaluate_expect(expect, inside[0]), f"refeed's parse misses {expect!r}"
    assert parsed.feed.get("title") == expected["feed"].get("title")
    assert [entry.title for entry in entries] == [
        collapse(text_of(entry.get("title"))) for entry in expected["entries"]
    ]
    assert [visible_text(entry.summary) for entry in entries] == [
        visible_text(text_of(entry.get("summary"))) for entry in expected["entries"]
    ]


# --------------------------------------------------------------------------- 5: real values


@pytest.mark.parametrize(
    ("rel", "declared", "count"),
    [
        ("real/terrestrial/rss_ukrainska_pravda.xml", "en", 20),
        ("real/terrestrial/rss_ukrinform.xml", "en", 30),
        ("real/terrestrial/rss_kyiv_independent.xml", None, 15),
        ("real/Feeder/rss_ukrnet.xml", None, 19),  # 20 items, one repeated (same link)
        ("real/remus/meduza.xml", "ru", 30),
    ],
)
def test_entry_language_is_the_declared_one(rel: str, declared: str | None, count: int) -> None:
    """Without detection the declared language is used: the feed's own, but a source's
    configured edition language comes first."""
    parsed, entries = run_refeed(corpus_body(rel), served_headers(rel))
    assert len(entries) == count
    assert text_of(parsed.feed.get("language")) == (declared or "")
    assert {entry.language for entry in entries} == {declared}
    edition = SourceConfig(id="corpus", url=FEED_URL, language="uk")
    assert {entry.language for entry in normalize_feed(parsed, edition, TAXONOMY, NOW)} == {"uk"}


@pytest.mark.parametrize(
    ("rel", "language"),
    [
        ("real/terrestrial/rss_ukrainska_pravda.xml", "en"),
        ("real/terrestrial/rss_ukrinform.xml", "en"),
        ("real/terrestrial/rss_kyiv_independent.xml", "en"),
        ("real/Feeder/rss_ukrnet.xml", "uk"),
        ("real/remus/meduza.xml", "ru"),
        ("real/node-feedparser/iconv.xml", "ru"),
    ],
)
def test_detection_overrules_a_wrong_edition_language(rel: str, language: str) -> None:
    """With detection on a uk/ru/en site, every entry lands in its real language even when
    the source is configured as the wrong edition."""
    parsed, _ = run_refeed(corpus_body(rel), served_headers(rel))
    wrong = "ru" if language == "uk" else "uk"
    source = SourceConfig(id="corpus", url=FEED_URL, language=wrong)
    entries = normalize_feed(parsed, source, TAXONOMY, NOW, SITE_POLICY)
    assert {entry.language for entry in entries} == {language}
    assert {entry.declared_language for entry in entries} == {wrong}


@pytest.mark.parametrize(
    ("rel", "language"),
    [
        ("real/nextcloud-news/heise.xml", "de"),
        ("real/laminas-feed/laut.de-rdf.xml", "de"),
        ("real/Feeder/golem-de.xml", "de"),
        ("real/Feeder/rss_lemonde.xml", "fr"),
        ("real/rome/rsr.xml", "fr"),
        ("real/feed-rs/rss_2.0_spreaker.xml", "pl"),
    ],
)
def test_other_languages_stay_out_of_the_site_languages(rel: str, language: str) -> None:
    """German, French and Polish items on a uk/ru/en site keep their own code: no
    language feed."""
    parsed, _ = run_refeed(corpus_body(rel), served_headers(rel))
    source = SourceConfig(id="corpus", url=FEED_URL)
    entries = normalize_feed(parsed, source, TAXONOMY, NOW, SITE_POLICY)
    languages = Counter(entry.language for entry in entries)
    assert languages.most_common(1)[0][0] == language
    assert not set(languages) & {"uk", "ru", "en"}, languages


CYRILLIC = "[\u0400-\u04ff]"
HAN = "[\u4e00-\u9fff]"
ARABIC = "[\u0600-\u06ff]"


# Each feed's first title, verbatim.
UKRNET_FIRST = (
    "Торгівля між Росією та Китаєм у 2023 році перевищила 200 млрд доларів"
    " — New York Times"
)
MEDUZA_FIRST = "Президент Киргизии ушел в отставку из-за массовых протестов. Главное"
OREN_FIRST = "В Бузулуке главные стройплощадки – детсад и Ледовый дворец"
KC0011_FIRST = "建国35周年纪念，华表，和平鸽"
URDU_FIRST = (
    "امریکی عسکری امداد کی بندش کی وجوہات: انڈیا سے جنگ، جوہری پروگرام اور اب"
    " دہشت گردوں کی پشت پناہی"
)


@pytest.mark.parametrize(
    ("rel", "script", "first_title"),
    [
        pytest.param("real/Feeder/rss_ukrnet.xml", CYRILLIC, UKRNET_FIRST, id="ukrnet-utf8"),
        pytest.param("real/remus/meduza.xml", CYRILLIC, MEDUZA_FIRST, id="meduza"),
        pytest.param(
            "real/node-feedparser/iconv.xml", CYRILLIC, OREN_FIRST, id="oren-windows-1251"
        ),
        pytest.param(
            "real/node-feedparser/compressed.xml", CYRILLIC, OREN_FIRST,
            id="oren-windows-1251-gzip",
        ),
        pytest.param(
            "real/miniflux-v2/encoding_WINDOWS-1251.xml", CYRILLIC, "Цитата #17703",
            id="ibash-windows-1251",
        ),
        pytest.param("real/RSParser/kc0011.rss", HAN, KC0011_FIRST, id="kc0011-gb2312"),
        pytest.param("real/miniflux-v2/urdu_UTF8.xml", ARABIC, URDU_FIRST, id="bbc-urdu"),
    ],
)
def test_titles_come_out_in_their_script(rel: str, script: str, first_title: str) -> None:
    """Non-Latin titles are decoded, not mojibake: the first title is exact (a no-break
    space counts as a space) and every title has letters of the script, no U+FFFD."""
    entries = refeed_outcome(rel).entries
    assert entries
    assert entries[0].title == first_title
    assert all(re.search(script, entry.title) for entry in entries)
    assert not [entry.title for entry in entries if "\ufffd" in entry.title]


# --------------------------------------------------------------------------- 6: JSON Feed


@pytest.mark.parametrize("rel", params(JSON_FILES))
def test_json_file(rel: str) -> None:
    """JSON Feeds give one entry per item, titled and linked as the item says; JSON that
    is no JSON Feed (Scripting News' RSS-in-JSON) is a ParseError."""
    outcome = refeed_outcome(rel)
    items = json_feed_items(rel)
    if items is None:
        assert outcome.error is not None
        assert "not a JSON Feed" in str(outcome.error)
        return
    assert outcome.error is None
    assert len(outcome.entries) == len(items)
    for item, entry in zip(items, outcome.entries, strict=True):
        assert entry.title == collapse(text_of(item.get("title")))
        url = text_of(item.get("url") or item.get("external_url"))
        if url:
            assert entry.link is not None
            assert urlsplit(entry.link).hostname == urlsplit(url).hostname
        else:
            assert entry.link is None
        assert entry.guid == (text_of(item.get("id")) or None)


def test_json_file_list_covers_both_versions_and_schemes() -> None:
    """The JSON Feed cases include 1.0 and 1.1 and the old ``http://`` version URL."""
    versions = {json_document(rel)["version"] for rel in JSON_FILES if json_feed_items(rel)}
    assert {
        "https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1",
        "http://jsonfeed.org/version/1",
    } <= versions


@pytest.mark.parametrize(
    "rel",
    params(
        rel for rel in JSON_FILES
        if any("summary" in item for item in json_feed_items(rel) or [])
    ),
)
def test_json_feed_summary_is_plain_text(rel: str) -> None:
    """A reader sees a JSON Feed summary exactly as written: it is plain text, so
    ``<i>``/``<b>`` in 3960.json stay visible (not italic and bold for the rest of the
    summary) and the literal ``&amp;`` of json_feed_with_escaped_uris.json stays ``&amp;``."""
    items = json_feed_items(rel) or []
    entries = refeed_outcome(rel).entries
    assert [visible_text(entry.summary) for entry in entries] == [
        collapse(text_of(item.get("summary"))) for item in items
    ]


# ---------------------------------------------------------------- hostile variants, src bugs


@pytest.mark.parametrize(
    "rel",
    params([
        "feedparser-tests/wellformed/rss/channel_title.xml",  # well-formed, no items
        "real/terrestrial/rss_ukrainska_pravda.xml",  # well-formed, 20 items
    ]),
)
def test_well_formed_feed_without_content_type_header(rel: str) -> None:
    """A well-formed feed read without response headers (a local file, a server that
    sends no Content-Type) parses cleanly: no ParseError, no warning."""
    parsed = parse_document(corpus_body(rel), {}, FEED_URL, MAX_BYTES)
    assert parsed.warning is None


@pytest.mark.parametrize("rel", params(sorted(ENTITY_FILES)))
def test_entity_guard_sees_past_a_comment_mentioning_markup(rel: str) -> None:
    """The same two entity-declaring documents, their leading comment now mentioning the
    ``<rss>`` element: still refused before feedparser sees them."""
    body = corpus_body(rel).replace(b"<!--", b"<!-- the root is <rss> or <rdf:RDF>;", 1)
    with pytest.raises(ParseError, match="ENTITY"):
        parse_document(body, served_headers(rel), FEED_URL, MAX_BYTES)


BROKEN_URL = "http://[::1/unterminated-ipv6-host"


def with_broken_enclosure(body: bytes) -> bytes:
    """The document with its first enclosure URL replaced by :data:`BROKEN_URL`."""
    return re.sub(rb'(<enclosure url=")[^"]*', rb"\g<1>" + BROKEN_URL.encode(), body, count=1)


def with_broken_item_url(body: bytes) -> bytes:
    """The JSON Feed with its first item's ``url`` replaced by :data:`BROKEN_URL`."""
    document = json.loads(body)
    document["items"][0]["url"] = BROKEN_URL
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("rel", "break_url"),
    [
        pytest.param(
            "real/feed-rs/rss_2.0_nightvale.xml", with_broken_enclosure, id="rss-enclosure",
        ),
        pytest.param(
            "real/feed-rs/jsonfeed_example_1.json", with_broken_item_url, id="json-item-url",
        ),
    ],
)
def test_one_malformed_url_does_not_sink_the_feed(
    rel: str, break_url: Callable[[bytes], bytes]
) -> None:
    """A real feed with one unparseable URL (an unterminated IPv6 host) still yields all
    its entries; only that URL is dropped."""
    body = break_url(corpus_body(rel))
    assert BROKEN_URL.encode() in body
    _, entries = run_refeed(body, served_headers(rel))
    assert len(entries) == len(refeed_outcome(rel).entries)


def test_malformed_content_location_header_does_not_sink_the_feed() -> None:
    """A broken ``Content-Location`` response header costs at most the base URL."""
    rel = "real/terrestrial/rss_ukrainska_pravda.xml"
    headers = {**served_headers(rel), "Content-Location": BROKEN_URL}
    _, entries = run_refeed(corpus_body(rel), headers)
    assert len(entries) == len(refeed_outcome(rel).entries)
