"""PURE: what an article page says of its article — its own tags and its main text.

Tags come, in order of trust, from the forms sites use for them: ``article:tag`` meta
elements, the ``keywords`` of a JSON-LD article, and links tagged ``rel="tag"`` or into
the site's tag pages (a path with a ``tag``, ``tags`` or ``topic`` segment). Links count
only where the article is: a page links to tag pages from its menu, its "popular tags"
cloud, its footer and the teasers of related news too. The article is the ``<article>``
(or the block) holding most of the page's paragraph text; its tag links are inside it or
in the blocks that follow it within its parent, outside any page chrome (header, nav,
aside, footer, and blocks named for related, popular or recent news). An admin's CSS
selector overrides the guess.

The main text is trafilatura's: the article without its page chrome, as HTML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import html as lxml_html
from lxml.etree import ParserError, _Element

from refeed.config import Settings, SourceConfig, SourcePagesConfig
from refeed.dedup import story_facts, text_likeness
from refeed.errors import FetchError
from refeed.model import Entry, ErrorInfo, PageFindings
from refeed.normalize import entry_tags, sanitize_html, sanitized_text, tagging_text, unique_tags

_TAG_SEGMENTS = frozenset({"tag", "tags", "topic", "topics"})
_CHROME_ELEMENTS = frozenset({"header", "nav", "footer", "aside", "form", "menu"})
_CHROME_ROLES = frozenset({"banner", "navigation", "complementary", "contentinfo", "search"})
# class and id words of blocks that link to tag pages but are not the article's tags
_CHROME_WORDS = re.compile(
    r"related|recent|popular|latest|trending|most|sidebar|widget|cloud|menu|\bnav|"
    r"footer|header|breadcrumb|teaser|also|more|comment|share|social|banner|promo|"
    r"rubric|section-list|news-?list|feed|top-?news|tizer|populyar|svizh|chytaj|chitaj",
    re.IGNORECASE,
)
_ARTICLE_TYPES = re.compile(r"Article|BlogPosting|Report", re.IGNORECASE)
_FOLLOWING_BLOCKS = 3  # tag blocks after the article, within its parent, at most this far
_HTML_TYPES = ("text/html", "application/xhtml+xml")
FULL_TEXT_SHARE = 0.5  # content with less than this share of the article's text is a summary


def parse_page(page: bytes | str) -> _Element | None:
    """The page's element tree (None for an empty or unparsable page)."""
    try:
        return lxml_html.fromstring(page)
    except (ParserError, ValueError):
        return None


def page_tags(root: _Element, selector: str | None = None) -> tuple[str, ...]:
    """The article's own tags, as the page writes them, in page order, each once."""
    if selector:
        found = _texts(root.cssselect(selector))
    else:
        found = (_meta_tags(root) or _json_ld_tags(root) or _linked_tags(root))
    return _unique(found)


def _texts(elements: Iterable[_Element]) -> list[str]:
    return [" ".join(element.text_content().split()) for element in elements]


def _unique(tags: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for tag in tags:
        cleaned = tag.strip().strip("#").strip()
        if cleaned and cleaned.casefold() not in seen:
            seen[cleaned.casefold()] = cleaned
    return tuple(seen.values())


def _meta_tags(root: _Element) -> list[str]:
    return [str(meta.get("content", "")) for meta in root.iter("meta")
            if (meta.get("property") or meta.get("name") or "").lower() == "article:tag"]


def _json_ld_tags(root: _Element) -> list[str]:
    tags: list[str] = []
    for script in root.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            document = json.loads(script.text)
        except ValueError:
            continue
        for node in _json_ld_nodes(document):
            if _ARTICLE_TYPES.search(" ".join(_as_list(node.get("@type")))):
                tags += _keywords(node.get("keywords"))
    return tags


def _json_ld_nodes(document: Any) -> Iterator[dict[str, Any]]:
    """Every object of a JSON-LD document, @graph members included."""
    if isinstance(document, list):
        for item in document:
            yield from _json_ld_nodes(item)
    elif isinstance(document, dict):
        yield document
        yield from _json_ld_nodes(document.get("@graph"))


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)] if value else []


def _keywords(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split(",")
    return [str(item) for item in value] if isinstance(value, list) else []


def _linked_tags(root: _Element) -> list[str]:
    article = main_block(root)
    if article is None:
        return []
    area = _article_area(article)
    return [" ".join(link.text_content().split())
            for block in area for link in block.iter("a")
            if _is_tag_link(link) and not _in_chrome(link, stop=block.getparent())]


def main_block(root: _Element) -> _Element | None:
    """The element holding the article: the ``<article>`` with the most paragraph text,
    else the block with the most paragraph text of its own."""
    articles = [element for element in root.iter("article") if _paragraph_text(element)]
    if articles:
        return max(articles, key=_paragraph_text)
    blocks = {paragraph.getparent() for paragraph in root.iter("p")}
    blocks.discard(None)
    return max(blocks, key=_own_paragraph_text, default=None)


def _paragraph_text(element: _Element) -> int:
    return sum(len(paragraph.text_content()) for paragraph in element.iter("p")
               if not _in_chrome(paragraph, stop=element))


def _own_paragraph_text(element: _Element) -> int:
    return sum(len(child.text_content()) for child in element if child.tag == "p")


def _article_area(article: _Element) -> list[_Element]:
    """The article and the blocks just after it in its parent (a tag list a CMS puts
    under the article, not inside it)."""
    area = [article]
    sibling = article.getnext()
    while sibling is not None and len(area) <= _FOLLOWING_BLOCKS:
        if sibling.tag in ("article", "section") and _paragraph_text(sibling):
            break  # the next story, or a list of them
        if isinstance(sibling.tag, str):
            area.append(sibling)
        sibling = sibling.getnext()
    return area


def _is_tag_link(link: _Element) -> bool:
    if "tag" in (link.get("rel") or "").lower().split():
        return True
    path = urlsplit(link.get("href") or "").path
    segments = [unquote(segment).lower() for segment in path.split("/") if segment]
    return any(segment in _TAG_SEGMENTS for segment in segments[:-1])


def _in_chrome(element: _Element, stop: _Element | None) -> bool:
    """Whether ``element`` sits in page chrome below ``stop``: a header, menu, sidebar,
    footer, or a block of related or popular news (or a teaser ``<article>``)."""
    node = element.getparent()
    while node is not None and node is not stop:
        if node.tag in _CHROME_ELEMENTS or (node.get("role") or "") in _CHROME_ROLES:
            return True
        if _CHROME_WORDS.search(f"{node.get('class') or ''} {node.get('id') or ''}"):
            return True
        node = node.getparent()
    return False


def article_html(page: bytes | str, url: str | None = None) -> str:
    """The article's main text as HTML (paragraphs, headings, lists, tables, links),
    without the page's chrome; "" when no article is found. Not yet sanitized: callers
    pass it through :func:`refeed.normalize.sanitize_html` like any feed HTML."""
    import trafilatura  # noqa: PLC0415 -- heavy: only processes that read pages load it

    extracted = trafilatura.extract(page, url=url, output_format="html", include_comments=False,
                                    include_tables=True, include_links=True,
                                    include_images=False)
    return extracted or ""


def read_page(body: bytes, content_type: str, url: str, wanted: SourcePagesConfig) -> PageFindings:
    """What ``wanted`` asks of a fetched page: its tags, its article as sanitized HTML.
    Only HTML is read."""
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type and media_type not in _HTML_TYPES:
        return PageFindings(error=ErrorInfo.from_exception(
            FetchError(f"not an HTML page ({media_type})", url)))
    root = parse_page(body)
    if root is None:
        return PageFindings(error=ErrorInfo("ParseError", "not an HTML page: nothing to read"))
    tags = page_tags(root, wanted.tag_selector) if wanted.tags else ()
    article = sanitize_html(article_html(body, url), url) if wanted.full_text else ""
    return PageFindings(tags=tags, article=article)


def with_page(entry: Entry, findings: PageFindings, source: SourceConfig,
              settings: Settings) -> Entry:
    """``entry`` as its page completes it: the page's tags join the feed's categories
    (mapped like them), and the article becomes the content when the feed gave only a
    summary or much less text; the text dedup compares follows the content."""
    categories = unique_tags((*entry.categories, *findings.tags))
    content = entry.content
    article_text = sanitized_text(findings.article)
    if article_text and len(sanitized_text(entry.content)) < FULL_TEXT_SHARE * len(article_text):
        content = findings.article
    tags = entry_tags(categories, source.tags, settings.taxonomy,
                      tagging_text(entry.title, entry.summary, content))
    if content == entry.content:
        return replace(entry, categories=categories, tags=tags)
    body = f"{sanitized_text(entry.summary)}\n{sanitized_text(content)}"
    likeness, facts = text_likeness(f"{entry.title}\n{body}"), story_facts(entry.title, body)
    return replace(entry, categories=categories, tags=tags, content=content,
                   signature=likeness.signature, shingles=likeness.shingles,
                   numbers=likeness.numbers, names=facts.names, headline=facts.headline,
                   stem_signature=facts.stem_signature, stems=facts.stems, dates=facts.dates)
