"""Find the items of a fetched document that refeed already stored, before feedparser runs.

feedparser is most of what a poll costs, and a busy feed that gained five items still
lists its other forty-five unchanged. So, ahead of the full parse, a fast streaming pass
(expat for XML, ``json`` for JSON Feed) finds each item's exact bytes and hashes them. An
item whose hash the source's last poll recorded is cut out of the document, byte for
byte, and feedparser sees only the channel and the new or changed items.

A hash is salted with everything else that shapes the stored entry: the normalization
rules (:func:`rules_salt`) and the feed-level parts that items inherit (the document's
URL, its root and channel start tags with ``xml:base``/``xml:lang``, the channel's
``<language>``). Items without a guid/id are never cut: the keys of guid-less entries
depend on their neighbours (see ``normalize._entry_key``). Whatever the fast pass cannot
read — broken XML, UTF-16, undefined entities — is parsed in full, as before.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.parsers.expat
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from refeed import __version__

_ATOM = "http://www.w3.org/2005/Atom"
_ATOM_03 = "http://purl.org/atom/ns#"
_ITEMS = frozenset({
    "item",  # RSS 0.9x/2.0 (no namespace)
    "http://purl.org/rss/1.0/ item",
    "http://my.netscape.com/rdf/simple/0.9/ item",
    f"{_ATOM} entry",
    f"{_ATOM_03} entry",
})
_ITEM_IDS = frozenset({"guid", f"{_ATOM} id", f"{_ATOM_03} id"})
_FEED_LANGUAGES = frozenset({"language", "http://purl.org/dc/elements/1.1/ language"})
_TAG_NAME = re.compile(rb"[^\s/>]+")
_TAG_END = (b">", b" ", b"\t", b"\r", b"\n")
_JSON_FEED_FIELDS = ("language", "authors", "author", "feed_url", "home_page_url")


@dataclass(frozen=True)
class Prescan:
    """A document with its known items (and those past the limit) cut out, and the
    digests of the items within the limit."""

    body: bytes
    digests: tuple[str, ...] = ()
    skipped: int = 0  # known items cut out
    dropped: int = 0  # items past the limit cut out


@dataclass
class _Item:
    start: int
    end: int = 0
    has_id: bool = False


def rules_salt(*rules: Any) -> str:
    """A digest of the rules items are normalized under (source config, tag table,
    language policy…) and of refeed's version: when any changes, no item is known."""
    return hashlib.blake2b(repr((__version__, rules)).encode(), digest_size=16).hexdigest()


def body_digest(body: bytes, salt: str) -> str:
    """The digest of a whole document under ``salt``: equal means nothing to parse."""
    return _digest(body, _key(salt, "", ""))


def prescan(
    body: bytes, url: str, known: Collection[str], salt: str, limit: int | None = None
) -> Prescan:
    """``body`` without the items whose digest is in ``known`` nor those after the first
    ``limit``, and the digests of the first ``limit`` items (to remember for the next
    poll). Falls back to the whole body, with no digests, when the document cannot be
    split safely."""
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"{", b"["):
        return _prescan_json(body, url, known, salt, limit)
    if b"\x00" in body[:1024]:  # UTF-16/32: byte offsets would need the code unit size
        return Prescan(body)
    return _prescan_xml(body, url, known, salt, limit)


def _prescan_xml(
    body: bytes, url: str, known: Collection[str], salt: str, limit: int | None
) -> Prescan:
    try:
        scan = _XmlScan(body)
    except (xml.parsers.expat.ExpatError, ValueError, LookupError):  # LookupError: unknown encoding
        return Prescan(body)
    key = _key(salt, url, "\n".join(scan.frame))
    read = scan.items[:limit]
    dropped = scan.items[len(read):]
    digests = [_digest(body[item.start:item.end], key) for item in read]
    cut = [item for item, digest in zip(read, digests, strict=True)
           if item.has_id and digest in known]
    return Prescan(_without(body, cut + dropped), tuple(digests), len(cut), len(dropped))


class _XmlScan:
    """One expat pass: the byte ranges of the top-level items, whether each has an id,
    and the feed-level text its items inherit (``frame``)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.items: list[_Item] = []
        self.frame: list[str] = []
        self.depth = 0
        self.item: _Item | None = None
        self.item_depth = 0
        self.capture: list[str] | None = None  # text of an item id or a feed <language>
        self.parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
        self.parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.Parse(body, True)

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        if self.item is None and name in _ITEMS and self.depth <= 3:
            self.item, self.item_depth = _Item(self.parser.CurrentByteIndex), self.depth
        elif self.item is None and self.depth <= 2:  # root and channel: xml:base, xml:lang
            self.frame.append(f"{name} {sorted(attributes.items())}")
        if self.item is not None:
            if self.depth == self.item_depth + 1 and name in _ITEM_IDS:
                self._capture_text()
        elif name in _FEED_LANGUAGES and self.depth <= 3:
            self._capture_text()

    def _capture_text(self) -> None:
        # text is handed to Python only while captured: a document's escaped HTML
        # bodies come as thousands of pieces, which cost more than the rest of the scan
        self.capture = []
        self.parser.CharacterDataHandler = self._text

    def _end(self, name: str) -> None:
        if self.capture is not None:
            text = "".join(self.capture).strip()
            if self.item is not None:
                self.item.has_id = self.item.has_id or bool(text)
            else:
                self.frame.append(f"{name}={text}")
            self.capture = None
            self.parser.CharacterDataHandler = None
        if self.item is not None and self.depth == self.item_depth:
            self.item.end = self._end_of(self.item.start, self.parser.CurrentByteIndex)
            self.items.append(self.item)
            self.item = None
        self.depth -= 1

    def _end_of(self, start: int, closing: int) -> int:
        """Where the item ends. expat reports an end tag's own offset, but for an empty
        element (``<item/>``) the offset just after it: tell them apart by the name."""
        name = _TAG_NAME.match(self.body, start + 1)
        assert name is not None  # expat reported an element starting here
        end_tag = b"</" + name.group()
        if self.body.startswith(end_tag, closing) and self.body[
                closing + len(end_tag):closing + len(end_tag) + 1] in _TAG_END:
            return self.body.index(b">", closing) + 1
        return closing

    def _text(self, text: str) -> None:
        if self.capture is not None:
            self.capture.append(text)


def _prescan_json(
    body: bytes, url: str, known: Collection[str], salt: str, limit: int | None
) -> Prescan:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Prescan(body)
    items = document.get("items") if isinstance(document, dict) else None
    if not isinstance(items, list):
        return Prescan(body)
    frame = json.dumps([document.get(name) for name in _JSON_FEED_FIELDS], sort_keys=True)
    key = _key(salt, url, frame)
    read = items[:limit]
    digests = [_digest(_json_bytes(item), key) for item in read]
    kept = [
        item for item, digest in zip(read, digests, strict=True)
        if not (_json_has_id(item) and digest in known)
    ]
    if len(kept) == len(items):
        return Prescan(body, tuple(digests))
    reduced = json.dumps({**document, "items": kept}).encode()  # ASCII: lone surrogates too
    return Prescan(reduced, tuple(digests), len(read) - len(kept), len(items) - len(read))


def _json_has_id(item: object) -> bool:
    return isinstance(item, dict) and bool(str(item.get("id") or "").strip())


def _json_bytes(item: object) -> bytes:
    return json.dumps(item, sort_keys=True).encode()


def _without(body: bytes, cut: Sequence[_Item]) -> bytes:
    if not cut:
        return body
    pieces, position = [], 0
    for item in cut:
        pieces.append(body[position:item.start])
        position = item.end
    pieces.append(body[position:])
    return b"".join(pieces)


def _key(salt: str, url: str, frame: str) -> bytes:
    return hashlib.blake2b(f"{salt}\n{url}\n{frame}".encode(), digest_size=32).digest()


def _digest(item: bytes, key: bytes) -> str:
    return hashlib.blake2b(item, key=key, digest_size=16).hexdigest()
