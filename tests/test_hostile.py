"""Hostile inputs (issue 8): every attack ends as a clear per-source error or a safe
result, within 10 s and under 300 MB, while the other sources of the same poll succeed;
the outputs built from such input are valid feeds with no active content.

How. A real aiohttp server on 127.0.0.1 (:class:`tests.feedserver.FeedServer`, extended
here with lazily streamed 1 GiB bodies) and a socket that accepts connections but never
answers serve every case. One config lists them all plus three good sources (RSS, Atom,
JSON Feed), and ONE ``refeed poll`` runs in a subprocess started in its own session, so
that its forkserver and pool workers are measured with it (and, should the poll overrun
its deadline, ended with it). Then ``refeed status --json``, ``refeed publish`` and the
SQLite timeline are checked case by case, and every output file is parsed. The one case
that cannot exist here — a *public* source redirecting to a private address — is tested
at the Fetcher level, with a subclass that takes the test server's origin for a public
one (:class:`PublicOrigin`).

Timing is bounded, not benchmarked: ``polling.timeout`` is 3 s so the drip and silent
servers end quickly, each source must end within the required 10 s (the elapsed time
``refeed poll`` prints for it: fetch, parse, normalize and store), and the whole poll has
a 30 s deadline, after which it is interrupted so that the other cases can still be
checked. Memory is sampled every 50 ms from /proc for every process of the poll's
session (the CLI, the forkserver, the workers): each one's peak RSS (VmHWM, which
sampling cannot miss) must stay under 300 MB; the peak of their summed PSS is reported.

What "active content" means (:func:`active_content`): in the HTML a feed carries (Atom
``type="html"``/``"xhtml"`` text constructs, RSS ``description`` and
``content:encoded``, JSON Feed ``content_html``), once the HTML is parsed — escaped markup
is text, and inert — there must be no element that runs script, loads a document, plugin
or stylesheet, or rewrites the page (script, style, link, meta, base, iframe, frame,
frameset, object, embed, applet, form, svg, math, template…), no ``on*`` event-handler
attribute, no ``srcdoc``, no ``style`` attribute with ``url()``, ``expression()``,
``behavior``, ``-moz-binding`` or ``@import``, no IE conditional comment, and no URL
attribute whose scheme — after removing whitespace and control characters, as browsers
do — is anything but http, https or mailto (relative URLs are fine). The feeds' own link
fields (Atom ``link/@href``, RSS ``link``/``guid``/``enclosure``, JSON ``url``,
``attachments``…) may only hold http(s) URLs (ids also ``urn:``/``tag:``). Plain-text
fields (titles, JSON summaries) are inert by their format's definition whatever they
contain, so ``&lt;script&gt;`` shown as text in a title is not active content.

Bidi controls: titles are plain text, and refeed already drops invisible control
characters from them. A title must not keep the explicit directional embeddings,
overrides and isolates (U+202A–U+202E, U+2066–U+2069): they make a reader display text in
an order other than its logical one ("Trojan Source" spoofing, CVE-2021-42574), and an
unterminated one spills into the reader's own interface. Balancing them would still
allow the spoofing, so the rule checked here is: stripped from titles, visible letters
kept. (Implicit marks such as U+200F RIGHT-TO-LEFT MARK are not such controls.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import feedparser
import lxml.html
import pytest
from aiohttp import web
from lxml import etree

from refeed.config import PollingConfig, SourceConfig
from refeed.fetch import Fetcher
from refeed.model import FetchResult, Validators
from refeed.storage import EntryQuery, Store
from tests.factories import read_data, write_config
from tests.feedserver import FeedServer, Request

# --- limits ------------------------------------------------------------------------------

TIMEOUT = 3  # polling.timeout, seconds
MAX_BYTES = 10_000_000  # polling.max_bytes ("10MB")
SOURCE_BOUND = 10.0  # seconds: each source must end within this (the requirement)
POLL_DEADLINE = 30.0  # seconds: the poll is interrupted (and then killed) after this
MEMORY_BOUND = 300_000_000  # bytes: the peak of any process of the poll
GIB = 2**30
ENTRY_LIMIT = 100_000  # entries of the "many entries" document
RSS_TYPE = "application/rss+xml; charset=utf-8"
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
LEAK_MARKERS = ("XXE-CANARY-LEAKED", "DTD-CANARY-LEAKED", "root:x:0:0")
EXPANSION = "BOOM" * 250  # an entity's replacement text: stored only if it was expanded

# --- documents ---------------------------------------------------------------------------

NAMESPACES = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def rss(items: str, title: str = "Hostile test channel", prolog: str = "",
        declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    """An RSS 2.0 document around ``items`` (a ``prolog`` such as a DOCTYPE goes before
    the root element)."""
    return (
        f"{declaration}\n{prolog}\n<rss version=\"2.0\" {NAMESPACES}><channel>"
        f"<title>{title}</title><link>http://hostile.example/</link>"
        f"<description>A hostile test feed</description>{items}</channel></rss>\n"
    )


def item(title: str, guid: str, description: str = "", extra: str = "") -> str:
    """One RSS ``<item>`` with a link derived from its guid."""
    return (
        f"<item><title>{title}</title><link>http://hostile.example/{guid}</link>"
        f"<guid isPermaLink=\"false\">{guid}</guid>"
        f"<pubDate>Sat, 03 Oct 2026 10:00:00 GMT</pubDate>"
        f"<description>{description}</description>{extra}</item>"
    )


def json_feed(items: list[dict[str, Any]], **feed: Any) -> bytes:
    """A JSON Feed 1.1 document (ASCII, so escapes such as lone surrogates survive)."""
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "Hostile JSON",
                "home_page_url": "http://hostile.example/", **feed, "items": items}
    return json.dumps(document).encode("ascii")


def billion_laughs() -> str:
    """Ten nested entities, each ten of the one before: 10^9 ``lol``s from 1 KB."""
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    prolog = "<!DOCTYPE rss [\n" + "\n".join(levels) + "\n]>"
    return rss(item("&lol9;", "laughs", "&lol9;"), prolog=prolog)


def quadratic(entity: str, references: int, hide: str = "",
              declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    """One large literal entity referenced many times ("quadratic blowup"); ``hide``
    wraps the declaration in text meant to hide it from a naive ``<!ENTITY`` scan."""
    before, after = {
        "": ("", ""),
        "pi": ("<?hide <!-- ?>", "<?hide --> ?>"),
        "attlist": ('<!ATTLIST rss hide CDATA "<!--">', '<!ATTLIST rss show CDATA "-->">'),
    }[hide]
    prolog = f'<!DOCTYPE rss [\n{before}\n<!ENTITY big "{entity}">\n{after}\n]>'
    return rss(item("Quadratic", "quadratic", "&big;" * references), prolog=prolog,
               declaration=declaration)


def external_entity(system_id: str) -> str:
    """XXE: an external general entity, used in a title and a description."""
    prolog = f'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "{system_id}">\n]>'
    return rss(item("XXE &xxe;", "xxe", "&xxe;"), prolog=prolog)


def parameter_entity(dtd_url: str) -> str:
    """An external parameter entity that would pull in more declarations."""
    prolog = (f'<!DOCTYPE rss [\n<!ENTITY % remote SYSTEM "{dtd_url}">\n%remote;\n'
              "%define;\n]>")
    return rss(item("Parameter &leak;", "param", "&leak;"), prolog=prolog)


def external_dtd(dtd_url: str) -> str:
    """No ``<!ENTITY`` in the document: an external DTD subset declares it."""
    return rss(item("Ext &ext; title", "ext-dtd", "&ext;"),
               prolog=f'<!DOCTYPE rss SYSTEM "{dtd_url}">')


def many_entries(count: int) -> bytes:
    """A small but valid RSS document with ``count`` items (a few MB)."""
    items = "".join(f"<item><title>Bulk {n}</title><guid>bulk-{n}</guid></item>"
                    for n in range(count))
    return rss(items, title="Bulk").encode()


@cache
def gzip_bomb(size: int = GIB) -> bytes:
    """``size`` zero bytes as one valid gzip member of about a thousandth of that, built
    without deflating them all: after a full flush deflate forgets its history, so every
    further 1 MiB of zeros compresses to the same bytes."""
    block = bytes(2**20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // len(block)):
        crc = zlib.crc32(block, crc)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty last block
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return first + repeat * (size // len(block) - 1) + final + trailer


XSS_HTML = (
    '<p onclick="alert(1)">Hello <script>alert("body")</script>'
    '<img src="http://img.example/a.png" onerror="alert(1)">'
    '<a href="javascript:alert(1)">js</a> <a href="JaVaScRiPt&#x3a;alert(2)">entity</a>'
    ' <a href="java&#x09;script:alert(3)">tab</a> <a href=" &#14;javascript:alert(4)">ws</a>'
    ' <a href="vbscript:msgbox(1)">vb</a>'
    ' <a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>'
    '<iframe src="javascript:alert(5)"></iframe><iframe srcdoc="&lt;script&gt;alert(6)'
    '&lt;/script&gt;"></iframe><object data="javascript:alert(7)"></object>'
    '<embed src="javascript:alert(8)"><form action="javascript:alert(9)">'
    '<button formaction="javascript:alert(10)">go</button></form>'
    '<meta http-equiv="refresh" content="0;url=javascript:alert(11)">'
    '<base href="javascript:alert(12)//"><link rel="stylesheet" href="http://evil.example/x.css">'
    '<div onmouseover="alert(13)">hover</div><body onload="alert(14)">'
    '<!--[if IE]><script>alert(15)</script><![endif]-->'
    '<a href="http://safe.example/ok">safe link</a> visible text</p>'
)
CSS_SVG_HTML = (
    "<style>body{background:url(javascript:alert(1))} @import 'http://evil.example/x.css';"
    "</style><div style=\"background-image:url(javascript:alert(2))\">css url</div>"
    "<div style=\"width:expression(alert(3))\">css expression</div>"
    "<div style=\"behavior:url(evil.htc);-moz-binding:url(http://evil.example/x.xml#x)\">"
    "binding</div><span style=\"color:red\">styled</span>"
    "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(4)\"><script>alert(5)</script>"
    "<animate onbegin=\"alert(6)\" attributeName=\"x\" dur=\"1s\"/>"
    "<a xlink:href=\"javascript:alert(7)\"><text>svg link</text></a>"
    "<foreignObject><iframe src=\"javascript:alert(8)\"></iframe></foreignObject>"
    "<use href=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoOSk+\"/></svg>"
    "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMTApPg==\" alt=\"svg\">"
    "<math><maction actiontype=\"statusline\" xlink:href=\"javascript:alert(11)\">m"
    "</maction></math><img src=\"http://img.example/b.png\" "
    "style=\"x:expression(alert(12))\"><p>Visible CSS text</p>"
)


def cdata(html: str) -> str:
    """``html`` in a CDATA section."""
    return f"<![CDATA[{html}]]>"


def xss_rss() -> str:
    """``<script>``, ``javascript:`` and ``onerror=`` in every field of an RSS feed."""
    hostile_item = (
        "<item><title>&lt;script&gt;alert('title')&lt;/script&gt;XSS RSS title "
        "&lt;img src=x onerror=alert(1)&gt;</title>"
        "<link>javascript:alert('link')</link>"
        "<guid isPermaLink=\"true\">javascript:alert('guid')</guid>"
        f"<description>{cdata(XSS_HTML)}</description>"
        f"<content:encoded>{cdata(XSS_HTML)}</content:encoded>"
        "<author>evil@example.com (&lt;script&gt;alert('author')&lt;/script&gt;)</author>"
        "<dc:creator>&lt;img src=x onerror=alert('creator')&gt;</dc:creator>"
        "<category>&lt;script&gt;alert('category')&lt;/script&gt;</category>"
        "<comments>javascript:alert('comments')</comments>"
        "<enclosure url=\"javascript:alert('enclosure')\" type=\"text/html\" length=\"1\"/>"
        "<source url=\"javascript:alert('source')\">&lt;script&gt;x&lt;/script&gt;</source>"
        "<pubDate>Sat, 03 Oct 2026 10:00:00 GMT</pubDate></item>"
        "<item><title>&lt;b onmouseover=\"alert(1)\"&gt;Bold&lt;/b&gt; second XSS</title>"
        "<link>http://hostile.example/xss-2?utm_source=x</link><guid>xss-2</guid>"
        "<description>&lt;img src=x onerror=alert(2)&gt;&lt;script&gt;alert(3)&lt;/script&gt;"
        "escaped markup</description></item>"
    )
    channel_title = "&lt;script&gt;alert('channel')&lt;/script&gt;Evil channel"
    return rss(hostile_item, title=channel_title)


def xss_atom() -> str:
    """The same in Atom, with an ``xhtml`` content and a ``javascript:`` xml:base."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:base="javascript:alert(0)//">'
        '<title type="html">&lt;script&gt;alert(1)&lt;/script&gt;Atom</title>'
        "<id>urn:hostile:atom</id><updated>2026-10-03T10:00:00Z</updated>"
        '<link rel="alternate" href="javascript:alert(2)"/>'
        '<entry><title type="html">&lt;img src=x onerror=alert(3)&gt;XSS Atom title'
        "&lt;script&gt;alert(4)&lt;/script&gt;</title>"
        "<id>javascript:alert('id')</id>"
        '<link rel="alternate" href="javascript:alert(5)"/>'
        '<link rel="enclosure" href="javascript:alert(6)" type="text/html"/>'
        "<updated>2026-10-03T10:00:00Z</updated>"
        "<author><name>&lt;script&gt;alert(7)&lt;/script&gt;</name>"
        "<uri>javascript:alert(8)</uri></author>"
        '<category term="&lt;script&gt;alert(9)&lt;/script&gt;" scheme="javascript:x"/>'
        f'<summary type="html">{XSS_HTML.replace("&", "&amp;").replace("<", "&lt;")}</summary>'
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        "<script>alert('xhtml')</script><img src=\"http://img.example/c.png\" "
        "onerror=\"alert(10)\"/><a href=\"javascript:alert(11)\">x</a>"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(12)\"/>"
        "<a href=\"relative/path\">relative</a> xhtml text</div></content></entry>"
        '<entry><title>Relative links under a javascript: base</title>'
        "<id>urn:hostile:atom-2</id><link href=\"story/2\"/>"
        "<updated>2026-10-03T11:00:00Z</updated>"
        '<content type="html">&lt;a href="story/3"&gt;relative&lt;/a&gt; '
        '&lt;img src="pic.png"&gt; text</content></entry></feed>\n'
    )


def xss_json() -> bytes:
    """The same in JSON Feed: ``content_html``, URLs, authors, tags, attachments."""
    return json_feed(
        [
            {"id": "javascript:alert('id')", "url": "javascript:alert('url')",
             "external_url": "javascript:alert('external')",
             "title": "<script>alert('title')</script>XSS JSON title",
             "content_html": XSS_HTML, "summary": "<img src=x onerror=alert(1)>",
             "image": "javascript:alert('image')", "banner_image": "javascript:alert(2)",
             "date_published": "2026-10-03T10:00:00Z",
             "authors": [{"name": "<script>alert(3)</script>", "url": "javascript:alert(4)",
                          "avatar": "javascript:alert(5)"}],
             "tags": ["<script>alert('tag')</script>"],
             "attachments": [{"url": "javascript:alert('attachment')",
                              "mime_type": "text/html"}]},
            {"id": "xss-json-2", "url": "http://hostile.example/json-2",
             "title": "Plain text content", "date_published": "2026-10-03T11:00:00Z",
             "content_text": "<script>alert('text')</script> as text"},
        ],
        home_page_url="javascript:alert('home')", icon="javascript:alert('icon')",
    )


def rtl_titles() -> str:
    """Titles with RTL overrides, embeddings and isolates around real RTL text."""
    titles = [
        "Invoice \u202egpj.exe\u202c received",  # the classic spoofed file name
        "Unterminated \u202eoverride spills over",
        "\u2067\u05e9\u05dc\u05d5\u05dd\u2069 isolate \u202b\u0639\u0631\u0628\u064a",
        "Embed \u202aleft\u202c \u202dforce\u202c \u2066i\u2069 \u2068f\u2069 end",
    ]
    return rss("".join(item(title, f"rtl-{n}") for n, title in enumerate(titles)))


DATE_FIELDS = {
    "year-9999": "Fri, 31 Dec 9999 23:59:59 GMT",
    "year-9999-west": "Fri, 31 Dec 9999 23:59:59 -1400",
    "year-1900": "Mon, 01 Jan 1900 00:00:00 GMT",
    "year-0001": "Mon, 01 Jan 0001 00:00:00 +1400",
    "no-date": "not a date at all",
    "feb-30": "Mon, 30 Feb 2026 10:00:00 GMT",
}
JSON_DATES = {
    "year-9999": "9999-12-31T23:59:59Z",
    "year-9999-west": "9999-12-31T23:59:59-14:00",
    "year-1900": "1900-01-01T00:00:00Z",
    "year-0001": "0001-01-01T00:00:00+14:00",
    "no-date": "not a date at all",
    "feb-30": "2026-02-30T10:00:00Z",
}


def dates_rss() -> str:
    """Items dated in the year 9999 (also pushed past it by a time zone), 1900, 1, and
    dates that are no dates."""
    return rss("".join(
        f"<item><title>Dated {name}</title><guid>date-{name}</guid>"
        f"<link>http://hostile.example/date/{name}</link><pubDate>{stamp}</pubDate></item>"
        for name, stamp in DATE_FIELDS.items()
    ))


def dates_json() -> bytes:
    """The same dates in a JSON Feed."""
    return json_feed([
        {"id": f"date-{name}", "url": f"http://hostile.example/json-date/{name}",
         "title": f"Dated {name}", "content_text": "dated", "date_published": stamp}
        for name, stamp in JSON_DATES.items()
    ])


def control_characters() -> bytes:
    """XML-illegal control characters, raw and as character references (a NUL too, far
    from the start so the document is not taken for UTF-16)."""
    filler = "<!-- " + "padding " * 200 + "-->"
    items = (
        item("Bell\x07 and \x1bescape\x01 title", "ctl-1",
             "<![CDATA[<p>Back\x08space \x0b\x0c form feed</p>]]>")
        + item("Char &#x1; reference &#x1F; title", "ctl-2", "text &#x0; nul ref")
        + item("Nul \x00 byte title", "ctl-3", "nul")
    )
    return rss(filler + items).encode()


def lone_surrogates_xml() -> bytes:
    """Lone surrogates as character references and as raw (CESU-8) bytes."""
    body = rss(item("Lone &#xD800; surrogate &#xDFFF; title", "sur-1", "ref &#xDC00;")
               + item("Raw SURROGATE bytes title", "sur-2", "raw SURROGATE here"))
    return body.encode().replace(b"SURROGATE", b"\xed\xa0\x80")


def charrefs_out_of_range() -> str:
    """Character references past U+10FFFF, and past any machine integer."""
    return rss(item("Beyond &#x110000; Unicode title", "ref-1", "huge &#99999999999; ref")
               + item("Normal title next to them", "ref-2", "normal"))


def lone_surrogates_json() -> bytes:
    """Lone surrogates in every string of a JSON Feed item (JSON may escape them)."""
    return json_feed([{
        "id": "sur-\ud800-1", "url": "http://hostile.example/sur/\udfff",
        "title": "Lone \ud800 surrogate \udfff JSON title",
        "content_html": "<p>Content \udc00 here</p>", "summary": "Summary \ud83d",
        "date_published": "2026-10-03T10:00:00Z", "tags": ["tag\ud800"],
        "authors": [{"name": "Author \udbff"}],
    }])


def huge_title() -> str:
    """A 1 MB title of distinct words (no cheap repetition for the text fingerprints)."""
    words = " ".join(f"w{n:06d}" for n in range(145_000))
    return rss(item(f"Huge {words} end", "huge-title", "A normal description")
               + item("Normal neighbour title", "huge-title-2", "normal"))


def invalid_utf8() -> bytes:
    """Declared UTF-8, with bytes that are not UTF-8."""
    body = rss(item("Invalid BAD UTF-8 TRUNC title", "bad-utf8", "BAD description"))
    return body.encode().replace(b"BAD", b"\xff\xfe").replace(b"TRUNC", b"\xc3\x28")


def charset_mismatch() -> bytes:
    """Served as UTF-8, declared and written as windows-1251."""
    declaration = '<?xml version="1.0" encoding="windows-1251"?>'
    return rss(item("Новини дня", "cp1251", "Текст новини"),
               declaration=declaration).encode("cp1251")


def charset_unknown() -> bytes:
    """A charset nobody knows, in the header and the declaration; the bytes are UTF-8."""
    declaration = '<?xml version="1.0" encoding="x-no-such-charset"?>'
    return rss(item("Café ☕ title", "unknown-charset", "ok"),
               declaration=declaration).encode()


def html_page() -> str:
    """An HTML page (with a script and feed autodiscovery) where a feed was expected."""
    return ('<!DOCTYPE html><html><head><title>Not a feed</title>'
            '<link rel="alternate" type="application/rss+xml" href="/feed.xml">'
            "<script>alert(1)</script></head><body><h1>Welcome</h1></body></html>")


# --- the server ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """A body generated while it is sent: ``size`` bytes, with or without a declared
    Content-Length (without: chunked)."""

    size: int
    declare_length: bool


class HostileServer(FeedServer):
    """A FeedServer that also streams huge bodies lazily and counts what it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.streams: dict[str, Stream] = {}
        self.sent: dict[str, int] = {}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        stream = self.streams.get(request.path)
        if stream is None:
            return await super()._handle(request)
        self.requests.append(Request(request.path, dict(request.headers)))
        return await self._stream(request, stream)

    async def _stream(self, request: web.Request, stream: Stream) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
        if stream.declare_length:
            response.content_length = stream.size
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        head = rss("").split("</channel>")[0].encode()
        block = b" " * 65536
        sent = 0
        try:
            await response.write(head)
            sent = len(head)
            while sent < stream.size:
                chunk = block[: stream.size - sent]
                await response.write(chunk)
                sent += len(chunk)
                self.sent[request.path] = sent
            await response.write_eof()
        except ConnectionError:
            pass  # the client hung up: that is the point
        return response


@dataclass
class SilentSocket:
    """A listening socket on 127.0.0.1 that never accepts: the kernel completes the
    handshakes, and no byte ever comes back."""

    sock: socket.socket = field(default_factory=socket.socket)

    def start(self) -> SilentSocket:
        """Listen on a free port."""
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        return self

    def url(self, path: str) -> str:
        """An URL on this socket."""
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/{path}"


# --- the cases -----------------------------------------------------------------------------

# the classic attacks, then the same declarations where a byte-level "<!ENTITY" scan does
# not see them but feedparser does: in UTF-7 and EBCDIC (which feedparser decodes by
# itself), and behind a "<!--" inside a processing instruction or a quoted default value
ENTITY_CASES = ("billion-laughs", "quadratic", "xxe-file", "xxe-http", "parameter-entity",
                "billion-laughs-utf16", "quadratic-utf7", "quadratic-ebcdic",
                "quadratic-hidden-pi", "quadratic-hidden-attlist")
FAILING = {  # source id → what its error must say
    "huge-declared": "exceeds max_bytes",
    "huge-chunked": "exceeds max_bytes",
    "gzip-bomb": "exceeds max_bytes",
    "drip": f"timed out after {TIMEOUT}s",
    "never-answers": f"timed out after {TIMEOUT}s",
    "redirect-loop": "more than 5 redirects",
    "redirects-20": "more than 5 redirects",
    "redirect-to-file": "redirect to a non-web url refused",
    "html-page": "not an rss, atom or json feed",
    "empty-body": "empty document",
}
CONTENT = ("invalid-utf8", "charset-mismatch", "charset-unknown", "charset-lie",
           "control-chars", "surrogates-xml", "surrogates-json", "charrefs-out-of-range",
           "huge-title", "dates-rss", "dates-json", "xss-rss", "xss-atom", "xss-json",
           "css-svg", "rtl-titles")
GOOD = {"good-rss": 3, "good-atom": 1, "good-json": 1}  # source id → new entries at least


def serve_cases(server: HostileServer, silent: SilentSocket) -> dict[str, str]:
    """Register every case on ``server``; returns source id → URL."""
    canary = server.url("canary")
    server.serve("canary/xxe.txt", "XXE-CANARY-LEAKED", content_type="text/plain")
    server.serve("canary/pe.dtd", '<!ENTITY % define "<!ENTITY leak \'DTD-CANARY-LEAKED\'>">',
                 content_type="application/xml-dtd")
    server.serve("canary/ext.dtd", '<!ENTITY ext "DTD-CANARY-LEAKED">',
                 content_type="application/xml-dtd")
    utf7 = quadratic(EXPANSION, 1000, declaration='<?xml version="1.0" encoding="utf-7"?>')
    ebcdic = quadratic(EXPANSION, 1000, declaration='<?xml version="1.0" encoding="cp037"?>')
    bodies: dict[str, tuple[bytes | str, dict[str, Any]]] = {
        "billion-laughs": (billion_laughs(), {}),
        "quadratic": (quadratic("A" * 20_000, 5_000), {}),
        "xxe-file": (external_entity("file:///etc/passwd"), {}),
        "xxe-http": (external_entity(f"{canary}/xxe.txt"), {}),
        "parameter-entity": (parameter_entity(f"{canary}/pe.dtd"), {}),
        "billion-laughs-utf16": (
            billion_laughs().replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16"),
            {"content_type": "application/rss+xml; charset=utf-16"}),
        "quadratic-utf7": (utf7.encode("utf-7").replace(b"<!ENTITY", b"+ADwAIQ-ENTITY"),
                           {"content_type": "application/rss+xml; charset=utf-7"}),
        "quadratic-ebcdic": (ebcdic.encode("cp037"), {"content_type": "application/xml"}),
        "quadratic-hidden-pi": (quadratic(EXPANSION, 1000, hide="pi"), {}),
        "quadratic-hidden-attlist": (quadratic(EXPANSION, 1000, hide="attlist"), {}),
        "external-dtd": (external_dtd(f"{canary}/ext.dtd"), {}),
        "gzip-bomb": (gzip_bomb(), {"headers": {"Content-Encoding": "gzip"}}),
        "drip": (rss(item("Drip", "drip")), {"drip": 1.0, "validators": False}),
        "redirect-to-file": (b"", {"redirect": "file:///etc/passwd"}),
        "html-page": (html_page(), {"content_type": "text/html; charset=utf-8"}),
        "empty-body": (b"", {}),
        "invalid-utf8": (invalid_utf8(), {}),
        "charset-mismatch": (charset_mismatch(), {}),
        "charset-unknown": (charset_unknown(),
                            {"content_type": "application/rss+xml; charset=x-no-such-charset"}),
        "charset-lie": (rss(item("Новини дня", "lie", "текст")).encode(),
                        {"content_type": "application/rss+xml; charset=iso-8859-1"}),
        "control-chars": (control_characters(), {}),
        "surrogates-xml": (lone_surrogates_xml(), {}),
        "surrogates-json": (lone_surrogates_json(), {"content_type": "application/feed+json"}),
        "charrefs-out-of-range": (charrefs_out_of_range(), {}),
        "huge-title": (huge_title(), {}),
        "many-entries": (many_entries(ENTRY_LIMIT), {}),
        "dates-rss": (dates_rss(), {}),
        "dates-json": (dates_json(), {"content_type": "application/feed+json"}),
        "xss-rss": (xss_rss(), {}),
        "xss-atom": (xss_atom(), {"content_type": "application/atom+xml"}),
        "xss-json": (xss_json(), {"content_type": "application/feed+json"}),
        "css-svg": (rss(item("CSS and SVG payloads", "css-svg", cdata(CSS_SVG_HTML))), {}),
        "rtl-titles": (rtl_titles(), {}),
        "good-rss": (read_data("up-en.xml"), {}),
        "good-atom": (read_data("wire.atom"), {"content_type": "application/atom+xml"}),
        "good-json": (read_data("wire.json"), {"content_type": "application/feed+json"}),
    }
    urls = {case: server.serve(f"case/{case}", body, **options)
            for case, (body, options) in bodies.items()}
    server.streams["/case/huge-declared"] = Stream(GIB, declare_length=True)
    server.streams["/case/huge-chunked"] = Stream(GIB, declare_length=False)
    urls["huge-declared"] = server.url("case/huge-declared")
    urls["huge-chunked"] = server.url("case/huge-chunked")
    urls["never-answers"] = silent.url("feed.xml")
    server.serve("loop/a", redirect=server.url("loop/b"))
    server.serve("loop/b", redirect=server.url("loop/a"))
    urls["redirect-loop"] = server.url("loop/a")
    server.serve("hops/target.xml", read_data("up-en.xml"))
    for hop in range(20, 0, -1):
        following = server.url(f"hops/{hop + 1}") if hop < 20 else server.url("hops/target.xml")
        server.serve(f"hops/{hop}", redirect=following)
    urls["redirects-20"] = server.url("hops/1")
    return urls


# --- running refeed ------------------------------------------------------------------------


def session_members(session: int) -> list[int]:
    """The pids of the processes in ``session`` (Linux /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended meanwhile
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp session
        if int(fields[3]) == session:
            members.append(int(entry.name))
    return members


def memory_of(pid: int) -> tuple[int, int]:
    """(PSS, peak RSS) of ``pid`` in bytes; zeros when it has gone."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    pss = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
    hwm = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
    return (int(pss.group(1)) * 1024 if pss else 0), (int(hwm.group(1)) * 1024 if hwm else 0)


class MemorySampler(threading.Thread):
    """Samples every process of a session every 50 ms: the peak of their summed PSS, and
    each process's peak RSS."""

    def __init__(self, session: int) -> None:
        super().__init__(daemon=True)
        self.session = session
        self.peak_pss = 0
        self.peak_rss: dict[int, int] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Sample until :meth:`stop`."""
        while not self._stop_event.wait(0.05):
            total = 0
            for pid in session_members(self.session):
                pss, hwm = memory_of(pid)
                total += pss
                self.peak_rss[pid] = max(self.peak_rss.get(pid, 0), hwm)
            self.peak_pss = max(self.peak_pss, total)

    def stop(self) -> None:
        """End the sampling thread."""
        self._stop_event.set()
        self.join()


@dataclass
class PollRun:
    """How the one poll went."""

    returncode: int | None  # None: it overran POLL_DEADLINE and was stopped
    stdout: str
    stderr: str
    seconds: float
    peak_pss: int
    peak_rss: dict[int, int]


def refeed_command(config: Path, *args: str) -> list[str]:
    """The command line of the real ``refeed`` CLI."""
    return [sys.executable, "-m", "refeed", "-c", str(config), *args]


def run_poll(config: Path) -> PollRun:
    """``refeed poll`` in its own session, measured. Past POLL_DEADLINE it is interrupted
    (twice: the second SIGINT breaks into a long synchronous store), which makes refeed
    commit what it stored; then whatever is left of its session is killed."""
    started = time.monotonic()
    with subprocess.Popen(refeed_command(config, "poll"), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, start_new_session=True) as process:
        sampler = MemorySampler(process.pid)
        sampler.start()
        try:
            stdout, stderr = process.communicate(timeout=POLL_DEADLINE)
            returncode: int | None = process.returncode
        except subprocess.TimeoutExpired:
            returncode = None
            stdout, stderr = interrupt(process)
        finally:
            sampler.stop()
            end_session(process.pid)
    return PollRun(returncode, stdout, stderr, time.monotonic() - started,
                   sampler.peak_pss, sampler.peak_rss)


def interrupt(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Ctrl-C ``process`` twice, give it a few seconds to commit and exit, then kill its
    session; returns its output."""
    for _ in range(2):
        process.send_signal(signal.SIGINT)
        try:
            return process.communicate(timeout=3)
        except subprocess.TimeoutExpired:
            continue
    end_session(process.pid)
    return process.communicate()


def end_session(session: int) -> None:
    """Kill whatever is left of the session this test started (pool workers included)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(session, signal.SIGKILL)


def refeed_output(config: Path, *args: str) -> str:
    """Run a quick ``refeed`` command; it must exit 0."""
    done = subprocess.run(refeed_command(config, *args), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


POLL_LINE = re.compile(
    r"^(?P<id>[a-z0-9-]+)\s+(?P<status>ok|failed|not-modified)\s+\S+\s+new (?P<new>\d+)"
    r"\s+updated \d+\s+dup \d+\s+(?P<elapsed>\d+\.\d+)s", re.M,
)


@dataclass
class Outcome:
    """Everything the checks read: the poll, the status of every source, its stored
    entries, the published files and what the servers saw."""

    poll: PollRun
    status: dict[str, dict[str, Any]]
    elapsed: dict[str, float]  # source id → seconds, from the poll's own report
    entries: dict[str, list[dict[str, Any]]]
    files: dict[str, bytes]
    server: HostileServer
    started: datetime


def stored_entries(database: Path) -> dict[str, list[dict[str, Any]]]:
    """Every stored entry (duplicates too), by source id."""
    store = Store.open(database)
    try:
        rows = store.entries(EntryQuery(limit=10 * ENTRY_LIMIT, include_duplicates=True))
    finally:
        store.close()
    by_source: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_source.setdefault(row["source_id"], []).append(row)
    return by_source


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    """Serve every case, poll them all at once with the real CLI, then publish."""
    directory = tmp_path_factory.mktemp("hostile")
    server = HostileServer()
    server.start()
    silent = SilentSocket().start()
    try:
        urls = serve_cases(server, silent)
        content_ids = [*CONTENT, "many-entries", *ENTITY_CASES, "external-dtd", *GOOD]
        config = write_config(directory, {
            "site": {"title": "Hostile", "base_url": "http://127.0.0.1:9/", "languages": ["en"]},
            "polling": {"timeout": f"{TIMEOUT}s", "max_bytes": "10MB", "concurrency": 100,
                        "per_host": 100},
            # dedup off for the hostile sources: their payloads look alike, and each must
            # reach its own output
            "sources": [{"id": case, "url": url} | ({} if case in GOOD else {"dedup": False})
                        for case, url in urls.items()],
            # every case's entries reach an output of their own, in every format
            "publish": {"feeds": [{"id": f"only-{case}", "sources": [case], "limit": 100}
                                  for case in content_ids]},
        })
        started = datetime.now(UTC)
        poll = run_poll(config)
        status = {item["id"]: item for item in json.loads(refeed_output(config, "status",
                                                                        "--json"))}
        refeed_output(config, "publish")  # the poll published too, unless it was stopped
        output_dir = directory / "feeds"
        files = {str(path.relative_to(output_dir)): path.read_bytes()
                 for path in sorted(output_dir.rglob("*"))
                 if path.is_file() and not path.name.startswith(".")}  # not the manifest
        elapsed = {match["id"]: float(match["elapsed"])
                   for match in POLL_LINE.finditer(poll.stdout)}
        yield Outcome(poll, status, elapsed, stored_entries(directory / "refeed.db"), files,
                      server, started)
    finally:
        silent.sock.close()
        server.stop()


# --- what "active" and "valid" mean ---------------------------------------------------------

ACTIVE_ELEMENTS = frozenset({
    "script", "style", "link", "meta", "base", "iframe", "frame", "frameset", "object",
    "embed", "applet", "form", "button", "input", "textarea", "select", "svg", "math",
    "template", "portal", "animate", "set", "handler", "listener", "foreignobject", "use",
    "maction", "xml", "import", "noscript", "plaintext", "xmp", "marquee", "bgsound",
})
URL_ATTRIBUTES = frozenset({
    "href", "src", "action", "formaction", "xlink:href", "poster", "background", "lowsrc",
    "dynsrc", "data", "codebase", "cite", "longdesc", "usemap", "ping", "manifest", "icon",
    "profile", "classid", "archive",
})
SAFE_HTML_SCHEMES = frozenset({"", "http", "https", "mailto"})
SAFE_LINK_SCHEMES = frozenset({"http", "https"})
SAFE_ID_SCHEMES = frozenset({"http", "https", "urn", "tag"})
ACTIVE_CSS = re.compile(r"url\s*\(|expression\s*\(|behavior\s*:|-moz-binding|@import|script:",
                        re.I)


def url_scheme(url: str) -> str:
    """The scheme a browser would see in ``url``: whitespace and control characters
    anywhere are removed first (``java\\tscript:`` is ``javascript:``); "" if relative."""
    cleaned = "".join(char for char in url if char > " " and char != "\x7f")
    matched = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
    return matched.group(1).lower() if matched else ""


def active_attributes(tag: str, attributes: Mapping[str, str]) -> list[str]:
    """The active attributes of one element (see the module docstring)."""
    problems = []
    for name, value in attributes.items():
        lowered = name.lower()
        if lowered.startswith("on") or lowered == "srcdoc":
            problems.append(f"<{tag} {name}=...>")
        elif lowered == "style" and ACTIVE_CSS.search(value):
            problems.append(f"<{tag} style={value!r}>")
        elif lowered in URL_ATTRIBUTES and url_scheme(value) not in SAFE_HTML_SCHEMES:
            problems.append(f"<{tag} {name}={value!r}>")
        elif lowered == "srcset" and any(
            url_scheme(candidate.strip().split(" ")[0]) not in SAFE_HTML_SCHEMES
            for candidate in value.split(",")
        ):
            problems.append(f"<{tag} srcset={value!r}>")
    return problems


def active_content(html: str, page: bool = False) -> list[str]:
    """What is active in the HTML fragment ``html`` (a whole page when ``page``: its own
    ``<style>``, autodiscovery ``<link rel="alternate">`` and charset/viewport ``<meta>``
    are allowed there); empty when it is inert."""
    if not html.strip():
        return []
    root = lxml.html.document_fromstring(html) if page else lxml.html.fragment_fromstring(
        html, create_parent="div")
    problems = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            text = element.text or ""
            if text.lstrip().startswith("[if"):
                problems.append(f"conditional comment {text[:40]!r}")
            continue
        tag = element.tag.lower().rsplit(":", 1)[-1]
        attributes = dict(element.attrib)
        if page and _allowed_in_page(tag, attributes, element.text or ""):
            continue
        if tag in ACTIVE_ELEMENTS:
            problems.append(f"<{tag}>")
        problems += active_attributes(tag, attributes)
    return problems


def _allowed_in_page(tag: str, attributes: Mapping[str, str], text: str) -> bool:
    """refeed's own index page elements that are not active content."""
    if tag == "style":
        return not ACTIVE_CSS.search(text)
    if tag == "link":
        return attributes.get("rel") == "alternate" and url_scheme(
            attributes.get("href", "")) in SAFE_HTML_SCHEMES
    if tag == "meta":
        return "charset" in attributes or attributes.get("name") == "viewport"
    return False


ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
ATOM_TEXT = frozenset(f"{ATOM}{name}" for name in ("title", "subtitle", "summary", "content",
                                                   "rights"))


@dataclass
class Fields:
    """The parts of an output document the checks look at."""

    html: list[str] = field(default_factory=list)  # HTML carried by the feed
    links: list[str] = field(default_factory=list)  # URLs a reader follows
    ids: list[str] = field(default_factory=list)  # entry / feed ids
    titles: list[str] = field(default_factory=list)  # entry titles (plain text)


def atom_fields(root: Any) -> Fields:
    """The fields of an Atom document (see :class:`Fields`)."""
    fields = Fields()
    for element in root.iter():
        if element.tag in ATOM_TEXT:
            kind = element.get("type", "text")
            if kind == "xhtml":
                fields.html += [etree.tostring(child, encoding="unicode") for child in element]
            elif kind != "text":
                fields.html.append(element.text or "")
            elif element.tag == f"{ATOM}title" and element.getparent().tag == f"{ATOM}entry":
                fields.titles.append(element.text or "")
        elif element.tag == f"{ATOM}link":
            fields.links.append(element.get("href", ""))
        elif element.tag in (f"{ATOM}uri", f"{ATOM}icon", f"{ATOM}logo"):
            fields.links.append(element.text or "")
        elif element.tag == f"{ATOM}id":
            fields.ids.append(element.text or "")
        if element.tag == f"{ATOM}content" and element.get("src") is not None:
            fields.links.append(element.get("src"))
    return fields


def rss_fields(root: Any) -> Fields:
    """The fields of an RSS 2.0 document (see :class:`Fields`)."""
    fields = Fields()
    for element in root.iter():
        if element.tag in ("description", CONTENT_ENCODED):
            fields.html.append(element.text or "")
        elif element.tag in ("link", "comments", "docs", "url"):
            fields.links.append(element.text or "")
        elif element.tag == "guid":
            target = fields.ids if element.get("isPermaLink") == "false" else fields.links
            target.append(element.text or "")
        elif element.tag in ("enclosure", "source"):
            fields.links.append(element.get("url", ""))
        elif element.tag == f"{ATOM}link":
            fields.links.append(element.get("href", ""))
        elif element.tag == "title" and element.getparent().tag == "item":
            fields.titles.append(element.text or "")
    return fields


def json_fields(document: Mapping[str, Any]) -> Fields:
    """The fields of a JSON Feed document (see :class:`Fields`)."""
    fields = Fields()
    fields.links += [document[key] for key in ("home_page_url", "feed_url") if key in document]
    for entry in document["items"]:
        fields.ids.append(entry["id"])
        fields.titles.append(entry.get("title", ""))
        fields.html.append(entry.get("content_html", ""))
        fields.links += [entry[key] for key in ("url", "external_url", "image", "banner_image")
                         if key in entry]
        fields.links += [attachment["url"] for attachment in entry.get("attachments", [])]
        for author in entry.get("authors", []):
            fields.links += [author[key] for key in ("url", "avatar") if key in author]
        extension = entry.get("_refeed", {})
        fields.links += [copy["url"] for copy in extension.get("seen_in", []) if copy["url"]]
    return fields


def output_fields(path: str, data: bytes) -> Fields:
    """Parse one output file strictly and return its fields; raises if it is invalid."""
    if path.endswith(".json"):
        document = json.loads(data.decode("utf-8"))  # strict UTF-8: no lone surrogates
        assert document["version"] == "https://jsonfeed.org/version/1.1"
        assert all(isinstance(entry["id"], str) and isinstance(entry["content_html"], str)
                   for entry in document["items"])
        return json_fields(document)
    root = etree.fromstring(data, SAFE_XML)
    parsed: Any = feedparser.parse(data)
    assert not parsed.bozo, f"{path}: {parsed.get('bozo_exception')}"
    return atom_fields(root) if path.endswith(".atom") else rss_fields(root)


def problems_in(fields: Fields) -> list[str]:
    """Active content and unsafe links among ``fields``."""
    problems = [problem for html in fields.html for problem in active_content(html)]
    problems += [f"link {link!r}" for link in fields.links
                 if url_scheme(link) not in SAFE_LINK_SCHEMES]
    problems += [f"id {value!r}" for value in fields.ids
                 if url_scheme(value) not in SAFE_ID_SCHEMES]
    problems += [f"title with bidi controls {title[:60]!r}" for title in fields.titles
                 if BIDI_CONTROLS & set(title)]
    return problems


# --- the poll as a whole ---------------------------------------------------------------------


def test_the_poll_ends_and_records_every_source(outcome: Outcome) -> None:
    """The poll finished by itself within its deadline (every source ended), exit 0."""
    assert outcome.poll.returncode == 0, (
        f"refeed poll did not finish within {POLL_DEADLINE:g}s; sources never recorded: "
        f"{sorted(s for s, item in outcome.status.items() if item['last_fetch'] is None)}; "
        f"stderr: {outcome.poll.stderr[-2000:]}"
    )
    assert set(outcome.elapsed) == set(outcome.status)
    assert [s for s, item in outcome.status.items() if item["last_fetch"] is None] == []


def source_seconds(outcome: Outcome, source: str) -> float | None:
    """How long ``source`` took: as ``refeed poll`` reports it (fetch, parse, normalize,
    store); if the poll was stopped, at most the time from the poll's start to when the
    source was recorded (CLI start-up included); ``None`` if it never ended."""
    if source in outcome.elapsed:
        return outcome.elapsed[source]
    recorded = outcome.status[source]["last_fetch"]
    if recorded is None:
        return None
    return (datetime.fromisoformat(recorded) - outcome.started).total_seconds()


def test_every_source_ends_within_ten_seconds(outcome: Outcome) -> None:
    seconds = {source: source_seconds(outcome, source) for source in outcome.status}
    late = {source: value for source, value in seconds.items()
            if value is None or value > SOURCE_BOUND}
    assert late == {}, "sources that took over 10 s (None: never ended)"


def test_the_poll_stays_under_300_mb(outcome: Outcome) -> None:
    """No process of the poll — the CLI, the forkserver, a worker — peaks at 300 MB (peak
    RSS, the measure ``RUSAGE_CHILDREN`` gives; workers included). The summed PSS of all
    of them is reported too: a benign poll's pool alone holds about 245 MB of it on
    2 cores (each worker loads its language models), so that total grows with the number
    of cores whatever the input is, and is not what a hostile input must stay under."""
    assert outcome.poll.peak_rss, "no process of the poll was sampled"
    largest = max(outcome.poll.peak_rss.values())
    assert largest < MEMORY_BOUND, (
        f"a process peaked at {largest / 1e6:.0f} MB (peak RSS per process: "
        f"{sorted(round(rss / 1e6) for rss in outcome.poll.peak_rss.values())} MB; all "
        f"together, PSS: {outcome.poll.peak_pss / 1e6:.0f} MB)")


@pytest.mark.parametrize(("source", "count"), GOOD.items())
def test_good_sources_succeed_next_to_the_hostile_ones(
    outcome: Outcome, source: str, count: int
) -> None:
    state = outcome.status[source]
    assert (state["state"], state["error"]) == ("ok", None)
    assert state["entries"] >= count
    if source == "good-rss":
        assert {row["title"] for row in outcome.entries[source]} == {
            "Zelenskyy: negotiations in Istanbul will resume next week",
            "Putin orders new mobilisation wave",
            "Kyiv metro reopens after repairs",
        }


# --- cases that must fail, clearly -----------------------------------------------------------


def text_of(rows: Sequence[Mapping[str, Any]]) -> str:
    """All the text of stored entries, as JSON (binary columns left out)."""
    return json.dumps(rows, ensure_ascii=False, default=lambda _value: None)


def failing_with(outcome: Outcome, source: str, expected: str) -> None:
    """``source`` is recorded as failing, its error says ``expected``, nothing stored."""
    state = outcome.status[source]
    assert state["last_fetch"] is not None, f"{source} was never recorded"
    assert state["state"] == "failing", state
    assert expected.lower() in (state["error"] or "").lower(), state["error"]
    assert state["entries"] == 0


@pytest.mark.parametrize(("source", "expected"), FAILING.items())
def test_hostile_source_fails_with_a_clear_error(
    outcome: Outcome, source: str, expected: str
) -> None:
    failing_with(outcome, source, expected)


@pytest.mark.parametrize("source", ENTITY_CASES)
def test_entity_attacks_are_refused_or_defused(outcome: Outcome, source: str) -> None:
    """Refused as a document declaring entities — or, at least, stored without any
    expansion and without anything fetched or read for it."""
    state = outcome.status[source]
    assert state["last_fetch"] is not None, f"{source} was never recorded"
    stored = text_of(outcome.entries.get(source, []))
    assert EXPANSION[:40] not in stored, f"{source}: the entity was expanded and stored"
    assert "lollollol" not in stored
    assert "A" * 1000 not in stored
    failing_with(outcome, source, "entities")


def test_external_entities_and_dtds_are_never_fetched(outcome: Outcome) -> None:
    """No canary was requested; no leaked text is stored or published anywhere."""
    canaries = [request.path for request in outcome.server.requests
                if request.path.startswith("/canary/")]
    assert canaries == []
    stored = text_of([row for rows in outcome.entries.values() for row in rows])
    published = b"".join(outcome.files.values()).decode("utf-8", "replace")
    for marker in LEAK_MARKERS:
        assert marker not in stored
        assert marker not in published
    state = outcome.status["external-dtd"]  # no <!ENTITY in it: a safe result is enough
    assert state["last_fetch"] is not None
    assert state["state"] == "failing" or state["entries"] >= 1, state


def test_huge_bodies_are_not_read_past_the_cap(outcome: Outcome) -> None:
    """The lazily generated 1 GiB bodies: refeed stopped reading early (the server counts
    what it could hand to the socket, the cap plus kernel buffers at most)."""
    assert outcome.server.sent.get("/case/huge-declared", 0) < 100 * 2**20
    assert outcome.server.sent.get("/case/huge-chunked", 0) < 100 * 2**20
    assert outcome.server.requests_to("hops/target.xml") == []  # 20 redirects: not reached


# --- content oddities: stored, and safe ------------------------------------------------------


def stored(outcome: Outcome, source: str) -> list[dict[str, Any]]:
    """The stored entries of a source that must have succeeded."""
    state = outcome.status[source]
    assert state["last_fetch"] is not None, f"{source} was never recorded"
    assert (state["state"], state["error"]) == ("ok", None), state
    rows = outcome.entries.get(source, [])
    assert rows, f"{source}: nothing stored"
    assert state["entries"] == len(rows)
    return rows


def titles_of(outcome: Outcome, source: str) -> set[str]:
    """The stored titles of ``source``."""
    return {row["title"] for row in stored(outcome, source)}


def stored_problems(row: Mapping[str, Any]) -> list[str]:
    """Active content, unsafe links and unencodable text in one stored entry."""
    problems = [f"{name}: {problem}" for name in ("summary", "content")
                for problem in active_content(row[name] or "")]
    if row["link"] is not None and url_scheme(row["link"]) not in SAFE_LINK_SCHEMES:
        problems.append(f"link {row['link']!r}")
    texts = [str(row[name] or "") for name in ("title", "summary", "content", "link")]
    texts += [*row["authors"], *row["tags"]]
    problems += [f"XML-illegal character {char!r}"
                 for char in sorted(set(XML_ILLEGAL.findall("".join(texts))))]
    return problems


@pytest.mark.parametrize("source", CONTENT)
def test_odd_content_is_stored_safely(outcome: Outcome, source: str) -> None:
    rows = stored(outcome, source)
    assert [problem for row in rows for problem in stored_problems(row)] == []
    check = CHECKS.get(source)
    if check is not None:
        check(outcome, rows)


def check_invalid_utf8(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> None:
    """Bytes that are not UTF-8 in a UTF-8 document: decoded some way, text kept."""
    assert [row["title"][:7] for row in rows] == ["Invalid"]


def check_charset_mismatch(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> None:
    """Served as UTF-8 but windows-1251: the document's own declaration is the fallback."""
    assert [row["title"] for row in rows] == ["Новини дня"]


def check_charset_unknown(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> None:
    """An unknown charset name: UTF-8 is the fallback."""
    assert [row["title"] for row in rows] == ["Café ☕ title"]


def check_control_characters(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> None:
    """Control characters are dropped; the visible text stays."""
    titles = " | ".join(sorted(row["title"] for row in rows))
    for word in ("Bell", "escape", "reference", "Nul"):
        assert word in titles, titles
    assert len(rows) == 3


def check_surrogates(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> None:
    """No lone surrogate is stored; the text around it is."""
    titles = " ".join(row["title"] for row in rows)
    assert "surrogate" in titles or "SURROGATE" in titles or "Lone" in titles, titles
    assert not re.search("[\ud800-\udfff]", text_of(rows))


def check_charrefs(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> None:
    """Impossible character references are dropped (or replaced); the text around stays."""
    titles = {row["title"] for row in rows}
    assert "Normal title next to them" in titles
    assert any(title.startswith("Beyond") and title.endswith("Unicode title")
               for title in titles), titles


def check_huge_title(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> None:
    """The 1 MB title is stored (whole or shortened), next to its normal neighbour."""
    titles = {row["title"] for row in rows}
    assert "Normal neighbour title" in titles
    assert any(title.startswith("Huge w000000 w000001") for title in titles)


def check_dates(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> None:
    """Every date ends as a real UTC instant no later than the poll: the year 9999 is
    clamped, 1900 is kept, impossible dates fall back to when the entry was seen."""
    assert len(rows) == len(DATE_FIELDS)
    latest = datetime.now(UTC) + timedelta(seconds=1)
    by_name = {row["title"].removeprefix("Dated "): row for row in rows}
    for name, row in by_name.items():
        published = datetime.fromisoformat(row["published"])
        assert published <= latest, (name, row["published"])
        assert datetime.fromisoformat(row["updated"]) <= latest, (name, row["updated"])
    assert by_name["year-9999"]["published"] >= outcome.started.strftime("%Y-%m-%dT%H:%M:%S")
    assert by_name["year-1900"]["published"] == "1900-01-01T00:00:00Z"


def check_xss(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> None:
    """Hostile markup is gone and the harmless text around it kept."""
    text = " ".join(f"{row['summary']} {row['content']}" for row in rows)
    assert "visible text" in text or "xhtml text" in text or "as text" in text, text[:500]
    assert all(row["link"] is None or row["link"].startswith("http") for row in rows)


def check_css_svg(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> None:
    """Stylesheets, CSS URLs and SVG are gone; the plain text stays."""
    (row,) = rows
    assert "Visible CSS text" in (row["summary"] or "") + (row["content"] or "")


def check_rtl(outcome: Outcome, rows: Sequence[Mapping[str, Any]]) -> None:
    """Directional overrides, embeddings and isolates are stripped from titles; the
    letters (Latin, Hebrew, Arabic) are all kept."""
    titles = {row["title"] for row in rows}
    assert [title for title in titles if BIDI_CONTROLS & set(title)] == []
    joined = " ".join(titles)
    for word in ("Invoice", "gpj.exe", "override spills over", "\u05e9\u05dc\u05d5\u05dd",
                 "\u0639\u0631\u0628\u064a", "left", "force"):
        assert word in joined, joined


CHECKS: dict[str, Callable[[Outcome, Sequence[Mapping[str, Any]]], None]] = {
    "invalid-utf8": check_invalid_utf8,
    "charset-mismatch": check_charset_mismatch,
    "charset-unknown": check_charset_unknown,
    "control-chars": check_control_characters,
    "surrogates-xml": check_surrogates,
    "surrogates-json": check_surrogates,
    "charrefs-out-of-range": check_charrefs,
    "huge-title": check_huge_title,
    "dates-rss": check_dates,
    "dates-json": check_dates,
    "xss-rss": check_xss,
    "xss-atom": check_xss,
    "xss-json": check_xss,
    "css-svg": check_css_svg,
    "rtl-titles": check_rtl,
}


def test_one_hundred_thousand_entries_end_within_bounds(outcome: Outcome) -> None:
    """All 100,000 stored, or a clear cap: fewer stored and a warning saying so (or a
    clear error about the number of entries)."""
    state = outcome.status["many-entries"]
    assert state["last_fetch"] is not None, "the 100,000-entry source never ended"
    if state["state"] == "failing":
        assert re.search(r"entries|items", state["error"] or ""), state["error"]
    elif state["entries"] < ENTRY_LIMIT:
        assert re.search(r"entries|items", state["warning"] or ""), state
    else:
        assert state["entries"] == ENTRY_LIMIT


# --- the outputs -------------------------------------------------------------------------------


def test_outputs_are_valid_feeds_without_active_content(outcome: Outcome) -> None:
    """Every published Atom/RSS file is well-formed XML that feedparser reads without a
    complaint, every JSON Feed strict UTF-8 JSON; none carries active content, an unsafe
    link or a title with bidi controls; index.html and outputs.opml are inert too."""
    feeds = {path: data for path, data in outcome.files.items()
             if path.endswith((".atom", ".rss", ".json"))}
    assert {f"only-{case}.{fmt}" for case in ("xss-rss", "xss-atom", "xss-json", "css-svg",
                                              "rtl-titles") for fmt in ("atom", "rss", "json")
            } <= set(feeds)
    problems = {}
    for path, data in feeds.items():
        found = problems_in(output_fields(path, data))
        if found:
            problems[path] = found
    index = outcome.files["index.html"].decode("utf-8")
    problems["index.html"] = active_content(index, page=True)
    opml = etree.fromstring(outcome.files["outputs.opml"], SAFE_XML)
    problems["outputs.opml"] = [url for element in opml.iter() for name in ("xmlUrl", "htmlUrl")
                                if (url := element.get(name)) is not None
                                and url_scheme(url) not in SAFE_LINK_SCHEMES]
    assert {path: found for path, found in problems.items() if found} == {}


def test_hostile_entries_reach_the_outputs(outcome: Outcome) -> None:
    """The checks above are not vacuous: the hostile entries are in their outputs."""
    expected = {"xss-rss": 2, "xss-atom": 2, "xss-json": 2, "css-svg": 1, "rtl-titles": 4,
                "dates-rss": 6, "dates-json": 6, "surrogates-xml": 2, "surrogates-json": 1,
                "control-chars": 3, "huge-title": 2, "charrefs-out-of-range": 2}
    listed = {case: len(json.loads(outcome.files[f"only-{case}.json"])["items"])
              for case in expected}
    assert listed == expected


# --- a public source redirecting to a private address -----------------------------------------


class PublicOrigin(Fetcher):
    """A Fetcher that takes one origin (the test server's ``127.0.0.1:port``) for a
    public address — the only thing that cannot exist without the internet — and
    records every request it starts; a request to any host but 127.0.0.1 is stopped
    before it connects (refused, so it can only fail), so nothing leaves this machine."""

    def __init__(self, polling: PollingConfig, public_netloc: str) -> None:
        super().__init__(polling)
        self.public_netloc = public_netloc
        self.requested: list[str] = []

    async def __aenter__(self) -> PublicOrigin:
        await super().__aenter__()
        guard = aiohttp.TraceConfig()
        guard.on_request_start.append(self._on_request_start)
        guard.freeze()
        assert self._session is not None
        self._session.trace_configs.append(guard)
        return self

    async def _on_request_start(self, _session: aiohttp.ClientSession, _context: object,
                                params: aiohttp.TraceRequestStartParams) -> None:
        self.requested.append(str(params.url))
        if params.url.host != "127.0.0.1":
            raise ConnectionRefusedError(f"test guard: no request beyond 127.0.0.1 ({params.url})")

    async def _is_private(self, url: str) -> bool:
        if urlsplit(url).netloc == self.public_netloc:
            return False
        return await super()._is_private(url)


PRIVATE_TARGETS = {
    "loopback": "http://127.0.0.1:{canary}/internal",
    "loopback-short-form": "http://127.1:{canary}/internal",
    "loopback-as-integer": "http://2130706433:{canary}/internal",
    "localhost": "http://localhost:{canary}/internal",
    "ipv6-loopback": "http://[::1]:{canary}/internal",
    "cloud-metadata": "http://169.254.169.254/latest/meta-data/",
    "cloud-metadata-ipv4-mapped": "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "cloud-metadata-scheme-relative": "//169.254.169.254/latest/meta-data/",
    "ten-net": "http://10.0.0.1/",
    "ten-net-top": "http://10.255.255.254:8080/admin",
}


def test_public_source_cannot_redirect_to_private_addresses(
    feed_server: FeedServer,
) -> None:
    """From a public source, every spelling of loopback, link-local (cloud metadata) and
    10.0.0.0/8 is refused before any request is made — directly, and after a first hop
    to another public URL — while a public redirect and a good source of the same
    Fetcher succeed."""
    canary = HostileServer().start()
    try:
        canary.serve("internal", "INTERNAL-SECRET", content_type="text/plain")
        sources = {}
        for name, target in PRIVATE_TARGETS.items():
            location = target.format(canary=canary.port)
            sources[name] = feed_server.serve(f"redirect/{name}", redirect=location)
        feed_server.serve("hop/metadata", redirect="http://169.254.169.254/latest/meta-data/")
        sources["two-hops"] = feed_server.serve("redirect/two-hops",
                                                redirect=feed_server.url("hop/metadata"))
        feed_server.serve("feed.xml", read_data("up-en.xml"))
        sources["public-redirect"] = feed_server.serve("redirect/public",
                                                       redirect=feed_server.url("feed.xml"))
        sources["good"] = feed_server.url("feed.xml")
        polling = PollingConfig(timeout=timedelta(seconds=TIMEOUT))
        fetcher = PublicOrigin(polling, f"127.0.0.1:{feed_server.port}")
        results = asyncio.run(fetch_all(fetcher, sources))
        assert canary.requests == []
    finally:
        canary.stop()
    for name in (*PRIVATE_TARGETS, "two-hops"):
        error = results[name].error
        assert error is not None, name
        assert "redirect to a private address refused" in error.message, (name, error)
    assert [url for url in fetcher.requested
            if urlsplit(url).netloc != f"127.0.0.1:{feed_server.port}"] == []
    for name in ("public-redirect", "good"):
        assert results[name].error is None, results[name].error
        assert results[name].body == read_data("up-en.xml")


async def fetch_all(fetcher: Fetcher, sources: Mapping[str, str]) -> dict[str, FetchResult]:
    """Fetch every source concurrently through ``fetcher``, as a poll does."""
    async with fetcher:
        results = await asyncio.gather(*(
            fetcher.fetch(SourceConfig(id=name, url=url), Validators())
            for name, url in sources.items()
        ))
    return dict(zip(sources, results, strict=True))
