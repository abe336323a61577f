"""The third-party test corpus (``../shared/corpus``, see its README): its files as an
HTTP client receives them, the annotations of feedparser's test files, refeed's entry
keys computed on feedparser's raw entries, and checks of HTML for anything that runs."""

from __future__ import annotations

import functools
import gzip
import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from typing import Any

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
DEFAULT_CONTENT_TYPES = {".json": "application/feed+json", ".html": "text/html"}
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SCRIPT_URL = re.compile(r"(?:java|vb)script:|data:text/html", re.IGNORECASE)
STYLE_ATTACK = re.compile(r"expression\(|url\(|behavio(?:u)?r:", re.IGNORECASE)
UNSAFE_ELEMENTS = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
    "meta", "link", "base",
})
BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
BOMLESS_WIDE = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)


# --------------------------------------------------------------------------- corpus files


def corpus_files(*folders: str) -> list[str]:
    """Every data file under the given corpus folders as a sorted relative POSIX path
    (licence and README files excluded); empty when the corpus is absent."""
    if not CORPUS.is_dir():
        return []
    return sorted(
        path.relative_to(CORPUS).as_posix()
        for folder in folders
        for path in (CORPUS / folder).rglob("*")
        if path.is_file() and not path.name.startswith(("LICENSE", "README"))
    )


@functools.cache
def corpus_body(rel: str) -> bytes:
    """The bytes of corpus file ``rel`` as an HTTP client would hand them over: two
    ``real/`` files are raw gzip streams (``Content-Encoding: gzip`` on the wire)."""
    body = (CORPUS / rel).read_bytes()
    return gzip.decompress(body) if body.startswith(b"\x1f\x8b") else body


def sniff_text(body: bytes) -> str:
    """``body`` decoded well enough to read its markup: UTF-16/32 by BOM or by the NUL
    pattern of ``<``, anything else as Latin-1 (ASCII-compatible)."""
    for bom, encoding in BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(encoding, "replace")
    for pattern, encoding in BOMLESS_WIDE:
        if body.startswith(pattern):
            return body.decode(encoding, "replace")
    return body.decode("latin-1")


@dataclass(frozen=True)
class Annotation:
    """The test convention of feedparser's files: simulated response headers and the
    ``Expect:`` expression, read from the leading XML comment."""

    headers: tuple[tuple[str, str], ...] = ()
    expect: str | None = None


@functools.cache
def annotation(rel: str) -> Annotation:
    """The ``Header:`` and ``Expect:`` lines of ``rel``'s first comment (UTF-16/32 files
    carry theirs encoded like the rest of the document)."""
    comment = re.search(r"<!--(.*?)-->", sniff_text(corpus_body(rel)), re.DOTALL)
    if comment is None:
        return Annotation()
    lines = comment.group(1).splitlines()
    headers = tuple(
        (name.strip(), value.strip())
        for line in lines
        if line.startswith("Header:")
        for name, _, value in [line.removeprefix("Header:").partition(":")]
    )
    expects = [line.removeprefix("Expect:").strip() for line in lines if line.startswith("Expect:")]
    return Annotation(headers, expects[0] if expects else None)


def served_headers(rel: str) -> dict[str, str]:
    """The response headers of ``rel`` from a plain static server: a Content-Type by file
    extension, replaced or extended by the file's own ``Header:`` lines."""
    suffix = PurePosixPath(rel).suffix
    headers = {"Content-Type": DEFAULT_CONTENT_TYPES.get(suffix, "application/xml")}
    for name, value in annotation(rel).headers:
        for existing in [key for key in headers if key.lower() == name.lower()]:
            del headers[existing]
        headers[name] = value
    return headers


# --------------------------------------------------------------------------- entry keys


def text_of(value: object) -> str:
    """``value`` when it is a string, else empty."""
    return value if isinstance(value, str) else ""


def entry_identities(entries: list[dict[str, Any]]) -> set[object]:
    """refeed's documented entry keys, computed on feedparser's raw entries: the guid, else
    an absolute http(s) link — qualified by the title when several guid-less entries
    share it — else what the entry says (title, date, body). Plain ``dict.get`` skips
    feedparser's aliases (its ``updated`` falls back to ``published``)."""
    links = Counter(
        text_of(dict.get(entry, "link")) for entry in entries if not dict.get(entry, "id")
    )
    return {entry_identity(entry, links) for entry in entries}


def entry_identity(entry: dict[str, Any], guidless_links: Counter[str]) -> object:
    """The key of one entry (see :func:`entry_identities`)."""
    guid = text_of(dict.get(entry, "id")).strip()
    raw_link = text_of(dict.get(entry, "link"))
    link = raw_link.strip()
    stamp = text_of(dict.get(entry, "published")) or text_of(dict.get(entry, "updated"))
    title = text_of(dict.get(entry, "title"))
    if guid:
        return ("guid", guid)
    if re.match(r"https?://", link, re.IGNORECASE):
        if guidless_links[raw_link] > 1:
            return ("shared link", link, title)
        return ("link", link)
    contents = dict.get(entry, "content") or [{}]
    body = text_of(contents[0].get("value")) or text_of(dict.get(entry, "summary"))
    return ("content", title, stamp, body)


# --------------------------------------------------------------------------- HTML checks


class _HtmlInspector(HTMLParser):
    """Collects the visible text of an HTML fragment and everything unsafe in it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._inspect(tag, attrs)
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._inspect(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)

    def _inspect(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in UNSAFE_ELEMENTS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            compact = re.sub(r"[\x00-\x20]+", "", value or "")
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            if SCRIPT_URL.search(compact):
                self.problems.append(f"script URL in {name}={value!r} on <{tag}>")
            if name == "style" and STYLE_ATTACK.search(compact):
                self.problems.append(f"style attack {value!r} on <{tag}>")


def _inspect_html(fragment: str) -> _HtmlInspector:
    inspector = _HtmlInspector()
    inspector.feed(fragment)
    inspector.close()
    return inspector


def html_problems(fragment: str) -> list[str]:
    """Everything in an HTML fragment that could run script: unsafe elements, ``on*``
    attributes, ``javascript:``/``vbscript:`` URLs, CSS expressions (also a bare
    ``<script`` the parser might not see as a tag)."""
    problems = _inspect_html(fragment).problems
    if "<script" in fragment.lower():
        problems.append("'<script' in the markup")
    return problems


def collapse(text: str) -> str:
    """``text`` with whitespace runs collapsed to one space and trimmed."""
    return " ".join(text.split())


def visible_text(fragment: str) -> str:
    """The text a reader sees in an HTML fragment, whitespace collapsed."""
    return collapse("".join(_inspect_html(fragment).text))
