"""PURE: what an article page says of its article — its own tags and its main text.

Tags come, in order of trust, from the forms sites use for them: ``article:tag`` meta
elements, the ``keywords`` of a JSON-LD article, and links tagged ``rel="tag"`` (not
``rel="category tag"``) or into the site's tag pages (a path with a ``tag``, ``tags``,
``topic`` or ``topics`` segment). Links count only near the article: a page links to
tag pages from its menu, its "popular tags" cloud, its footer and the teasers of
related news too. The article is the ``<article>`` (or the block) holding most of the
page's paragraph text; a tag link counts when it meets the article at most two levels
above it (a tag line under the headline, a list after the text — a sidebar meets it
higher up, at the row of columns), outside page chrome (header, nav, aside, footer but
the article's own, blocks named for menus, related, popular or recent news) and outside
another story's teaser (a block with a headline link). An admin's CSS selector
overrides the guess.

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
from refeed.language import decide_language
from refeed.model import Entry, ErrorInfo, PageFindings
from refeed.normalize import entry_tags, sanitize_html, sanitized_text, tagging_text, unique_tags

_TAG_SEGMENTS = frozenset({"tag", "tags", "topic", "topics"})
_CHROME_ELEMENTS = frozenset({"header", "nav", "footer", "aside", "form", "menu"})
_CHROME_ROLES = frozenset({"banner", "navigation", "complementary", "contentinfo", "search"})
# class and id words of blocks that link to tag pages but are not the article's tags
_CHROME_WORDS = re.compile(
    r"related|recent|popular|latest|trending|most|sidebar|widget|cloud|menu|meny|\bnav|"
    r"footer|header|breadcrumb|teaser|also|more|comment|share|social|banner|promo|"
    r"rubric|section-list|news-?list|feed|top-?news|tizer|populyar|svizh|chytaj|chitaj",
    re.IGNORECASE,
)
_ARTICLE_TYPES = re.compile(r"Article|BlogPosting|Report", re.IGNORECASE)
_NEAR_LEVELS = 2  # a tag link meets the article at most this many levels above it
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
        cleaned = tag.strip().strip("#,;").strip()  # "#kyiv", "Mac," as sites write them
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
            document = json.loads(script.text, strict=False)  # raw newlines in strings
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
    """Tag links (``rel="tag"``, or to a tag page) near the article: inside it, or in a
    block that meets it at its parent or grandparent (a tag line under the headline, a
    tag list after the text) — never in page chrome or in another story's teaser. A
    sidebar meets the article higher up, at the row of columns; a menu, at the page."""
    article = main_block(root)
    if article is None:
        return []
    lineage = [article, *article.iterancestors()]
    near = {node for node in lineage[:_NEAR_LEVELS + 1] if node.tag not in ("body", "html")}
    text = text_block(article)
    found = []
    for link in root.iter("a"):
        if not _is_tag_link(link):
            continue
        meeting = next((node for node in link.iterancestors() if node in lineage), None)
        if (meeting in near and not _in_chrome(link, meeting)
                and not _in_teaser(link, meeting, text)):
            found.append(" ".join(link.text_content().split()))
    return found


def text_block(article: _Element) -> _Element:
    """The block of the article holding most of its paragraphs' text."""
    blocks = {paragraph.getparent() for paragraph in article.iter("p")} - {None}
    return max(blocks, key=_own_paragraph_text, default=article)


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
               if not _in_chrome(paragraph, element))


def _own_paragraph_text(element: _Element) -> int:
    return sum(len(child.text_content()) for child in element if child.tag == "p")


def _is_rel_tag(link: _Element) -> bool:
    """``rel="tag"``, not WordPress's ``rel="category tag"`` (a category)."""
    rel = (link.get("rel") or "").lower().split()
    return "tag" in rel and "category" not in rel


def _is_tag_path(link: _Element) -> bool:
    path = urlsplit(link.get("href") or "").path
    segments = [unquote(segment).lower() for segment in path.split("/") if segment]
    return any(segment in _TAG_SEGMENTS for segment in segments[:-1])


def _is_tag_link(link: _Element) -> bool:
    return _is_rel_tag(link) or _is_tag_path(link)


def _in_teaser(link: _Element, meeting: _Element, text: _Element) -> bool:
    """Whether ``link`` is in another story's teaser: the smallest block around it, below
    where it meets the article and outside the article's ``text``, that links to a page
    by a headline (three words or more) is a story of a list (``<li>``, ``<article>``),
    or has that one headline before the tag link, as a list of stories shows each (a
    post footer's "next article" comes after its tags)."""
    for node in link.iterancestors():
        if node is meeting or node is text or text in node.iterdescendants():
            return False
        headlines = [other for other in node.iter("a") if not _is_tag_link(other)
                     and len(other.text_content().split()) >= 3]
        if headlines:
            return node.tag in ("li", "article") or (
                len(headlines) == 1 and _precedes(headlines[0], link))
    return False


def _precedes(first: _Element, second: _Element) -> bool:
    for element in first.getroottree().iter():
        if element is first:
            return True
        if element is second:
            return False
    return False


def _in_chrome(element: _Element, stop: _Element) -> bool:
    """Whether ``element`` sits in page chrome below ``stop``: a header, menu, sidebar,
    footer or a block of related or popular news — not the article's own header or
    footer."""
    for node in element.iterancestors():
        if node is stop:
            return False
        if node.tag in ("header", "footer") and any(
                ancestor.tag == "article" for ancestor in node.iterancestors()):
            continue  # the article's own header or footer (entry-footer: its tags)
        if node.tag in _CHROME_ELEMENTS or (node.get("role") or "") in _CHROME_ROLES:
            return True
        if _CHROME_WORDS.search(f"{node.get('class') or ''} {node.get('id') or ''}"):
            return True
    return False


def article_html(page: bytes | str, url: str | None = None) -> str:
    """The article's main text as HTML (paragraphs, headings, lists, tables, links),
    without the page's chrome; "" when no article is found. Not yet sanitized: callers
    pass it through :func:`refeed.normalize.sanitize_html` like any feed HTML."""
    import trafilatura  # noqa: PLC0415 -- heavy: only processes that read pages load it

    # recall over precision (favor_precision: F1 0.959 but recall 0.968, not 0.978): a
    # reader misses a dropped paragraph more than a stray caption
    extracted = trafilatura.extract(page, url=url, output_format="html", include_comments=False,
                                    include_tables=True, include_links=True,
                                    include_formatting=True, include_images=False)
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
    """``entry`` as its page completes it: the page's tags join its tags (mapped through
    the aliases like the feed's categories, which stay the feed's), and the article
    becomes the content when the feed gave only a summary or much less text; the text
    dedup compares and the language detected follow the content."""
    categories = unique_tags((*entry.categories, *findings.tags))
    content = entry.content
    article_text = sanitized_text(findings.article)
    if article_text and len(sanitized_text(entry.content)) < FULL_TEXT_SHARE * len(article_text):
        content = findings.article
    tags = entry_tags(categories, source.tags, settings.taxonomy,
                      tagging_text(entry.title, entry.summary, content))
    if content == entry.content:
        return replace(entry, tags=tags)
    body = f"{sanitized_text(entry.summary)}\n{sanitized_text(content)}"
    likeness, facts = text_likeness(f"{entry.title}\n{body}"), story_facts(entry.title, body)
    language = decide_language(tagging_text(entry.title, entry.summary, content),
                               [entry.declared_language], settings.language_policy)
    return replace(entry, tags=tags, content=content,
                   language=language.language, detected_language=language.detected,
                   language_confidence=language.confidence,
                   signature=likeness.signature, shingles=likeness.shingles,
                   numbers=likeness.numbers, names=facts.names, headline=facts.headline,
                   stem_signature=facts.stem_signature, stems=facts.stems, dates=facts.dates)
