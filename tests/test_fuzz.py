"""Issue 8: Hypothesis property tests on the pure stages — normalize, dedup, select and
render — fed arbitrary text in every field.

The text strategies mix any Unicode (lone surrogates included), XML-illegal controls,
bidi overrides, noncharacters, HTML/script payloads, broken markup and entity references,
plus a few huge strings. They fill every field of a feedparser-shaped entry dictionary
(and the feed-level ones normalize reads) and every config-level string that validation
lets through: tag names and aliases, site and source titles, source and named-feed ids.

Properties:

* normalize never raises, and its entries hold only XML characters, one-line titles,
  UTC dates not after "now", web-only links and HTML with no active content;
* render turns any list of such entries into Atom / RSS that lxml and feedparser read
  without complaint (same number of entries) and JSON that ``json.loads`` reads, with no
  script element, ``on*`` handler or non-web URL anywhere;
* dedup's ``words`` / ``fingerprint`` / ``text_likeness`` / ``band_keys`` / ``decide``
  never raise and are deterministic (``decide`` also ignores candidate order);
* ``tag_slug`` always gives ``[a-z0-9]+(-[a-z0-9]+)*`` and every output path — whatever
  the tags, languages and named feeds — is unique and, resolved under an output folder,
  stays inside it; a whole site (``build_site``) published into a temporary folder writes
  only inside it, and every file there parses.

Examples are few per property and generation is derandomized, so CI runs the same cases
in a few seconds.
"""

from __future__ import annotations

import json
import posixpath
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import feedparser
import lxml.html
from hypothesis import HealthCheck, Phase, example, given, reject, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from refeed.config import DEFAULT_NEIGHBOURS, Settings, SourceConfig, cross_field_problems
from refeed.dedup import (
    BANDS,
    NUM_PERM,
    DedupPolicy,
    band_keys,
    decide,
    entry_revision,
    fingerprint,
    text_likeness,
    words,
)
from refeed.language import NO_DETECTION, LanguagePolicy
from refeed.model import Entry, ParsedFeed, StoredEntry, Taxonomy
from refeed.normalize import normalize_entry, normalize_feed
from refeed.publish import write_outputs
from refeed.render import FeedInfo, SourceInfo
from refeed.select import Output, define_outputs, tag_slug
from refeed.storage.codecs import from_iso, iso
from tests.corpus import XML_ILLEGAL, html_problems
from tests.factories import build_site, render_feed, select_site

NOW = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
BASE_URL = "http://feeds.example/"
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
OUTPUT_PATH = re.compile(r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*$")
WEB_URL = re.compile(r"^https?://", re.IGNORECASE)
FORMATS = ("atom", "rss", "json")
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
# elements whose text is HTML a reader renders: Atom content/summary, RSS description
HTML_ELEMENTS = frozenset({f"{ATOM}content", f"{ATOM}summary", "description", CONTENT_ENCODED})
URL_ATTRIBUTES = frozenset({"href", "url", "src"})
SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
LANGUAGE_CODES = ("uk", "ru", "en", "de", "fr", "zh", "ar", "ur", "pt-BR", "en-US")
SITE_POLICY = LanguagePolicy(("uk", "ru", "en"), others=DEFAULT_NEIGHBOURS)
FUZZ = settings(
    deadline=None, derandomize=True, database=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
T = TypeVar("T")


def fuzz(examples: int) -> settings:
    """The settings of every property here, with ``examples`` examples."""
    return settings(FUZZ, max_examples=examples)


# ------------------------------------------------------------------------- strategies

SPECIALS = (
    "\x00\x01\x08\x0b\x0c\x0e\x1f\x7f\x80\x85\x9f\ud800\udbff\udc00\udfff\ufffe\uffff"
    "\ufeff\u202a\u202b\u202d\u202e\u2066\u2069\u200b\u200f\u2028\u2029\U0010ffff"
    "\t\r\n &<>\"'=/\\#%;:"
)
PAYLOADS = (
    "<script>alert(1)</script>", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">', '<img src="x" alt="x" onmouseover=alert(1)//>',
    '<a href="javascript:alert(1)">x</a>', '<a href="JaVaScRiPt&#58;alert(1)">x</a>',
    '<a href=" jav&#x09;ascript:alert(1)">x</a>', '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>', "<svg onload=alert(1)>",
    '<iframe src="https://evil.example/"></iframe>', "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>', '<object data="x.swf">',
    '<embed src="x.swf">', '<form action="https://evil.example/"><input name=q></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', '<base href="/">',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>', "<p>para</p>", "<b>",
    "</div>", "<p", "<![CDATA[x]]>", "]]>", "<!-- c -->", "<!ENTITY x 'y'>", "&#0;",
    "&#x1;", "&#xD800;", "&#xFFFE;", "&#1114112;", "&nbsp;", "&bogus;", "&amp;amp;", "&",
    "<?xml version='1.0'?>", "\u202egnp.exe", "Путін", "переговори", "Zelenskyy",
    "https://x.example/a?utm_source=x&fbclid=y#f", "Read more…", "12,345.6",
)
HUGE = (
    "x" * 100_000,
    "<p>" + "word " * 8_000 + "</p>",
    "\ud800" * 20_000,
    "&amp;" * 20_000,
    "<b>" * 3_000,
    "Путін " * 5_000,
    "<script>" * 5_000,
)
ANY_CHARACTER = st.one_of(st.characters(exclude_categories=()), st.sampled_from(SPECIALS))
SMALL_TEXT = st.lists(
    st.one_of(st.lists(ANY_CHARACTER, max_size=12).map("".join), st.sampled_from(PAYLOADS)),
    max_size=5,
).map("".join)
# mostly small text, now and then a huge string
TEXT = st.integers(0, 19).flatmap(lambda n: st.sampled_from(HUGE) if n == 0 else SMALL_TEXT)
XML_TEXT = SMALL_TEXT.map(lambda text: XML_ILLEGAL.sub("", text))  # what config validation lets in
LABEL = XML_TEXT.map(lambda text: text[:200]).filter(bool)
WEIRD_URLS = (
    "javascript:alert(1)", "JAVASCRIPT:alert(1)", " https://x.example/ ", "data:text/html,x",
    "http://[::1/x", "http://", "https://", "//x.example/a", "/relative", "ftp://x.example/f",
    "HTTP://EXAMPLE.COM/A?utm_medium=x&q=1", "http://user:pass@x.example:99999/",
    "http://xn--/", "https://x.example/\u202e/\ud800", "https://x.example/../../etc/passwd",
    "http://x.example/a b?c=d e#f g", "https://пример.укр/путь?ключ=значение",
)
URL = st.one_of(
    TEXT,
    st.sampled_from(WEIRD_URLS),
    st.builds("{}://{}/{}".format, st.sampled_from(["http", "https", "HTTP", "javascript"]),
              SMALL_TEXT, SMALL_TEXT),
)
LANGUAGE = st.one_of(st.sampled_from(LANGUAGE_CODES), SMALL_TEXT)
STRUCT_TIME = st.builds(
    lambda *parts: time.struct_time(parts),
    st.integers(-1, 10_000), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25),
    st.integers(0, 60), st.integers(0, 61), st.integers(0, 6), st.integers(1, 366),
    st.integers(-1, 1),
)
DATE = st.one_of(st.none(), STRUCT_TIME)
DETAIL = st.fixed_dictionaries({}, optional={
    "type": st.one_of(st.sampled_from(["text/html", "text/plain", "application/xhtml+xml",
                                       "html", "xhtml", "text"]), SMALL_TEXT),
    "language": LANGUAGE,
    "base": URL,
    "value": TEXT,
})
RAW_ENTRY = st.fixed_dictionaries({}, optional={
    "id": TEXT,
    "link": URL,
    "title": TEXT,
    "title_detail": DETAIL,
    "summary": TEXT,
    "summary_detail": DETAIL,
    "content": st.lists(DETAIL, max_size=3),
    "published": SMALL_TEXT,
    "published_parsed": DATE,
    "updated": SMALL_TEXT,
    "updated_parsed": DATE,
    "created_parsed": DATE,
    "author": TEXT,
    "authors": st.lists(st.fixed_dictionaries({}, optional={
        "name": TEXT, "email": SMALL_TEXT, "href": URL}), max_size=3),
    "tags": st.lists(st.fixed_dictionaries({}, optional={
        "term": TEXT, "label": SMALL_TEXT, "scheme": URL}), max_size=4),
    "enclosures": st.lists(st.fixed_dictionaries({}, optional={
        "href": URL, "type": SMALL_TEXT,
        "length": st.one_of(SMALL_TEXT, st.sampled_from(["12345", "²", "-1", "1e9", "9" * 40]))}),
        max_size=3),
    "language": LANGUAGE,
})
PARSED_FEED = st.builds(
    ParsedFeed,
    version=st.sampled_from(["rss20", "atom10", "rss10", "json11"]),
    feed=st.fixed_dictionaries({}, optional={"language": LANGUAGE, "title": TEXT}),
    entries=st.lists(RAW_ENTRY, max_size=4),
)
SOURCE_ID = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)
FEED_ID = SOURCE_ID.filter(lambda name: name not in {"all", "index", "outputs", "lang", "tag"})


@st.composite
def source_configs(draw: st.DrawFn, source_id: str | None = None) -> SourceConfig:
    """A valid source: any id, title, language and tags that config validation accepts."""
    return SourceConfig.model_validate({
        "id": source_id or draw(SOURCE_ID),
        "url": "https://source.example/feed",
        "title": draw(st.one_of(st.none(), XML_TEXT)),
        "language": draw(st.one_of(st.none(), st.sampled_from(LANGUAGE_CODES))),
        "tags": draw(st.lists(LABEL, max_size=3)),
    })


@st.composite
def taxonomies(draw: st.DrawFn) -> Taxonomy:
    """The taxonomy of a valid ``tags:`` section with arbitrary names and aliases, each
    tag also matching its own name literally."""
    tags = draw(st.dictionaries(LABEL, st.lists(LABEL, max_size=3), max_size=4))
    document = {"sources": [{"id": "a", "url": "https://a.example/"}],
                "tags": {name: {"aliases": aliases, "match": [re.escape(name)]}
                         for name, aliases in tags.items()}}
    return validated(document).taxonomy


def validated(document: dict[str, Any]) -> Settings:
    """``document`` through the whole config validation (cross-field rules, then the
    model); a document the config refuses is no test case."""
    if cross_field_problems(document):
        reject()
    try:
        return Settings.model_validate(document)
    except ValidationError:
        reject()


@st.composite
def site_settings(draw: st.DrawFn) -> Settings:
    """A valid config with arbitrary site title, languages, tags with aliases, sources
    (ids, titles, tags) and named feeds."""
    source_ids = draw(st.lists(SOURCE_ID, min_size=1, max_size=3, unique=True))
    document = {
        "site": {"title": draw(XML_TEXT), "base_url": BASE_URL,
                 "languages": draw(st.lists(st.sampled_from(LANGUAGE_CODES[:6]), max_size=3,
                                            unique=True))},
        "sources": [{"id": source_id, "url": f"https://{source_id}.example/feed",
                     "title": draw(st.one_of(st.none(), XML_TEXT)),
                     "tags": draw(st.lists(LABEL, max_size=2))}
                    for source_id in source_ids],
        "tags": {name: {"aliases": aliases}
                 for name, aliases in draw(st.dictionaries(
                     LABEL, st.lists(LABEL, max_size=2), max_size=3)).items()},
        "publish": {"tag_min_entries": 1, "feeds": [
            {"id": feed_id, "title": draw(XML_TEXT) or None,
             "tags": draw(st.lists(LABEL, max_size=2))}
            for feed_id in draw(st.lists(FEED_ID, max_size=2, unique=True))
        ]},
        "language": {"detect": False},
    }
    return validated(document)


def normalized(feed: ParsedFeed, source: SourceConfig) -> list[Entry]:
    """``normalize_feed`` without tag rules or language detection."""
    return normalize_feed(feed, source, Taxonomy(), NOW, NO_DETECTION)


@st.composite
def entry_lists(draw: st.DrawFn, source_ids: Iterable[str] = ("a", "b")) -> list[Entry]:
    """Normalized entries of the given sources from arbitrary raw entries; some carry
    ``seen_in`` links to the others, as originals read back from the store do."""
    entries: list[Entry] = []
    for source_id in source_ids:
        source = draw(source_configs(source_id))
        entries += normalized(draw(PARSED_FEED), source)
    linked = [(entry.source_id, entry.link or "") for entry in entries]
    if not linked:
        return entries
    copies = st.lists(st.sampled_from(linked), max_size=2).map(tuple)
    return [replace(entry, seen_in=draw(copies)) for entry in entries]


# ---------------------------------------------------------------------------- checks


def strings_in(value: object) -> list[str]:
    """Every string inside ``value`` (dataclasses, tuples and their contents)."""
    if isinstance(value, str):
        return [value]
    if is_dataclass(value) and not isinstance(value, type):
        return [s for field in fields(value) for s in strings_in(getattr(value, field.name))]
    if isinstance(value, tuple | list):
        return [s for item in value for s in strings_in(item)]
    return []


def entry_problems(entry: Entry, source: SourceConfig) -> list[str]:
    """Every promise of normalize that ``entry`` breaks."""
    problems = [f"XML-illegal characters in {text[:80]!r}"
                for text in strings_in(entry) if XML_ILLEGAL.search(text)]
    if entry.source_id != source.id:
        problems.append(f"source id {entry.source_id!r}")
    if not entry.key or len(entry.key) > 512:
        problems.append(f"key of length {len(entry.key)}")
    if " ".join(entry.title.split()) != entry.title:
        problems.append(f"title is not one trimmed line: {entry.title[:80]!r}")
    for moment in (entry.published, entry.updated):
        if moment.utcoffset() != timedelta(0):
            problems.append(f"date {moment!r} is not UTC")
    if not entry.published <= entry.updated <= NOW:
        problems.append(f"dates out of order: {entry.published} / {entry.updated}")
    urls = [entry.link, entry.canonical_url, *(e.url for e in entry.enclosures)]
    problems += [f"non-web URL {url!r}" for url in urls if url is not None and
                 not WEB_URL.match(url)]
    for name in ("summary", "content"):
        problems += [f"{name}: {problem}" for problem in html_problems(getattr(entry, name))]
    if any(not tag.strip() for tag in entry.tags):
        problems.append(f"empty tag in {entry.tags!r}")
    return problems


def xml_problems(document: bytes, entries: int) -> list[str]:
    """Why an Atom/RSS document is not well-formed, not read by feedparser with exactly
    ``entries`` entries, or carries active content."""
    try:
        root = etree.fromstring(document, SAFE_XML)
    except etree.XMLSyntaxError as error:
        return [f"not well-formed: {error}"]
    problems: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if etree.QName(element).localname.lower() == "script":
            problems.append("script element")
        for name, value in element.attrib.items():
            local = etree.QName(name).localname.lower()
            if local.startswith("on"):
                problems.append(f"{local}= attribute")
            if local in URL_ATTRIBUTES and not WEB_URL.match(value):
                problems.append(f"non-web URL {local}={value!r}")
        if element.tag in HTML_ELEMENTS and element.text:
            problems += [f"{element.tag}: {p}" for p in html_problems(element.text)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # feedparser's own deprecation noise
        parsed = feedparser.parse(document, sanitize_html=False)
    if parsed.bozo:
        problems.append(f"feedparser bozo: {parsed.get('bozo_exception')!r}")
    if len(parsed.entries) != entries:
        problems.append(f"feedparser reads {len(parsed.entries)} entries, not {entries}")
    return problems


def json_problems(document: bytes, entries: int) -> list[str]:
    """Why a JSON Feed document does not load, lists other than ``entries`` items, or
    carries active content or non-web URLs."""
    try:
        feed = json.loads(document)
    except ValueError as error:
        return [f"invalid JSON: {error}"]
    items = feed.get("items")
    if not isinstance(items, list) or len(items) != entries:
        return [f"items: {items!r:.200}"]
    problems: list[str] = []
    for item in items:
        problems += [f"content_html: {p}" for p in html_problems(item.get("content_html", ""))]
        urls = [item.get("url"), *(a.get("url") for a in item.get("attachments", []))]
        problems += [f"non-web URL {url!r}" for url in urls if url is not None and
                     not WEB_URL.match(url)]
    return problems


def document_problems(fmt: str, document: bytes, entries: int) -> list[str]:
    """:func:`xml_problems` or :func:`json_problems`, by format."""
    return json_problems(document, entries) if fmt == "json" else xml_problems(document, entries)


def stays_inside(folder: str, relative: str) -> bool:
    """True when ``relative``, joined to ``folder`` and normalized, names something
    strictly inside ``folder``."""
    joined = posixpath.normpath(posixpath.join(folder, relative))
    return not posixpath.isabs(relative) and joined.startswith(folder.rstrip("/") + "/")


def path_problems(paths: Iterable[str]) -> list[str]:
    """Output paths (without format extension) that are unsafe or repeated."""
    seen: set[str] = set()
    problems: list[str] = []
    for path in paths:
        if not OUTPUT_PATH.match(path) or ".." in path or not stays_inside("/srv/feeds", path):
            problems.append(f"unsafe output path {path!r}")
        if path in seen:
            problems.append(f"two outputs share the path {path!r}")
        seen.add(path)
    return problems


def same_twice(function: Callable[..., T], *arguments: object) -> T:
    """``function(*arguments)``, asserting a second call gives the same result."""
    first = function(*arguments)
    assert function(*arguments) == first, f"{function.__name__} is not deterministic"
    return first


# -------------------------------------------------------------------------- normalize


@fuzz(120)
@given(feed=PARSED_FEED, source=source_configs(), taxonomy=taxonomies(),
       policy=st.sampled_from([NO_DETECTION, SITE_POLICY]))
def test_normalize_never_raises_and_yields_clean_entries(
    feed: ParsedFeed, source: SourceConfig, taxonomy: Taxonomy, policy: LanguagePolicy
) -> None:
    entries = normalize_feed(feed, source, taxonomy, NOW, policy)
    assert len(entries) <= len(feed.entries)
    assert len({entry.key for entry in entries}) == len(entries)
    problems = [problem for entry in entries for problem in entry_problems(entry, source)]
    assert problems == []
    assert [same_twice(entry_revision, entry) for entry in entries] == [
        entry_revision(entry) for entry in normalize_feed(feed, source, taxonomy, NOW, policy)
    ]


DATETIMES = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                         timezones=st.just(UTC)).map(lambda moment: moment.replace(microsecond=0))


@fuzz(200)
@given(first=DATETIMES, second=DATETIMES)
@example(first=datetime(103, 12, 13, 18, 30, 2, tzinfo=UTC), second=NOW)  # corpus: updated-past
def test_any_normalized_date_keeps_its_value_and_order_as_stored_text(
    first: datetime, second: datetime
) -> None:
    """normalize yields any UTC date of years 1-9999 (clamped to now, never raised); the
    store keeps dates as text and orders the timeline by that text."""
    assert from_iso(iso(first)) == first
    assert (iso(first) < iso(second)) == (first < second)


@fuzz(80)
@given(raw=RAW_ENTRY, source=source_configs(), feed_language=st.one_of(st.none(), LANGUAGE),
       shared=st.booleans())
def test_normalize_entry_never_raises_on_one_raw_entry(
    raw: dict[str, Any], source: SourceConfig, feed_language: str | None, shared: bool
) -> None:
    entry = normalize_entry(raw, source, Taxonomy(), NOW, feed_language, link_is_shared=shared)
    assert entry_problems(entry, source) == []


# ----------------------------------------------------------------------------- render


BARE_ENTRY = normalize_entry({}, SourceConfig(id="a", url="https://a.example/"), Taxonomy(), NOW)


@fuzz(60)
@given(entries=entry_lists(), output_title=XML_TEXT, site_title=XML_TEXT,
       source_titles=st.tuples(XML_TEXT, XML_TEXT),
       language=st.one_of(st.none(), st.sampled_from(["uk", "en"])))
# an entry with no title, link, summary or content (the corpus has hundreds)
@example(entries=[BARE_ENTRY], output_title="Everything", site_title="Site",
         source_titles=("A", "B"), language=None)
# site.title may be empty in a valid config; the "all" output is titled by it
@example(entries=[], output_title="", site_title="", source_titles=("A", "B"), language=None)
# a feed's category (plain text) names a tag output: "Site: <tag>"
@example(entries=[], output_title="Site: <script>alert(1)</script>", site_title="Site",
         source_titles=("A", "B"), language=None)
def test_render_any_entries_parses_without_active_content(
    entries: list[Entry], output_title: str, site_title: str, source_titles: tuple[str, str],
    language: str | None,
) -> None:
    output = Output("all", output_title, "all", languages=(language,) if language else ())
    sources = {sid: SourceInfo(sid, title, f"https://{sid}.example/feed")
               for sid, title in zip(("a", "b"), source_titles, strict=True)}
    info = FeedInfo(output, BASE_URL, site_title, sources)
    problems = {fmt: document_problems(fmt, render_feed(fmt, info, entries), len(entries))
                for fmt in FORMATS}
    assert problems == {fmt: [] for fmt in FORMATS}
    assert render_feed("atom", info, entries) == render_feed("atom", info, entries)


# ------------------------------------------------------------------------------ dedup


@fuzz(100)
@given(title=TEXT, body=TEXT)
def test_fingerprints_never_raise_and_are_deterministic(title: str, body: str) -> None:
    tokens = same_twice(words, body)
    assert isinstance(tokens, list)
    print_ = same_twice(fingerprint, title, body)
    assert isinstance(print_, str)
    assert print_ == "" or re.fullmatch(r"[0-9a-f]{64}", print_)
    likeness = same_twice(text_likeness, f"{title}\n{body}")
    assert len(likeness.signature) in (0, NUM_PERM)
    assert list(likeness.numbers) == sorted(set(likeness.numbers))
    keys = same_twice(band_keys, likeness.signature)
    assert len(keys) in (0, BANDS)


TEXT_FIELDS = st.fixed_dictionaries({
    "title": TEXT, "summary": TEXT, "link": st.one_of(st.none(), URL),
    "source_id": st.sampled_from(["a", "b", "c"]), "key": SMALL_TEXT,
    "language": st.one_of(st.none(), st.sampled_from(["uk", "en"])),
    "published": st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                              timezones=st.just(UTC)),
})


def fuzz_entry(values: Mapping[str, Any]) -> Entry:
    """An Entry whose text fields are arbitrary (not normalized), with the fingerprint
    and likeness dedup computes from them."""
    likeness = text_likeness(f"{values['title']}\n{values['summary']}")
    return Entry(
        source_id=values["source_id"], key=values["key"], guid=None, link=values["link"],
        canonical_url=values["link"], title=values["title"], summary=values["summary"],
        content="", authors=(), published=values["published"], updated=values["published"],
        dated=True, tags=(), language=values["language"], enclosures=(),
        content_hash=fingerprint(values["title"], values["summary"]),
        signature=likeness.signature, shingles=likeness.shingles, numbers=likeness.numbers,
    )


def stored_copy(entry: Entry, row_id: int, duplicate_of: int | None) -> StoredEntry:
    """``entry`` as the store would hand it to :func:`decide` as a candidate."""
    return StoredEntry(
        id=row_id, source_id=entry.source_id, key=entry.key, revision=str(row_id),
        published=entry.published, canonical_url=entry.canonical_url,
        content_hash=entry.content_hash, duplicate_of=duplicate_of, title=entry.title,
        language=entry.language, signature=entry.signature, shingles=entry.shingles,
        numbers=entry.numbers,
    )


@fuzz(100)
@given(incoming=TEXT_FIELDS, stored=st.lists(TEXT_FIELDS, max_size=4),
       existing=st.booleans(), same_revision=st.booleans(), order=st.randoms(),
       window_hours=st.integers(0, 10_000), threshold=st.floats(0.01, 1.0),
       enabled=st.booleans())
def test_decide_never_raises_and_ignores_candidate_order(
    incoming: Mapping[str, Any], stored: list[Mapping[str, Any]], existing: bool,
    same_revision: bool, order: Any, window_hours: int, threshold: float, enabled: bool,
) -> None:
    entry = fuzz_entry(incoming)
    candidates = [stored_copy(fuzz_entry(values), index + 1, 1 if index % 2 else None)
                  for index, values in enumerate(stored)]
    row = stored_copy(entry, 99, None) if existing else None
    revision = row.revision if row is not None and same_revision else "incoming"
    policy = DedupPolicy(enabled=enabled, window=timedelta(hours=window_hours),
                         threshold=threshold)
    decision = same_twice(decide, entry, revision, row, candidates, policy)
    shuffled = list(candidates)
    order.shuffle(shuffled)
    assert decide(entry, revision, row, shuffled, policy) == decision
    action = decision.action
    if row is not None:
        assert action == ("unchanged" if revision == row.revision else "updated")
    elif action == "duplicate":
        originals = {c.duplicate_of if c.duplicate_of is not None else c.id for c in candidates}
        assert decision.duplicate_of is not None
        joined = {decision.duplicate_of, *decision.merge}
        assert joined <= originals
        assert decision.duplicate_of == min(joined)
    else:
        assert action == "new"


# ----------------------------------------------------------------------------- select


@fuzz(200)
@given(tag=TEXT)
def test_tag_slug_is_lowercase_ascii_and_stays_inside_the_folder(tag: str) -> None:
    slug = same_twice(tag_slug, tag)
    assert isinstance(slug, str)
    assert SLUG.match(slug), slug
    assert len(slug) <= 80
    for path in (f"tag/{slug}", f"tag/{slug}/uk"):
        assert stays_inside("/srv/feeds", f"{path}.atom")
        with tempfile.TemporaryDirectory() as folder:
            resolved = (Path(folder) / f"{path}.atom").resolve()
            assert resolved.is_relative_to(Path(folder).resolve())


@fuzz(100)
@given(config=site_settings(),
       counts=st.dictionaries(TEXT, st.integers(0, 10), max_size=6),
       registry=st.dictionaries(st.from_regex(SLUG, fullmatch=True), TEXT, max_size=4))
def test_output_paths_are_unique_and_safe_for_any_tags(
    config: Settings, counts: dict[str, int], registry: dict[str, str]
) -> None:
    outputs = define_outputs(config, counts, registry)
    assert path_problems(output.path for output in outputs) == []


SITE_FILE = re.compile(r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*\.(atom|rss|json|html|opml)$")


@fuzz(25)
@given(data=st.data(), config=site_settings())
def test_whole_site_publishes_inside_the_folder_and_every_file_parses(
    data: st.DataObject, config: Settings
) -> None:
    entries = data.draw(entry_lists([source.id for source in config.sources]))
    timeline = entries
    listed = {output.path: len(chosen) for output, chosen in select_site(config, timeline)}
    assert path_problems(listed) == []
    files = build_site(config, timeline)
    unsafe = [path for path in files
              if not SITE_FILE.match(path) or not stays_inside("/srv/feeds", path)]
    assert unsafe == []
    problems = {
        path: document_problems(fmt, document, listed[stem])
        for path, document in files.items()
        for stem, _, fmt in [path.rpartition(".")]
        if fmt in FORMATS
    }
    assert {path: found for path, found in problems.items() if found} == {}
    etree.fromstring(files["outputs.opml"], SAFE_XML)
    index = lxml.html.document_fromstring(files["index.html"])
    assert index.xpath("//script | //*[@*[starts-with(name(), 'on')]]") == []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "feeds"
        write_outputs(root, files)
        written = [path for path in Path(folder).rglob("*") if path.is_file()]
        assert all(path.resolve().is_relative_to(root.resolve()) for path in written)
        assert {path.relative_to(root).as_posix() for path in written} >= set(files)
