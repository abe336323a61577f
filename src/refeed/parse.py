"""Turn fetched bytes into a :class:`ParsedFeed`: feedparser for RSS/Atom/RDF, our own
reader for JSON Feed 1.0/1.1, both yielding feedparser-shaped dictionaries.

Safety comes first: a document over the byte cap or declaring ``<!ENTITY`` is refused
before any parser sees it (feedparser's loose parser expands literal entities
quadratically), and feedparser always receives a byte stream — never a string it might
take for a URL or a path.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from feedparser.encodings import convert_to_utf8

from refeed.errors import ParseError
from refeed.model import ParsedFeed
from refeed.prescan import prescan
from refeed.text import clean_text

MAX_ENTRIES = 1000  # entries read from one document (the first ones: feeds list newest first)

_JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/(?P<number>[0-9.]+)$")
_COMMENTS_AND_CDATA = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>", re.S)
_FIRST_ELEMENT = re.compile(rb"<[^\W\d]")
# numeric character references long enough to name a surrogate or a code point past
# U+10FFFF (shorter ones are always fine): feedparser raises on those and loses the feed
_LONG_CHARREF = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]{4,})|0*([0-9]{5,}));")


def parse_document(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    max_bytes: int,
    known: Collection[str] = (),
    salt: str = "",
) -> ParsedFeed:
    """Parse ``body`` as served from ``url`` with response ``headers``; items whose digest
    (under ``salt``) is in ``known`` are skipped unparsed (see :mod:`refeed.prescan`).

    Raises :class:`ParseError` for oversized, empty, entity-declaring, non-feed and
    hopelessly broken documents; a broken feed that still yields entries is returned with
    ``warning`` set.
    """
    if len(body) > max_bytes:
        raise ParseError(f"document of {len(body)} bytes exceeds the {max_bytes}-byte cap", url)
    if not body.strip():
        raise ParseError("empty document", url)
    lowered = {name.lower(): value for name, value in headers.items()}
    if declares_entities(_as_feedparser_reads(body, lowered)):
        raise ParseError("document declares XML entities (<!ENTITY), refused for safety", url)
    scan = prescan(body, url, known, salt, MAX_ENTRIES)
    if _looks_like_json(scan.body, lowered.get("content-type", "")):
        parsed = parse_json_feed(scan.body, url)
    else:
        parsed = _parse_xml_feed(scan.body, lowered, url, scan.skipped)
    if scan.dropped or len(parsed.entries) > MAX_ENTRIES:
        listed = scan.dropped + len(parsed.entries) + scan.skipped
        note = f"the document lists {listed} entries; only the first {MAX_ENTRIES} are read"
        parsed = replace(parsed, entries=parsed.entries[:MAX_ENTRIES],
                         warning=f"{parsed.warning}; {note}" if parsed.warning else note)
    return replace(parsed, digests=scan.digests, skipped=scan.skipped)


def declares_entities(body: bytes) -> bool:
    """True when the document has ``<!ENTITY`` anywhere before its first element, or
    anywhere after it outside comments and CDATA — in any encoding: UTF-16/32 markup is
    ASCII once its NUL bytes are dropped. Nothing is stripped before the first element:
    a ``<!--`` inside a processing instruction or a quoted default would hide the
    declaration that follows it."""
    if b"\x00" in body[:1024]:
        body = body.replace(b"\x00", b"")
    first = _FIRST_ELEMENT.search(body)
    if b"<!ENTITY" in body[: first.start() if first else len(body)]:
        return True
    text = _COMMENTS_AND_CDATA.sub("", body.decode("latin-1"))  # ASCII-compatible view
    return "<!ENTITY" in text


def _as_feedparser_reads(body: bytes, headers: Mapping[str, str]) -> bytes:
    """``body`` in UTF-8 as feedparser will decode it — the text the entity check must
    see (UTF-7, EBCDIC… hide markup from a byte-level look); the body itself when it is
    not text feedparser can decode."""
    try:
        return bytes(convert_to_utf8({"content-type": "application/xml", **headers}, body, {}))
    except (LookupError, ValueError):
        return body


def _possible_character(reference: re.Match[bytes]) -> bytes:
    """A character reference as it is, or U+FFFD's when it names no XML character."""
    hexadecimal, decimal = reference.groups()
    code = int(hexadecimal, 16) if hexadecimal else int(decimal)
    return b"&#xFFFD;" if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF else reference[0]


def _looks_like_json(body: bytes, content_type: str) -> bool:
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return start in (b"{", b"[") or ("json" in content_type.lower() and start != b"<")


def _parse_xml_feed(
    body: bytes, headers: dict[str, str], url: str, skipped: int = 0
) -> ParsedFeed:
    # a relative Content-Location is relative to the URL the document came from; without a
    # Content-Type feedparser flags every document (bozo), so assume generic XML as a plain
    # static server would
    base = _absolute(url, headers.get("content-location")) or url
    response_headers = {"content-type": "application/xml", **headers, "content-location": base}
    result = feedparser.parse(
        io.BytesIO(_LONG_CHARREF.sub(_possible_character, body)),
        response_headers=response_headers,
        sanitize_html=False,  # normalize sanitizes once, with nh3
        resolve_relative_uris=False,  # nh3 does it there too, from each element's base
    )
    problem = result.get("bozo_exception") if result.get("bozo") else None
    if not result.get("version"):
        reason = f": {type(problem).__name__}: {problem}" if problem else ""
        raise ParseError(f"not an RSS, Atom or JSON feed{reason}", url)
    entries: Sequence[Mapping[str, Any]] = result.get("entries", [])
    if problem is not None and not entries and not skipped:  # skipped: known items
        raise ParseError(f"broken feed with no entries: {type(problem).__name__}: {problem}", url)
    warning = f"{type(problem).__name__}: {problem}" if problem is not None else None
    return ParsedFeed(result["version"], result.get("feed", {}), entries, warning)


def parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    """Read a JSON Feed 1.0/1.1 document into feedparser-shaped dictionaries."""
    try:
        document = _clean_strings(json.loads(body))
    except (ValueError, UnicodeDecodeError) as error:
        raise ParseError(f"invalid JSON: {error}", url) from None
    version = document.get("version") if isinstance(document, dict) else None
    matched = _JSON_FEED_VERSION.match(version) if isinstance(version, str) else None
    if matched is None:
        raise ParseError("JSON document is not a JSON Feed (no jsonfeed.org version)", url)
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed has no items list", url)
    base = _string(document.get("feed_url")) or url
    feed_authors = _json_authors(document)
    feed = {
        "title": _string(document.get("title")),
        "link": _absolute(base, document.get("home_page_url")),
        "subtitle": _string(document.get("description")),
        "language": _string(document.get("language")),
        "authors": feed_authors,
    }
    entries = [_json_item(item, base, feed_authors) for item in items if isinstance(item, dict)]
    return ParsedFeed(f"json{matched['number'].replace('.', '')}", feed, entries)


def _clean_strings(value: Any) -> Any:
    """``value`` (parsed JSON) with XML-illegal characters removed from every string (JSON
    escapes can spell lone surrogates)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean_strings(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(key): _clean_strings(item) for key, item in value.items()}
    return value


def _json_item(
    item: Mapping[str, Any], base: str, feed_authors: list[dict[str, str]]
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": _string(item.get("id")) or None,
        "link": _absolute(base, item.get("url") or item.get("external_url")),
        "title": _string(item.get("title")),
        "summary": _string(item.get("summary")),
        "summary_detail": {"type": "text/plain"},  # JSON Feed summaries are plain text
        "authors": _json_authors(item) or feed_authors,  # items inherit the feed's authors
        "tags": [{"term": tag} for tag in item.get("tags") or [] if isinstance(tag, str)],
        "language": _string(item.get("language")) or None,
        "enclosures": [
            {"href": _absolute(base, attachment.get("url")),
             "type": _string(attachment.get("mime_type")),
             "length": str(attachment.get("size_in_bytes") or "")}
            for attachment in item.get("attachments") or []
            if isinstance(attachment, dict) and attachment.get("url")
        ],
        "content": _json_content(item, base),
    }
    for field, key in (("published", "date_published"), ("updated", "date_modified")):
        stamp = _string(item.get(key))
        entry[field] = stamp
        entry[f"{field}_parsed"] = _rfc3339_to_struct(stamp)
    return entry


def _json_content(item: Mapping[str, Any], base: str) -> list[dict[str, str]]:
    if isinstance(item.get("content_html"), str):
        item_base = _absolute(base, item.get("url")) or base
        return [{"type": "text/html", "value": item["content_html"], "base": item_base}]
    if isinstance(item.get("content_text"), str):
        return [{"type": "text/plain", "value": item["content_text"]}]
    return []


def _json_authors(node: Mapping[str, Any]) -> list[dict[str, str]]:
    raw = node.get("authors")
    authors = raw if isinstance(raw, list) else [node.get("author")]  # 1.0: one "author"
    return [
        {"name": _string(author.get("name"))}
        for author in authors
        if isinstance(author, dict) and _string(author.get("name"))
    ]


def _rfc3339_to_struct(stamp: str) -> time.struct_time | None:
    if not stamp:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        try:  # not RFC 3339 as the spec demands; RFC 822 dates are common in the wild
            moment = parsedate_to_datetime(stamp)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).timetuple()
    except OverflowError:  # 9999-12-31T23:59:59-14:00 is past datetime.max in UTC
        return None


def _absolute(base: str, link: object) -> str:
    """``link`` resolved against ``base``; ``""`` when missing or malformed."""
    if not isinstance(link, str) or not link:
        return ""
    try:
        return urljoin(base, link)
    except ValueError:  # e.g. "http://[::1/x": an unclosed IPv6 literal
        return ""


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""
