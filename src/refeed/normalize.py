"""PURE: feedparser-shaped dictionaries → :class:`Entry` values.

Everything a later stage relies on is settled here: a stable key per entry, canonical and
tracking-free URLs, plain-text titles, HTML sanitized once (nh3), UTC dates with sane
fallbacks, tags mapped to canonical names, the declared language, and no character that
XML cannot carry. No I/O: the caller passes ``now``.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import nh3
from url_normalize import url_normalize

from refeed.config import SourceConfig
from refeed.dedup import fingerprint, story_facts, text_likeness
from refeed.language import NO_DETECTION, LanguagePolicy, decide_language
from refeed.model import Enclosure, Entry, ParsedFeed, Taxonomy
from refeed.text import clean_text, tag_fold, without_bidi_controls

MAX_KEY_LENGTH = 512
# longer author "names" are junk or an attack: feedparser's e-mail regex (in refeed's
# parse and in feed readers reading our outputs) takes time quadratic in their length
MAX_AUTHOR_LENGTH = 200
TRACKING_PARAM_PREFIXES = ("utm_", "mtm_", "pk_")
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
    "igshid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
    "vero_id", "wickedid", "li_fat_id", "rb_clickid", "s_cid", "_ga", "_gl",
})
_WHITESPACE = re.compile(r"\s+")
_CATEGORY_SEPARATORS = re.compile(r"[,;|]|\s/\s|\s>\s")
_LINK_SCHEMES = frozenset({"http", "https"})
_HTML_URL_SCHEMES = {"http", "https", "mailto"}
_WEB_URL = re.compile(r"https?://[^/?#\s]", re.IGNORECASE)
# a tag of nh3's output: "<" up to the first ">" outside a (double-quoted) attribute value
_SANITIZED_TAG = re.compile(r'<[^>"]*(?:"[^"]*"[^>"]*)*>')


def normalize_feed(
    parsed: ParsedFeed,
    source: SourceConfig,
    taxonomy: Taxonomy,
    now: datetime,
    policy: LanguagePolicy = NO_DETECTION,
) -> list[Entry]:
    """Every entry of ``parsed`` as an :class:`Entry` of ``source``; entries repeating an
    earlier key of the same document are dropped (the first one wins)."""
    feed_language = _string(parsed.feed.get("language"))
    links = Counter(_string(raw.get("link")) for raw in parsed.entries if not raw.get("id"))
    entries: list[Entry] = []
    seen: set[str] = set()
    for raw in parsed.entries:
        shared = links[_string(raw.get("link"))] > 1
        entry = normalize_entry(
            raw, source, taxonomy, now, feed_language, link_is_shared=shared, policy=policy
        )
        if entry.key not in seen:
            seen.add(entry.key)
            entries.append(entry)
    return entries


def normalize_entry(
    raw: Mapping[str, Any],
    source: SourceConfig,
    taxonomy: Taxonomy,
    now: datetime,
    feed_language: str | None = None,
    *,
    link_is_shared: bool = False,
    policy: LanguagePolicy = NO_DETECTION,
) -> Entry:
    """One feedparser entry → :class:`Entry`. ``link_is_shared`` says that other entries of
    the same document have no guid and the same link, so the link alone is no key;
    ``policy`` says how the language is decided."""
    link = clean_link(_string(raw.get("link")))
    title = _entry_title(raw)
    summary = _html_field(raw.get("summary_detail"), _string(raw.get("summary")))
    content = _entry_content(raw)
    published, updated, dated = _entry_dates(raw, now)
    summary_text, content_text = sanitized_text(summary), sanitized_text(content)
    body_text = content_text if content else summary_text
    categories = split_categories(_raw_categories(raw))
    text_for_matching = tagging_text(title, summary, content)
    body = f"{summary_text}\n{content_text}"
    likeness = text_likeness(f"{title}\n{body}")  # the whole text: see dedup.story_facts
    facts = story_facts(title, body)
    declared = _declared_languages(raw, feed_language, source)
    language = decide_language(text_for_matching, declared, policy)
    return Entry(
        source_id=source.id,
        key=_entry_key(raw, link, title, content or summary, link_is_shared),
        guid=clean_text(_string(raw.get("id"))) or None,
        link=link,
        canonical_url=canonical_url(link) if link else None,
        title=title,
        summary=summary,
        content=content,
        authors=_entry_authors(raw),
        published=published,
        updated=updated,
        dated=dated,
        tags=entry_tags(categories, source.tags, taxonomy, text_for_matching),
        language=language.language,
        enclosures=_entry_enclosures(raw),
        content_hash=fingerprint(title, body_text),
        declared_language=language.declared,
        detected_language=language.detected,
        language_confidence=language.confidence,
        categories=categories,
        signature=likeness.signature,
        shingles=likeness.shingles,
        numbers=likeness.numbers,
        names=facts.names,
        headline=facts.headline,
        stem_signature=facts.stem_signature,
        stems=facts.stems,
        dates=facts.dates,
    )


def sanitize_html(value: str, base: str | None = None) -> str:
    """Sanitized HTML: no scripts, styles, event handlers or ``javascript:`` URLs; links
    and images relative to ``base`` (the document's or element's URL) made absolute.
    (feedparser could resolve them, but its pass over the HTML cost a third of parsing.)"""
    text = clean_text(value)
    try:
        cleaned = nh3.clean(text, url_schemes=_HTML_URL_SCHEMES,
                            url_relative=("rewrite_with_base", base)
                            if base and _WEB_URL.match(base) else None)
    except ValueError:  # a base nh3 cannot parse: relative URLs stay as they are
        cleaned = nh3.clean(text, url_schemes=_HTML_URL_SCHEMES)
    return clean_text(cleaned).strip()  # again: nh3 decodes references such as &#1;


def html_to_text(value: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed."""
    stripped = html.unescape(nh3.clean(clean_text(value), tags=set()))
    return _WHITESPACE.sub(" ", clean_text(stripped)).strip()


def sanitized_text(value: str) -> str:
    """:func:`html_to_text` of HTML that :func:`sanitize_html` wrote, at half the cost
    (no second HTML parse): its serializer escapes ``<`` and ``>`` in text, quotes every
    attribute value with ``"`` and leaves no comments, so removing each tag is exact."""
    stripped = html.unescape(_SANITIZED_TAG.sub("", value))
    return _WHITESPACE.sub(" ", clean_text(stripped)).strip()


def clean_link(url: str) -> str | None:
    """An absolute http(s) URL with lowercase scheme/host and no tracking parameters;
    ``None`` for empty, relative or non-web links (``javascript:``, ``data:``…)."""
    url = clean_text(url).strip()
    try:
        if not url or urlsplit(url).scheme.lower() not in _LINK_SCHEMES:
            return None
        try:
            normalized = url_normalize(url) or url
        except UnicodeError:
            normalized = url
        parts = urlsplit(normalized)
    except ValueError:  # e.g. "http://[::1/x": an unclosed IPv6 literal
        return None
    kept = [field for field in parts.query.split("&") if field and not _is_tracking_field(field)]
    return urlunsplit(parts._replace(query="&".join(kept)))


def canonical_url(link: str) -> str | None:
    """The URL identity used to spot cross-source duplicates: ``link`` without fragment.
    Site roots are not identities (many feeds link every item to the home page)."""
    parts = urlsplit(link)
    if parts.path in ("", "/") and not parts.query:
        return None
    return urlunsplit(parts._replace(fragment=""))


def _is_tracking_field(field: str) -> bool:
    """True for a ``name=value`` query field whose name is a known tracking parameter."""
    lowered = unquote_plus(field.partition("=")[0]).lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PARAM_PREFIXES)


def _entry_title(raw: Mapping[str, Any]) -> str:
    title = clean_text(_string(raw.get("title")))
    detail = raw.get("title_detail")
    if isinstance(detail, Mapping) and "html" in _string(detail.get("type")):
        title = html_to_text(title)  # may spell bidi controls as character references
    return _WHITESPACE.sub(" ", without_bidi_controls(title)).strip()


def _html_field(detail: object, value: str) -> str:
    """``value`` as sanitized HTML; plain text (per its ``detail`` type) is escaped first."""
    if not value:
        return ""
    details = detail if isinstance(detail, Mapping) else {}
    kind = _string(details.get("type")) or "text/html"
    if kind == "text/plain":
        return html.escape(clean_text(value)).strip()
    return sanitize_html(value, _string(details.get("base")) or None)


def _entry_content(raw: Mapping[str, Any]) -> str:
    contents = [item for item in raw.get("content") or [] if isinstance(item, Mapping)]
    if not contents:
        return ""
    best = next((item for item in contents if "html" in _string(item.get("type"))), contents[0])
    return _html_field(best, _string(best.get("value")))


def _entry_key(
    raw: Mapping[str, Any], link: str | None, title: str, body: str, link_is_shared: bool
) -> str:
    """The guid; else the link; else a hash of title, date and body. A link shared by
    several guid-less entries (feeds that point every item at one page) is qualified by a
    hash of the title, so those entries are not collapsed into one — while one story
    listed twice (same link and title, a later date) still is."""
    guid = clean_text(_string(raw.get("id"))).strip()
    if guid:
        key = guid
    elif link and not link_is_shared:
        key = link
    elif link:
        key = f"{link}#{_digest(title)}"
    else:
        stamp = clean_text(_string(_own(raw, "published")) or _string(_own(raw, "updated")))
        key = _digest(f"{title}\n{stamp}\n{body}")
    return _digest(key) if len(key) > MAX_KEY_LENGTH else key


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _entry_dates(raw: Mapping[str, Any], now: datetime) -> tuple[datetime, datetime, bool]:
    """``(published, updated, dated)``: the entry's own dates in UTC, clamped to ``now``
    when in the future; ``now`` with ``dated=False`` when the entry carries no date."""
    published = _struct_to_utc(_own(raw, "published_parsed")) or _struct_to_utc(
        _own(raw, "created_parsed")
    )
    updated = _struct_to_utc(_own(raw, "updated_parsed"))
    first = published or updated
    if first is None:
        return now, now, False
    latest = max(first, updated or first)
    return min(first, now), min(latest, now), True


def _struct_to_utc(value: object) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _entry_authors(raw: Mapping[str, Any]) -> tuple[str, ...]:
    names = [
        _string(author.get("name")) or _string(author.get("email"))
        for author in raw.get("authors") or []
        if isinstance(author, Mapping)
    ]
    if not any(names):
        names = [_string(raw.get("author"))]
    return _unique(clean_text(name).strip()[:MAX_AUTHOR_LENGTH].strip() for name in names)


def _raw_categories(raw: Mapping[str, Any]) -> list[str]:
    return [
        _string(tag.get("term")) or _string(tag.get("label"))
        for tag in raw.get("tags") or []
        if isinstance(tag, Mapping)
    ]


def tagging_text(title: str, summary: str, content: str) -> str:
    """What ``match`` rules and language detection read: the title and the summary's
    text (or the start of the content when there is no summary), both sanitized HTML."""
    return f"{title}\n{sanitized_text(summary) or sanitized_text(content)[:500]}"


def tagging_fingerprint(taxonomy: Taxonomy, source_tags: Mapping[str, Iterable[str]]) -> str:
    """A hash of everything that decides tags, to know when stored tags are stale."""
    rules = [
        sorted(taxonomy.aliases.items()),
        list(taxonomy.rules),
        sorted((source, list(tags)) for source, tags in source_tags.items()),
    ]
    return hashlib.sha256(json.dumps(rules, ensure_ascii=False).encode("utf-8")).hexdigest()


def split_categories(labels: Iterable[str]) -> tuple[str, ...]:
    """Feed categories as single labels: ``"Politics, War"``, ``"News / Kyiv"`` and
    ``"a|b"`` split, ``#hashtag`` without its ``#``, whitespace collapsed, repeats gone."""
    parts = (
        _WHITESPACE.sub(" ", without_bidi_controls(clean_text(part))).strip().lstrip("#").strip()
        for label in labels
        for part in _CATEGORY_SEPARATORS.split(label)
    )
    return unique_tags(part for part in parts if part)


def entry_tags(
    categories: Iterable[str], source_tags: Iterable[str], taxonomy: Taxonomy, text: str
) -> tuple[str, ...]:
    """An entry's tags: its categories and its source's tags mapped to canonical tags,
    plus every canonical tag whose ``match`` rule finds ``text`` (title + summary). Rules
    match case-insensitively on NFKC-normalized text."""
    tags = [canonical_tag(label, taxonomy) for label in (*categories, *source_tags)]
    normalized = unicodedata.normalize("NFKC", text)
    tags += [
        canonical
        for canonical, pattern in taxonomy.rules
        if re.search(pattern, normalized, re.IGNORECASE)
    ]
    return unique_tags(tag for tag in tags if tag)


def canonical_tag(label: str, taxonomy: Taxonomy) -> str:
    """The canonical tag for ``label`` (any configured spelling, any case), else the label
    itself, cleaned."""
    cleaned = _WHITESPACE.sub(" ", clean_text(label)).strip()
    return taxonomy.aliases.get(tag_fold(cleaned), cleaned)


def _declared_languages(
    raw: Mapping[str, Any], feed_language: str | None, source: SourceConfig
) -> list[str | None]:
    details = [raw.get("title_detail"), raw.get("summary_detail"), *(raw.get("content") or [])]
    entry_languages = [
        _string(detail.get("language")) for detail in details if isinstance(detail, Mapping)
    ]
    # the admin's word on the edition beats what the feed's CMS declares
    return [*entry_languages, _string(raw.get("language")), source.language, feed_language]


def _entry_enclosures(raw: Mapping[str, Any]) -> tuple[Enclosure, ...]:
    enclosures: dict[str, Enclosure] = {}
    for item in raw.get("enclosures") or []:
        url = clean_link(_string(item.get("href"))) if isinstance(item, Mapping) else None
        if url and url not in enclosures:
            length = _string(item.get("length")).strip()
            enclosures[url] = Enclosure(
                url=url,
                type=clean_text(_string(item.get("type"))).strip() or None,
                length=int(length) if length.isascii() and length.isdigit() else None,
            )
    return tuple(enclosures.values())


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def unique_tags(values: Iterable[str]) -> tuple[str, ...]:
    """``values`` without repeats, comparing case- and Unicode-insensitively; the first
    spelling wins."""
    kept: dict[str, str] = {}
    for value in values:
        kept.setdefault(tag_fold(value), value)
    return tuple(kept.values())


def _own(raw: Mapping[str, Any], key: str) -> Any:
    """``raw[key]`` without feedparser's aliasing (its ``updated`` falls back to
    ``published`` with a DeprecationWarning)."""
    return dict.get(raw, key) if isinstance(raw, dict) else raw.get(key)


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""

