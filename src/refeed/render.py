"""PURE: entries → Atom 1.0 / RSS 2.0 (feedgen) / JSON Feed 1.1 bytes; OPML; index HTML.

The same entries always give the same bytes (feed ``updated`` is the newest entry's, never
"now"), so an unchanged output keeps its ETag. Entry ids are stable forever, derived from
the source id and the entry's original key. Two feedgen shortcomings are worked around
on the Atom tree: entry ``<link>`` loses ``rel``/``type``/``length`` (feedgen's entry code
shadows a variable) and there is no per-entry ``xml:lang``. A document is its header
(feedgen) followed by its entries' bytes, each rendered once however many outputs list
it (:func:`entry_fragments`, :func:`assemble`); :func:`split_document` finds them again
in a document, so a publish can reuse the entries that did not change.
"""

from __future__ import annotations

import hashlib
import html
import json
import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar
from xml.etree import ElementTree

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from refeed import PROJECT_URL, __version__
from refeed.model import Entry
from refeed.normalize import sanitized_text
from refeed.select import Output

MEDIA_TYPES: dict[str, str] = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
FORMAT_NAMES: dict[str, str] = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OCTET_STREAM = "application/octet-stream"  # RSS requires a type for every enclosure
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ENTRY_ID_NAMESPACE = uuid.UUID("6f1d3a52-4c1e-5b0b-9a51-2f0f0c9e7d11")
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass(frozen=True)
class SourceInfo:
    """What an output says about the source an entry came from."""

    id: str
    title: str
    url: str


@dataclass(frozen=True)
class FeedInfo:
    """Everything about one output file except its entries."""

    output: Output
    base_url: str
    site_title: str
    sources: Mapping[str, SourceInfo]
    hub: str | None = None  # a WebSub hub that subscribers may use

    def url(self, fmt: str) -> str:
        """The absolute URL of this output in format ``fmt``."""
        return feed_url(self.base_url, self.output.path, fmt)

    @property
    def language(self) -> str | None:
        """The output's language when it lists exactly one."""
        languages = self.output.languages
        return languages[0] if len(languages) == 1 else None


def feed_url(base_url: str, path: str, fmt: str) -> str:
    """``http://host/`` + ``tag/putin/en`` + ``atom`` → ``http://host/tag/putin/en.atom``."""
    return f"{base_url}{path}.{fmt}"


def entry_uid(entry: Entry) -> str:
    """The output id of an entry: a UUID derived from its source id and original key,
    identical in every output, format, re-render and restart."""
    return uid(entry.source_id, entry.key)


# An entry is listed by several outputs, in every format: its id is asked for again and
# again within one publish. 65,536 ids held ~20 MiB in a daemon for good; 16,384 ~4 MiB.
@lru_cache(maxsize=16384)
def uid(source_id: str, key: str) -> str:
    """The output id of the entry ``key`` of source ``source_id`` (see :func:`entry_uid`):
    ``uuid5`` of both, computed without building a ``UUID`` (a third of the time)."""
    digest = bytearray(hashlib.sha1(_ENTRY_ID_NAMESPACE.bytes
                                    + f"{source_id}\n{key}".encode()).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"urn:uuid:{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


Key = TypeVar("Key", bound=Hashable)


def entry_fragments(fmt: str, info: FeedInfo, entries: Mapping[Key, Entry]) -> dict[Key, bytes]:
    """Each of ``entries`` rendered as it appears inside any document in ``fmt`` of
    ``info``'s site: its bytes between its feed's header and the next entry (see
    :func:`assemble`). Depends on the entry and the site's sources only."""
    if not entries:
        return {}
    if fmt == "json":
        return {key: _json_fragment(_json_item(entry, info)) for key, entry in entries.items()}
    root = _entry_elements(fmt, info, list(entries.values()))
    etree.indent(root)
    document = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                    pretty_print=True))
    fragments = split_document(fmt, document)
    assert fragments is not None
    return dict(zip(entries, fragments, strict=True))


def _entry_elements(fmt: str, info: FeedInfo, entries: Sequence[Entry]) -> etree._Element:
    """A document of ``entries``: each ``<entry>`` (Atom, with the fixes feedgen needs)
    or ``<item>`` (RSS) built by feedgen, without rendering a feed and parsing it back."""
    if fmt == "rss":  # under the channel feedgen writes, for its namespace prefixes
        root = etree.fromstring(bytes(_feed_header(info, fmt, EPOCH).rss_str()), _SAFE_XML)
        parent = root.find("channel")
        assert parent is not None
    else:  # feedgen's Atom elements have no namespace: its feed declares it as text
        root = parent = etree.Element("feed")
    for entry in entries:
        item = FeedEntry()
        _add_entry(item, entry, info)
        parent.append(item.rss_entry() if fmt == "rss"
                      else _fixed_atom_entry(item.atom_entry(), entry, info))
    return root


def assemble(fmt: str, info: FeedInfo, updated: datetime, fragments: Sequence[bytes]) -> bytes:
    """The output document of ``info`` in ``fmt`` listing the entries rendered as
    ``fragments`` (see :func:`entry_fragments`; ``updated``: the newest entry's)."""
    head, tail = _empty_document(fmt, info, updated)
    if fmt == "json":
        if not fragments:
            return head + b"[]" + tail
        return head + b"[\n" + b",\n".join(fragments) + b"\n]" + tail
    return head + b"".join(fragments) + tail


# Where a document's entries are: between the header and the closing tags, each entry
# from its opening tag (indented) to its closing tag and newline. Feed text is escaped,
# so these bytes are never part of an entry's text; in JSON, where an item is one line.
_OPENING = {"atom": b"  <entry", "rss": b"    <item>"}
_CLOSING = {"atom": b"</entry>\n", "rss": b"</item>\n"}
_TAIL = {"atom": b"</feed>\n", "rss": b"  </channel>\n</rss>\n", "json": b"}\n"}


def split_document(fmt: str, document: bytes) -> list[bytes] | None:
    """The entry fragments of a document :func:`assemble` made, in order; ``None`` when
    ``document`` is not one."""
    if fmt == "json":
        lines = document.split(b"\n")
        if lines[1:] == [b""] and lines[0].endswith(b'"items":[]}'):
            return []
        if len(lines) < 4 or not lines[0].endswith(b"[") or lines[-2:] != [b"]}", b""]:
            return None
        items = lines[1:-2]
        if not all(item.endswith(b",") for item in items[:-1]):
            return None
        return [item[:-1] for item in items[:-1]] + [items[-1]]
    opening, closing = _OPENING[fmt], _CLOSING[fmt]
    start = document.find(b"\n" + opening) + 1
    if start == 0:
        return [] if document.endswith(_TAIL[fmt]) else None
    fragments = []
    while document.startswith(opening, start):
        end = document.find(closing, start)
        if end < 0:
            return None
        end += len(closing)
        fragments.append(document[start:end])
        start = end
    return fragments if document[start:] == _TAIL[fmt] else None


def _empty_document(fmt: str, info: FeedInfo, updated: datetime) -> tuple[bytes, bytes]:
    """The document of ``info`` in ``fmt`` without entries, cut where they go."""
    if fmt == "json":
        document = _json_document(info)
        return document[:-2] + b',"items":', b"}\n"
    header = _feed_header(info, fmt, updated)
    if fmt == "rss":
        root = etree.fromstring(bytes(header.rss_str()), _SAFE_XML)
        channel = root.find("channel")
        assert channel is not None
        _add_rss_hub(channel, info.hub)
    else:
        root = etree.fromstring(bytes(header.atom_str()), _SAFE_XML)
    etree.indent(root)
    document = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                    pretty_print=True))
    tail = _TAIL[fmt]
    assert document.endswith(tail)
    return document[:-len(tail)], tail


def _add_rss_hub(channel: etree._Element, hub: str | None) -> None:
    """feedgen's RSS writes only the self ``atom:link``: add the WebSub hub's."""
    if hub is None:
        return
    self_link = channel.find(f"{ATOM}link")
    hub_link = etree.Element(f"{ATOM}link", {"href": hub, "rel": "hub"})
    position = list(channel).index(self_link) + 1 if self_link is not None else 0
    channel.insert(position, hub_link)


def _feed_header(info: FeedInfo, fmt: str, updated: datetime) -> FeedGenerator:
    """A feedgen generator holding the feed's own elements, no entries yet."""
    generator = FeedGenerator()
    generator.id(info.url("atom"))
    generator.title(info.output.title or info.output.path)  # feeds require a title
    # RSS readers render a channel description as HTML; Atom's subtitle is plain text
    subtitle = _subtitle(info)
    generator.subtitle(html.escape(subtitle) if fmt == "rss" else subtitle)
    generator.author({"name": info.site_title})
    # self first: feedgen's RSS channel <link> is the last link added, which must be the site
    generator.link(href=info.url(fmt), rel="self", type=MEDIA_TYPES[fmt])
    if info.hub and fmt == "atom":
        generator.link(href=info.hub, rel="hub")
    generator.link(href=info.base_url, rel="alternate", type="text/html")
    generator.generator("refeed", __version__, PROJECT_URL)
    if info.language:
        generator.language(info.language)
    generator.updated(updated)
    generator.lastBuildDate(updated)
    return generator


def _subtitle(info: FeedInfo) -> str:
    return f"{info.output.title}, republished by refeed from {len(info.sources)} sources"


def _add_entry(item: FeedEntry, entry: Entry, info: FeedInfo) -> None:
    uid = entry_uid(entry)
    item.id(uid)
    item.guid(uid, permalink=False)
    item.title(entry_title(entry))
    if entry.link:
        item.link(href=entry.link)
    item.published(entry.published)
    item.updated(entry.updated)
    if entry.summary:
        item.summary(entry.summary, type="html")
    # Atom needs content or an alternate link; RSS an item needs a title or a description
    body = entry.content or ("" if entry.link else entry.summary or html.escape(entry_title(entry)))
    if body:
        item.content(body, type="html")
    for author in entry.authors:
        item.author({"name": author})
    for tag in entry.tags:
        item.category(term=tag)
    for enclosure in entry.enclosures[:1]:  # RSS allows one; Atom gets all (see below)
        item.enclosure(enclosure.url, str(enclosure.length or 0), enclosure.type or OCTET_STREAM)
    source = info.sources.get(entry.source_id)
    if source is not None:
        item.source(url=source.url, title=source.title)


def entry_title(entry: Entry) -> str:
    """The entry's title, or the start of its text when it has none (Atom requires one)."""
    if entry.title:
        return entry.title
    text = sanitized_text(entry.summary or entry.content)
    return (text[:80] + "…" if len(text) > 80 else text) or "(untitled)"


def _fixed_atom_entry(element: etree._Element, entry: Entry, info: FeedInfo) -> etree._Element:
    """feedgen's Atom ``element`` of ``entry`` with its links rebuilt (feedgen drops their
    rel/type/length), the entry's ``xml:lang`` and ``rel="related"`` links to where else
    the story appeared."""
    for link in element.findall("link"):
        element.remove(link)
    position = list(element).index(element.find("updated")) + 1
    for offset, attributes in enumerate(_atom_links(entry, info)):
        element.insert(position + offset, etree.Element("link", attributes))
    if entry.language:
        element.set(XML_LANG, entry.language)
    return element


def _atom_links(entry: Entry, info: FeedInfo) -> list[dict[str, str]]:
    links = [{"rel": "alternate", "type": "text/html", "href": entry.link}] if entry.link else []
    links += [
        {"rel": "related", "type": "text/html", "href": link, "title": _source_title(info, sid)}
        for sid, link in entry.seen_in
        if link
    ]
    for enclosure in entry.enclosures:
        attributes = {"rel": "enclosure", "href": enclosure.url}
        if enclosure.type:
            attributes["type"] = enclosure.type
        if enclosure.length:
            attributes["length"] = str(enclosure.length)
        links.append(attributes)
    return links


def _json_document(info: FeedInfo) -> bytes:
    """The JSON Feed document of ``info`` without ``items``."""
    document: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": info.output.title,
        "home_page_url": info.base_url,
        "feed_url": info.url("json"),
        "description": _subtitle(info),
        "authors": [{"name": info.site_title}],
    }
    if info.hub:
        document["hubs"] = [{"type": "WebSub", "url": info.hub}]
    if info.language:
        document["language"] = info.language
    return _json_fragment(document) + b"\n"


def _json_fragment(value: dict[str, Any]) -> bytes:
    # compact: json's C encoder is not used with indent, and a feed reader needs no
    # spaces; one item a line (JSON strings escape newlines), so items can be found again
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _json_item(entry: Entry, info: FeedInfo) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry_uid(entry), "title": entry_title(entry)}
    if entry.link:
        item["url"] = entry.link
    item["content_html"] = entry.content or entry.summary or html.escape(entry.title)
    if entry.summary:
        item["summary"] = sanitized_text(entry.summary)
    item["date_published"] = entry.published.isoformat()
    item["date_modified"] = entry.updated.isoformat()
    if entry.authors:
        item["authors"] = [{"name": name} for name in entry.authors]
    if entry.tags:
        item["tags"] = list(entry.tags)
    if entry.language:
        item["language"] = entry.language
    if entry.enclosures:
        item["attachments"] = [
            {"url": e.url, "mime_type": e.type or OCTET_STREAM}
            | ({"size_in_bytes": e.length} if e.length else {})
            for e in entry.enclosures
        ]
    extension: dict[str, Any] = {}
    source = info.sources.get(entry.source_id)
    if source is not None:
        extension["source"] = {"id": source.id, "title": source.title, "url": source.url}
    if entry.seen_in:
        extension["seen_in"] = [
            {"source": sid, "title": _source_title(info, sid), "url": link or None}
            for sid, link in entry.seen_in
        ]
    if extension:
        item["_refeed"] = extension
    return item


def _source_title(info: FeedInfo, source_id: str) -> str:
    source = info.sources.get(source_id)
    return source.title if source is not None else source_id


@dataclass(frozen=True)
class Listing:
    """An output as the index and the OPML file list it."""

    output: Output
    entries: int
    updated: datetime | None


GROUPS: tuple[tuple[str, str], ...] = (
    ("all", "Everything"),
    ("language", "By language"),
    ("tag", "By tag"),
    ("tag-language", "By tag and language"),
    ("named", "Selected feeds"),
)


def render_opml(site_title: str, base_url: str, formats: Sequence[str],
                listings: Sequence[Listing]) -> bytes:
    """Every output feed (in the first configured format) as OPML 2.0, grouped."""
    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = f"{site_title}: all feeds"
    body = ElementTree.SubElement(opml, "body")
    for kind, heading in GROUPS:
        members = [listing for listing in listings if listing.output.kind == kind]
        if not members:
            continue
        group = ElementTree.SubElement(body, "outline", text=heading, title=heading)
        for listing in members:
            title = listing.output.title
            ElementTree.SubElement(
                group, "outline", type="rss", text=title, title=title,
                xmlUrl=feed_url(base_url, listing.output.path, formats[0]), htmlUrl=base_url,
            )
    ElementTree.indent(opml)
    document: bytes = ElementTree.tostring(opml, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def render_index(site_title: str, formats: Sequence[str], listings: Sequence[Listing]) -> bytes:
    """The HTML index: every output grouped, with subscribe links per format, its entry
    count and last update, and autodiscovery links for the main feeds. No JavaScript."""
    discovery = "\n".join(
        f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" '
        f'title="{_e(listing.output.title)} ({FORMAT_NAMES[fmt]})" '
        f'href="{_e(listing.output.path)}.{fmt}">'
        for listing in listings
        if listing.output.kind in ("all", "language")
        for fmt in formats
    )
    sections = "\n".join(_index_section(kind, heading, formats, listings)
                         for kind, heading in GROUPS)
    page = INDEX_TEMPLATE.format(title=_e(site_title), discovery=discovery, sections=sections)
    return page.encode("utf-8")


def _index_section(kind: str, heading: str, formats: Sequence[str],
                   listings: Sequence[Listing]) -> str:
    rows = [_index_row(listing, formats) for listing in listings if listing.output.kind == kind]
    if not rows:
        return ""
    return f"<section>\n<h2>{_e(heading)}</h2>\n<ul>\n" + "\n".join(rows) + "\n</ul>\n</section>"


def _index_row(listing: Listing, formats: Sequence[str]) -> str:
    links = " · ".join(
        f'<a href="{_e(listing.output.path)}.{fmt}">{FORMAT_NAMES[fmt]}</a>' for fmt in formats
    )
    updated = listing.updated.strftime("%Y-%m-%d %H:%M UTC") if listing.updated else "never"
    count = f"{listing.entries} entr{'y' if listing.entries == 1 else 'ies'}"
    return (
        f"<li><span class=\"name\">{_e(listing.output.title)}</span> "
        f"<span class=\"meta\">{count}, updated {updated}</span> "
        f"<span class=\"links\">{links}</span></li>"
    )


def _e(text: str) -> str:
    return html.escape(text, quote=True)


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{discovery}
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 0 auto;
       padding: 1rem; color: #222; background: #fff; }}
h1 {{ font-size: 1.6rem; }} h2 {{ font-size: 1.2rem; margin-top: 2rem; }}
ul {{ list-style: none; padding: 0; }}
li {{ padding: .5rem 0; border-bottom: 1px solid #ddd; }}
.name {{ font-weight: 600; display: block; }}
.meta {{ color: #666; font-size: .9rem; }}
.links {{ display: block; }}
a {{ color: #0645ad; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>Subscribe to any feed below in your feed reader, or import them all at once:
<a href="outputs.opml">outputs.opml</a>.</p>
{sections}
<footer><p>Published by refeed.</p></footer>
</body>
</html>
"""
