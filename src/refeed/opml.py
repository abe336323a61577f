"""Sources to and from OPML, the format every feed reader imports and exports.

Import edits config.yaml in place through ruamel.yaml's round-trip mode, so the admin's
comments and layout survive; the edited config is validated before it is written.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from lxml import etree
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from slugify import slugify

from refeed.config import SourceConfig, load_settings
from refeed.errors import ConfigError, ConfigProblem

_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass(frozen=True)
class OpmlFeed:
    """One feed outline of an OPML file."""

    title: str
    url: str


def export_opml(title: str, sources: Sequence[SourceConfig]) -> bytes:
    """The configured sources as an OPML 2.0 subscription list."""
    opml = ElementTree.Element("opml", version="2.0")
    ElementTree.SubElement(ElementTree.SubElement(opml, "head"), "title").text = title
    body = ElementTree.SubElement(opml, "body")
    for source in sources:
        name = source.title or source.id
        ElementTree.SubElement(body, "outline", type="rss", text=name, title=name,
                               xmlUrl=source.url)
    ElementTree.indent(opml)
    document: bytes = ElementTree.tostring(opml, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def read_opml(data: bytes, shown: str) -> list[OpmlFeed]:
    """Every outline with an ``xmlUrl`` (nested folders included), in document order."""
    try:
        root = etree.fromstring(data, _SAFE_XML)
    except etree.XMLSyntaxError as error:
        raise ConfigError([ConfigProblem(shown, None, "", f"not an OPML file: {error}")]) from None
    return [
        OpmlFeed(outline.get("title") or outline.get("text") or "", outline.get("xmlUrl"))
        for outline in root.iter("outline")
        if outline.get("xmlUrl")
    ]


def import_opml(config_path: Path, feeds: Sequence[OpmlFeed]) -> list[str]:
    """Append ``feeds`` not yet configured (by URL) to config.yaml's ``sources``, keeping
    its comments; returns the new source ids. Nothing is written if the result is invalid."""
    yaml = YAML(typ="rt")
    document = yaml.load(config_path.read_text(encoding="utf-8"))
    sources = document.setdefault("sources", [])
    known_urls = {source.get("url") for source in sources}
    known_ids = {source.get("id") for source in sources}
    added: list[str] = []
    for feed in feeds:
        if feed.url in known_urls:
            continue
        source_id = _unique_id(slugify(feed.title or feed.url, max_length=40) or "feed", known_ids)
        entry = CommentedMap(id=source_id, url=feed.url)
        if feed.title:
            entry["title"] = feed.title
        sources.append(entry)
        known_ids.add(source_id)
        known_urls.add(feed.url)
        added.append(source_id)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    candidate = config_path.with_name(f".{config_path.name}.import")
    candidate.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        load_settings(candidate)
    except ConfigError:
        candidate.unlink()
        raise
    candidate.replace(config_path)
    return added


def _unique_id(base: str, taken: set[object]) -> str:
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate
