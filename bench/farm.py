"""A deterministic loopback feed farm: N news feeds (RSS 2.0, Atom, JSON Feed 1.1) of M
entries each, served by aiohttp on 127.0.0.1, for benchmarks.

Everything is a pure function of (feed index, entry sequence number): no clock, no global
random state. Feed ``i`` is in one language (``uk``, ``ru``, ``en`` by ``i % 3``) and one
format (45% RSS, 45% Atom, 10% JSON Feed by ``i % 20``). Its entries are numbered; at
round ``r`` the document lists entries ``(r-1)·k … (r-1)·k + M - 1``, newest first, so each
round adds ``k`` (``churn``) new entries on top and drops the oldest ``k``. An entry's bytes
depend only on its feed and number, never on the round, so an unchanged entry serialises
to identical bytes in every round. About 10% of entries are syndicated copies of another
same-language feed's story (same title and text, their own guid; half of them keep the
original link plus a tracking query string). A share of feeds (``fault_share``) are
faulty: HTTP 500, slow (full answers wait ``slow_delay`` seconds), malformed (truncated
XML), an HTML page instead of a feed, or (when ``fault_kinds`` names it) moved: a 301 to
another path that serves the feed.

A share of feeds (``page_share``, chosen by a hash of the feed index) link every item to
an article page on the farm itself, ``/page/<feed>/<seq>/``: an HTML page with a header
and its topic menu of tag links (``/tag/<slug>/``), the ``<article>`` (title, the item's
body, and under it 2–4 tag links made of the item's categories and places), a sidebar of
recent news with tag links of their own, and a footer. ``/robots.txt`` is a 404 (all
allowed). With ``page_share`` 0 (the default) nothing of this changes any feed.

With ``churn_per_fetch`` every feed has a round of its own, advanced by each request for
it: the n-th fetch of a feed gets round n, so every poll finds ``churn`` new entries (a
busy site polled as often as it publishes). ``GET /__served`` tells the last round each
feed was answered with — what an aggregator should have stored.

The server sends a strong ``ETag`` and ``Last-Modified`` (unless ``validators`` is off),
answers ``If-None-Match`` / ``If-Modified-Since`` with 304, and gzip when accepted. Each
round is rendered and compressed once and kept in memory (with ``churn_per_fetch``, each
answer is rendered when asked for). Control endpoints: ``POST /__round?n=2`` switches
round, ``GET /__stats`` returns counters (requests, 200, 304, 301, 500, 404, slow, bytes
sent), ``GET /__served`` each feed's last round served.

As a module::

    with start_farm(FarmSpec(feeds=100, entries=20)) as farm:
        farm.urls()          # every feed's URL
        farm.set_round(2)
        farm.stats()

Standalone (Ctrl-C stops it)::

    .venv/bin/python bench/farm.py --feeds 1000 --entries 50 --port 8900
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import html
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from itertools import pairwise
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any
from urllib.parse import quote

from _common import http_json, send_port, start_child
from aiohttp import web
from farm_text import LANGUAGES, TOPICS, Language

DEFAULT_FEEDS = 1000
DEFAULT_ENTRIES = 50
DEFAULT_CHURN = 5
DEFAULT_FAULT_SHARE = 0.02
DEFAULT_SLOW_DELAY = 2.0
FORMATS = ("rss", "atom", "json")
EXTENSIONS = {"rss": ".xml", "atom": ".atom", "json": ".json"}
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
FAULT_KINDS = ("http-500", "slow", "malformed", "html")
MOVED = "moved"  # a fault kind only when FarmSpec.fault_kinds names it
MOVED_PREFIX = "/moved"  # where a moved feed's 301 points: the same path under this
ORIGIN = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)  # entry 0's date; entry n is n·STEP later
STEP = timedelta(minutes=90)
SYNDICATION_DELAY = timedelta(minutes=20)
SYNDICATED_SHARE = 10  # one entry in ten is a copy
STATS_PATH = "/__stats"
SERVED_PATH = "/__served"
ROUND_PATH = "/__round"
PAGE_PREFIX = "/page/"  # an article page: /page/<feed>/<seq>/
TAG_PREFIX = "/tag/"
ROBOTS_PATH = "/robots.txt"
PAGE_SHARE_SCALE = 10_000  # page feeds: those whose hash mod this < share × this
RECENT_NEWS = 4  # teasers in an article page's sidebar
GZIP_LEVEL = 6
ITEM_CACHE = 1 << 17


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class FarmSpec:
    """What the farm serves."""

    feeds: int = DEFAULT_FEEDS
    entries: int = DEFAULT_ENTRIES
    churn: int = DEFAULT_CHURN
    fault_share: float = DEFAULT_FAULT_SHARE
    slow_delay: float = DEFAULT_SLOW_DELAY
    validators: bool = True  # False: no ETag / Last-Modified, never a 304
    fault_kinds: tuple[str, ...] = FAULT_KINDS  # taken in turn by the faulty feeds
    churn_per_fetch: bool = False  # each fetch of a feed advances its own round
    page_share: float = 0.0  # share of feeds whose items link to article pages on the farm


def feed_language(feed_index: int) -> Language:
    """The language feed ``feed_index`` is written in (uk, ru, en in turn)."""
    return LANGUAGES[feed_index % len(LANGUAGES)]


def feed_format(feed_index: int) -> str:
    """``rss`` (45%), ``atom`` (45%) or ``json`` (10%)."""
    position = feed_index % 20
    return "rss" if position < 9 else "atom" if position < 18 else "json"


def feed_path(feed_index: int) -> str:
    """The URL path of a feed, e.g. ``/f/0007.xml``."""
    return f"/f/{feed_index:04d}{EXTENSIONS[feed_format(feed_index)]}"


def faults(spec: FarmSpec) -> dict[int, str]:
    """Feed index → fault kind: ``round(feeds × fault_share)`` feeds, evenly spread, the
    kinds taken in turn."""
    count = min(spec.feeds, int(spec.feeds * spec.fault_share + 0.5))
    kinds = spec.fault_kinds
    return {int((slot + 0.5) * spec.feeds / count): kinds[slot % len(kinds)]
            for slot in range(count)}


def has_pages(spec: FarmSpec, feed_index: int) -> bool:
    """Whether feed ``feed_index``'s items link to article pages on the farm: a stable
    hash of the index, so about ``page_share`` of the feeds, mixed over languages,
    formats and faults."""
    threshold = int(spec.page_share * PAGE_SHARE_SCALE + 0.5)
    return threshold > 0 and _mix(5, feed_index) % PAGE_SHARE_SCALE < threshold


def page_feeds(spec: FarmSpec) -> list[int]:
    """The indexes of the feeds with article pages."""
    return [i for i in range(spec.feeds) if has_pages(spec, i)]


def page_path(feed_index: int, seq: int) -> str:
    """The URL path of the article page of entry ``seq`` of ``feed_index``."""
    return f"{PAGE_PREFIX}{feed_index}/{seq}/"


def is_readable(fault: str | None) -> bool:
    """Whether a feed with this fault (or none) serves a document its entries come from."""
    return fault in (None, "slow", MOVED)


def window(entries: int, round: int, churn: int) -> range:
    """The entry numbers a feed lists at ``round``, newest first."""
    first = (round - 1) * churn
    return range(first + entries - 1, first - 1, -1)


def _mix(*parts: int) -> int:
    """A stable hash of small integers (the same in every process and run)."""
    data = ",".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def is_syndicated(feed_index: int, seq: int) -> bool:
    """Whether this entry is a copy of another feed's story (feeds 0–2 never copy)."""
    return feed_index >= len(LANGUAGES) and _mix(1, feed_index, seq) % SYNDICATED_SHARE == 0


def origin_feed(feed_index: int, seq: int) -> int:
    """The feed whose story entry ``seq`` of ``feed_index`` is: itself, or for a copy a
    lower-numbered feed of the same language (followed through copies of copies)."""
    while is_syndicated(feed_index, seq):
        feed_index -= len(LANGUAGES) * (1 + _mix(2, feed_index, seq) % 3)
        feed_index = max(feed_index % len(LANGUAGES), feed_index)
    return feed_index


def site(feed_index: int) -> str:
    """The public site of a feed (never contacted: only used in links and ids)."""
    return f"https://news{feed_index:04d}.example"


def published(feed_index: int, seq: int) -> datetime:
    """When entry ``seq`` of feed ``feed_index`` was published."""
    story = origin_feed(feed_index, seq)
    own = ORIGIN + seq * STEP + timedelta(minutes=_mix(3, story) % 90)
    return own + SYNDICATION_DELAY if story != feed_index else own


# --------------------------------------------------------------------------- content


@dataclass(frozen=True)
class Article:
    """A story, as its origin feed wrote it."""

    title: str
    lead: str
    body: str  # HTML
    categories: tuple[str, ...]
    author: str
    link: str


def _filler(rng: random.Random, language: Language) -> dict[str, Any]:
    pct = f"{rng.randint(1, 40)}.{rng.randint(0, 9)}"
    return {
        "city": rng.choice(language.cities),
        "n": rng.randint(2, 120),
        "pct": pct if language.code == "en" else pct.replace(".", ","),
        "g": rng.randint(0, 4),
        "g2": rng.randint(0, 4),
    }


def _say(rng: random.Random, language: Language, template: str) -> str:
    return template.format(**_filler(rng, language))


def _sentences(rng: random.Random, language: Language, count: int) -> str:
    return " ".join(_say(rng, language, rng.choice(language.sentences)) for _ in range(count))


def _text(text: str) -> str:
    """``text`` escaped for an HTML or XML text node."""
    return html.escape(text, quote=False)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=len(LANGUAGES))
def _word_chain(code: str) -> dict[str, tuple[str, ...]]:
    """Word → the words that follow it anywhere in the language's material (``^`` starts
    and ``$`` ends a sentence): a bigram chain for :func:`_babble`."""
    language = next(language for language in LANGUAGES if language.code == code)
    texts = [*language.sentences, *language.quotes,
             *(text for group in language.clauses.values() for text in group),
             *(text for group in language.titles.values() for text in group)]
    chain: dict[str, list[str]] = {}
    for text in texts:
        tokens = ["^", *text.rstrip(".").split(), "$"]
        for first, second in pairwise(tokens):
            chain.setdefault(first, []).append(second)
    return {word: tuple(followers) for word, followers in chain.items()}


def _babble(rng: random.Random, language: Language, least: int = 10, most: int = 18,
            *, capital: bool = True) -> str:
    """A sentence-like random walk over :func:`_word_chain`: real words in real local
    order, but a different sequence for every story, so that two stories' leads never
    look like near-duplicates."""
    chain, word = _word_chain(language.code), "^"
    words: list[str] = []
    while len(words) < most:
        word = rng.choice(chain[word])
        if word == "$":
            if len(words) >= least:
                break
            word = "^"
            continue
        words.append(word)
    text = _say(rng, language, " ".join(words)).rstrip(".,:;—") + "."
    return _capitalised(text) if capital else text


@lru_cache(maxsize=ITEM_CACHE)
def article(feed_index: int, seq: int) -> Article:
    """The story first published as entry ``seq`` of ``feed_index``."""
    language = feed_language(feed_index)
    rng = random.Random(f"article:{feed_index}:{seq}")
    topic = rng.choice(TOPICS)
    name = f"{rng.choice(language.first_names)} {rng.choice(language.surnames)}"
    title = _say(rng, language, rng.choice(language.titles[topic]))
    clause = _say(rng, language, rng.choice(language.clauses[topic]))
    lead = (f"{rng.choice(language.who)} {name} {rng.choice(language.said)} "
            f"{rng.choice(language.when)}, {language.that} {clause}. "
            f"{rng.choice(language.then)} {_babble(rng, language, 6, 12, capital=False)} "
            f"{_babble(rng, language)}")
    lead = _capitalised(lead)
    date = ORIGIN + seq * STEP
    link = f"{site(feed_index)}/{language.code}/{date:%Y/%m/%d}/{seq}/"
    return Article(title, lead, _body(rng, language, topic, feed_index, seq, title, lead, link),
                   language.categories[topic], name, link)


def _body(rng: random.Random, language: Language, topic: str, feed_index: int, seq: int,
          title: str, lead: str, link: str) -> str:
    """A realistic article body: paragraphs, a figure, links, a quote, a list, and now and
    then the script and event-handler attributes a sanitizer must strip."""
    esc = _text
    tracker = ' onerror="this.src=\'/media/blank.gif\'"' if rng.random() < 0.3 else ""
    clicker = ' onclick="track(\'outbound\')"' if rng.random() < 0.3 else ""
    city = rng.choice(language.cities)
    related = "".join(
        f'<li><a href="/{language.code}/{max(0, seq - offset)}/">'
        f"{esc(_say(rng, language, rng.choice(language.titles[rng.choice(TOPICS)])))}</a></li>"
        for offset in (1, 2)
    )
    parts = [
        f"<p><strong>{esc(lead)}</strong></p>",
        f'<figure><img src="/media/{feed_index}/{seq}.jpg" alt="{html.escape(title)}" width="800"'
        f' height="450"{tracker}><figcaption>{language.photo}: {esc(city)}</figcaption></figure>',
        f"<p>{esc(_sentences(rng, language, 2))} <a href='{site(rng.randrange(9999))}/"
        f"{language.code}/{seq}/' target=\"_blank\"{clicker}>"
        f"{esc(_say(rng, language, rng.choice(language.clauses[topic])))}</a>.</p>",
        f"<blockquote><p>{esc(rng.choice(language.quotes))}</p></blockquote>",
        f"<h3>{language.also_read}</h3><ul>{related}</ul>",
    ]
    if rng.random() < 0.35:
        parts.append('<script>window.dataLayer = window.dataLayer || [];'
                     f' dataLayer.push({{"article": "{feed_index}-{seq}"}});</script>')
    if rng.random() < 0.15:
        parts.append(f'<iframe src="https://video.example/embed/{feed_index}-{seq}"'
                     ' width="560" height="315" allowfullscreen></iframe>')
    parts.append(f'<p><a href="{html.escape(link)}">{language.read_more}…</a></p>')
    return "\n".join(parts)


@dataclass(frozen=True)
class Item:
    """One entry as feed ``feed_index`` lists it."""

    guid: str
    link: str
    published: datetime
    story: Article


def item(feed_index: int, seq: int, page_base: str | None = None) -> Item:
    """Entry ``seq`` of feed ``feed_index``: its own story or a syndicated copy (own guid,
    and either the original link with tracking parameters or a link of its own). With
    ``page_base`` (the farm's ``http://host:port``) the link is the entry's article page
    on the farm, whatever the story."""
    story_feed = origin_feed(feed_index, seq)
    story = article(story_feed, seq)
    guid = f"{site(feed_index)}/?p={seq}"
    if page_base is not None:
        link = page_base + page_path(feed_index, seq)
    elif story_feed == feed_index:
        link = story.link
    elif _mix(4, feed_index, seq) % 2:
        link = (f"{story.link}?utm_source=news{feed_index:04d}&utm_medium=rss"
                "&utm_campaign=syndication")
    else:
        link = f"{site(feed_index)}/{story.link.split('/', 3)[3]}"
    return Item(guid, link, published(feed_index, seq), story)


def _rfc822(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=ITEM_CACHE)
def serialized_item(feed_index: int, seq: int, fmt: str, page_base: str | None = None) -> str:
    """The bytes-to-be of one entry in ``fmt``: a pure function of its arguments, so an
    entry still listed in a later round serialises identically (``page_base``: see
    :func:`item`)."""
    entry = item(feed_index, seq, page_base)
    story, esc, attribute = entry.story, _text, html.escape
    if fmt == "rss":
        categories = "".join(f"<category>{esc(c)}</category>" for c in story.categories)
        return (f"<item><title>{esc(story.title)}</title><link>{esc(entry.link)}</link>"
                f'<guid isPermaLink="false">{esc(entry.guid)}</guid>'
                f"<pubDate>{_rfc822(entry.published)}</pubDate>"
                f"<dc:creator>{esc(story.author)}</dc:creator>{categories}"
                f"<description>{esc(story.lead)}</description>"
                f"<content:encoded><![CDATA[{story.body}]]></content:encoded></item>\n")
    if fmt == "atom":
        categories = "".join(f'<category term="{attribute(c)}"/>' for c in story.categories)
        stamp = _rfc3339(entry.published)
        return (f"<entry><title>{esc(story.title)}</title>"
                f'<link rel="alternate" type="text/html" href="{attribute(entry.link)}"/>'
                f"<id>{esc(entry.guid)}</id><published>{stamp}</published>"
                f"<updated>{stamp}</updated><author><name>{esc(story.author)}</name></author>"
                f'{categories}<summary type="text">{esc(story.lead)}</summary>'
                f'<content type="html">{esc(story.body)}</content></entry>\n')
    return json.dumps({
        "id": entry.guid, "url": entry.link, "title": story.title, "summary": story.lead,
        "content_html": story.body, "date_published": _rfc3339(entry.published),
        "authors": [{"name": story.author}], "tags": list(story.categories),
    }, ensure_ascii=False)


def generate_feed(feed_index: int, entries: int, round: int, fmt: str,
                  churn: int = DEFAULT_CHURN, page_base: str | None = None) -> bytes:
    """Feed ``feed_index`` at ``round`` in ``fmt`` (``rss``, ``atom`` or ``json``): ``entries``
    entries, newest first, ``churn`` new ones per round; with ``page_base``, items link to
    their article pages on the farm at that base URL. Deterministic."""
    language = feed_language(feed_index)
    seqs = window(entries, round, churn)
    items = "".join(serialized_item(feed_index, seq, fmt, page_base) for seq in seqs)
    newest = published(feed_index, seqs[0]) if seqs else ORIGIN
    home = site(feed_index) + "/"
    title = html.escape(f"{language.site_title} {feed_index:04d}")
    self_url = f"{home}feed{EXTENSIONS[fmt]}"
    if fmt == "rss":
        text = ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"'
                ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
                ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
                ' xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>'
                f"<title>{title}</title><link>{home}</link>"
                f"<description>{title}</description><language>{language.code}</language>"
                f"<lastBuildDate>{_rfc822(newest)}</lastBuildDate>"
                f'<atom:link href="{self_url}" rel="self" type="application/rss+xml"/>\n'
                f"{items}</channel>\n</rss>\n")
    elif fmt == "atom":
        text = ('<?xml version="1.0" encoding="utf-8"?>\n'
                f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{language.code}">'
                f"<title>{title}</title><id>{home}</id><updated>{_rfc3339(newest)}</updated>"
                f'<link rel="alternate" type="text/html" href="{home}"/>'
                f'<link rel="self" type="application/atom+xml" href="{self_url}"/>\n'
                f"{items}</feed>\n")
    elif fmt == "json":
        head = json.dumps({
            "version": "https://jsonfeed.org/version/1.1", "title": title,
            "home_page_url": home, "feed_url": self_url, "language": language.code,
        }, ensure_ascii=False)
        joined = ",\n".join(serialized_item(feed_index, seq, fmt, page_base) for seq in seqs)
        text = f'{head[:-1]}, "items": [\n{joined}\n]}}\n'
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return text.encode("utf-8")


def not_a_feed(feed_index: int) -> bytes:
    """The HTML page a misconfigured feed URL answers with."""
    language = feed_language(feed_index)
    name = html.escape(f"{language.site_title} {feed_index:04d}")
    return (f'<!DOCTYPE html>\n<html lang="{language.code}"><head><meta charset="utf-8">'
            f"<title>{name}</title></head><body><h1>{name}</h1>"
            f'<p><a href="{site(feed_index)}/">{language.read_more}</a></p></body></html>\n'
            ).encode()


# --------------------------------------------------------------------------- article pages

# per language: the sidebar's heading, the tag list's label, the footer's words
PAGE_WORDS = {
    "uk": ("Останні новини", "Теги", "Усі права захищено", "Про нас", "Контакти", "Реклама"),
    "ru": ("Последние новости", "Теги", "Все права защищены", "О нас", "Контакты", "Реклама"),
    "en": ("Latest news", "Tags", "All rights reserved", "About us", "Contact", "Advertise"),
}


def tag_href(name: str) -> str:
    """The farm's tag page of a tag: ``/tag/<slug>/`` (the slug percent-encoded)."""
    slug = "-".join(name.casefold().replace("'", "").split())
    return f"{TAG_PREFIX}{quote(slug, safe='-')}/"


def page_tags(feed_index: int, seq: int) -> tuple[str, ...]:
    """The 2–4 tags the article page of entry ``seq`` of ``feed_index`` lists under the
    article: the story's categories and one or two of the places it is about."""
    language = feed_language(feed_index)
    rng = random.Random(f"page:{feed_index}:{seq}")
    places = rng.sample(language.cities, 2 if rng.random() < 0.5 else 1)
    return tuple(dict.fromkeys((*item(feed_index, seq).story.categories, *places)))[:4]


def _menu_tags(language: Language) -> tuple[str, ...]:
    """The topic menu of every page of a site: each topic's categories, once."""
    return tuple(dict.fromkeys(name for topic in TOPICS for name in language.categories[topic]))


def _recent_seqs(seq: int) -> list[int]:
    """The entries a page's sidebar lists: the ones before it (after it at the start)."""
    return [seq - k if seq - k >= 0 else seq + k for k in range(1, RECENT_NEWS + 1)]


def _tag_links(names: Iterable[str], cls: str) -> str:
    return "".join(f'<li><a class="{cls}" href="{tag_href(name)}">{_text(name)}</a></li>'
                   for name in names)


def article_page(feed_index: int, seq: int) -> bytes:
    """The HTML article page of entry ``seq`` of ``feed_index``: a site header with its
    topic menu of tag links, the ``<article>`` (title, byline, the item's body, then its
    tag list), a sidebar of recent news with a tag link each, a footer. Deterministic."""
    language = feed_language(feed_index)
    entry = item(feed_index, seq)
    story, esc, attribute = entry.story, _text, html.escape
    recent_news, tags_label, rights, about, contact, advertise = PAGE_WORDS[language.code]
    name = f"{language.site_title} {feed_index:04d}"
    stamp = _rfc3339(entry.published)
    teasers = []
    for other in _recent_seqs(seq):
        teaser = item(feed_index, other)
        teasers.append(
            f'<li class="news-item"><a class="news-title" href="{page_path(feed_index, other)}">'
            f"{esc(teaser.story.title)}</a>"
            f'<div class="news-meta"><time datetime="{_rfc3339(teaser.published)}">'
            f"{teaser.published:%d.%m.%Y %H:%M}</time> "
            f'<a class="news-tag" href="{tag_href(teaser.story.categories[0])}">'
            f"{esc(teaser.story.categories[0])}</a></div></li>")
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                     "headline": story.title, "datePublished": stamp,
                     "author": {"@type": "Person", "name": story.author},
                     "publisher": {"@type": "Organization", "name": name}},
                    ensure_ascii=False)
    text = f"""<!DOCTYPE html>
<html lang="{language.code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(story.title)} — {esc(name)}</title>
<meta name="description" content="{attribute(story.lead)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{attribute(story.title)}">
<meta property="og:image" content="/media/{feed_index}/{seq}.jpg">
<link rel="stylesheet" href="/static/site.css">
<script type="application/ld+json">{ld}</script>
<script async src="/static/analytics.js"></script>
</head>
<body class="page-article">
<header class="site-header">
<a class="logo" href="/">{esc(name)}</a>
<nav class="main-menu"><ul>{_tag_links(_menu_tags(language), "menu-link")}</ul></nav>
<form class="search" action="/search/"><input type="search" name="q"></form>
</header>
<div class="layout">
<main class="content">
<article class="post">
<header class="post-header">
<h1 class="post-title">{esc(story.title)}</h1>
<div class="post-meta"><time datetime="{stamp}">{entry.published:%d.%m.%Y %H:%M}</time>
<span class="byline">{esc(story.author)}</span></div>
</header>
<div class="post-body">
{story.body}
</div>
<div class="post-tags"><span class="label">{tags_label}:</span>
<ul class="tag-list">{_tag_links(page_tags(feed_index, seq), "tag-link")}</ul></div>
</article>
</main>
<aside class="sidebar">
<section class="latest-news"><h2>{recent_news}</h2>
<ul>{"".join(teasers)}</ul></section>
</aside>
</div>
<footer class="site-footer">
<nav class="footer-menu"><a href="/about/">{about}</a> <a href="/contact/">{contact}</a>
<a href="/ads/">{advertise}</a></nav>
<p>© 2026 {esc(name)}. {rights}.</p>
</footer>
<script>window.dataLayer = window.dataLayer || [];
dataLayer.push({{"page": "{feed_index}-{seq}"}});</script>
</body>
</html>
"""
    return text.encode("utf-8")


# --------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class Document:
    """What one path answers in one round."""

    status: int
    body: bytes
    gzipped: bytes | None
    content_type: str
    etags: frozenset[str]  # the strong tags of both encodings ('"…"' and '"…-gz"')
    etag: str | None
    last_modified: datetime | None
    delay: float  # seconds a full (200) answer waits


def _document(spec: FarmSpec, feed_index: int, round: int, fault: str | None,
              page_base: str | None = None) -> Document:
    fmt = feed_format(feed_index)
    if page_base is not None and not has_pages(spec, feed_index):
        page_base = None
    if fault == "http-500":
        return Document(500, b"Internal Server Error\n", None, "text/plain; charset=utf-8",
                        frozenset(), None, None, 0.0)
    if fault == "html":
        body, content_type = not_a_feed(feed_index), "text/html; charset=utf-8"
    else:
        body, content_type = generate_feed(feed_index, spec.entries, round, fmt,
                                           spec.churn, page_base), CONTENT_TYPES[fmt]
        if fault == "malformed":
            body = body[: len(body) * 3 // 5]
    digest = hashlib.blake2b(body, digest_size=10).hexdigest()
    seqs = window(spec.entries, round, spec.churn)
    modified = published(feed_index, seqs[0]) if seqs else ORIGIN
    return Document(
        200, body, gzip.compress(body, GZIP_LEVEL, mtime=0), content_type,
        frozenset({f'"{digest}"', f'"{digest}-gz"'}), f'"{digest}"',
        modified, spec.slow_delay if fault == "slow" else 0.0,
    )


def render_round(spec: FarmSpec, round: int, page_base: str | None = None
                 ) -> dict[str, Document]:
    """Every feed's document at ``round``, by URL path (``page_base``: the farm's base
    URL, which the items of feeds with article pages link to)."""
    broken = faults(spec)
    return {feed_path(i): _document(spec, i, round, broken.get(i), page_base)
            for i in range(spec.feeds)}


@dataclass(frozen=True)
class RoundSummary:
    """What a perfect aggregator polling every feed at one round would store."""

    entries: int  # in well-formed feed documents (healthy and slow feeds)
    syndicated: int  # of those, copies whose original is in a well-formed document too
    faults: Counter[str]


def summarize(spec: FarmSpec, round: int) -> RoundSummary:
    """Entry and copy counts of ``round``, computed without rendering anything."""
    broken = faults(spec)
    readable = [i for i in range(spec.feeds) if is_readable(broken.get(i))]
    good = set(readable)
    seqs = window(spec.entries, round, spec.churn)
    copies = sum(
        1 for i in readable for seq in seqs
        if origin_feed(i, seq) != i and origin_feed(i, seq) in good
    )
    return RoundSummary(len(readable) * len(seqs), copies, Counter(broken.values()))


# --------------------------------------------------------------------------- server


def _not_modified(request: web.Request, document: Document) -> bool:
    if document.etag is None:
        return False
    header = request.headers.get("If-None-Match")
    if header is not None:
        sent = {tag.strip().removeprefix("W/") for tag in header.split(",")}
        return "*" in sent or not sent.isdisjoint(document.etags)
    since = request.headers.get("If-Modified-Since")
    if since is None or document.last_modified is None:
        return False
    try:
        return document.last_modified <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


class FarmServer:
    """The aiohttp application: feed documents by round, control endpoints, counters."""

    def __init__(self, spec: FarmSpec) -> None:
        self.spec = spec
        self.rounds: dict[int, dict[str, Document]] = {}
        self.round = 0
        self.stats: Counter[str] = Counter()
        self.broken = faults(spec)
        self.indexes = {feed_path(i): i for i in range(spec.feeds)}
        self.fetches: Counter[int] = Counter()  # churn_per_fetch: requests per feed
        self.served: dict[int, int] = {}  # feed → the last round answered with a 200
        self.page_base: str | None = None  # http://host:port, once known (page_share)
        if not spec.churn_per_fetch and not spec.page_share:
            self.switch(1)

    def bound(self, base_url: str) -> None:
        """The farm listens at ``base_url``: with article pages, items link there, so
        round 1 is rendered now."""
        if self.spec.page_share:
            self.page_base = base_url
            self.rounds.clear()
            if not self.spec.churn_per_fetch:
                self.switch(1)

    def switch(self, round: int) -> float:
        """Serve ``round`` from now on (rendering it the first time); seconds taken."""
        started = time.perf_counter()
        if round not in self.rounds:
            self.rounds[round] = render_round(self.spec, round, self.page_base)
        self.round = round
        return time.perf_counter() - started

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one request."""
        if request.path == SERVED_PATH:
            return web.json_response({str(feed): round for feed, round in self.served.items()})
        if request.path == STATS_PATH:
            documents = self.rounds[self.round].values() if self.rounds else ()
            return web.json_response({
                **self.stats, "round": self.round,
                "round_bytes": sum(len(d.body) for d in documents),
                "round_gzip_bytes": sum(len(d.gzipped or b"") for d in documents),
            })
        if request.path == ROUND_PATH and request.method == "POST":
            seconds = self.switch(int(request.query.get("n", "1")))
            return web.json_response({"round": self.round, "seconds": seconds})
        self.stats["requests"] += 1
        if self.spec.page_share and (request.path.startswith(PAGE_PREFIX)
                                     or request.path == ROBOTS_PATH):
            return self._page(request)
        moved = request.path.startswith(MOVED_PREFIX + "/")
        index = self.indexes.get(request.path.removeprefix(MOVED_PREFIX) if moved
                                 else request.path)
        fault = None if index is None else self.broken.get(index)
        if index is None or (moved and fault != MOVED) or request.method not in ("GET", "HEAD"):
            self.stats["404"] += 1
            return web.Response(status=404, text="not found")
        if fault == MOVED and not moved:
            self.stats["301"] += 1
            raise web.HTTPMovedPermanently(MOVED_PREFIX + request.path)
        round, document = self._document(index, fault)
        if document.status != 200:
            self.stats[str(document.status)] += 1
            return web.Response(status=document.status, body=document.body,
                                content_type="text/plain")
        headers = {"Content-Type": document.content_type, "Vary": "Accept-Encoding"}
        if self.spec.validators and document.etag and document.last_modified:
            headers["Last-Modified"] = _rfc822(document.last_modified)
            headers["ETag"] = document.etag
            if _not_modified(request, document):
                self.stats["304"] += 1
                return web.Response(status=304, headers=headers)
        if document.delay:
            self.stats["slow"] += 1
            await asyncio.sleep(document.delay)
        body = document.body
        if document.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
            body = document.gzipped
            headers["Content-Encoding"] = "gzip"
            if "ETag" in headers:
                headers["ETag"] = headers["ETag"][:-1] + '-gz"'
        self.stats["200"] += 1
        self.stats["bytes"] += len(body)
        self.served[index] = round
        return web.Response(body=body, headers=headers)

    def _document(self, index: int, fault: str | None) -> tuple[int, Document]:
        """The round feed ``index`` is answered with now, and its document."""
        if not self.spec.churn_per_fetch:
            return self.round, self.rounds[self.round][feed_path(index)]
        self.fetches[index] += 1
        round = self.fetches[index]
        return round, _document(self.spec, index, round, fault, self.page_base)

    def _page(self, request: web.Request) -> web.Response:
        """An article page (``/page/<feed>/<seq>/`` of a feed with pages), or a 404 (for
        ``/robots.txt`` too: everything allowed)."""
        parts = request.path.removeprefix(PAGE_PREFIX).split("/")
        if request.path == ROBOTS_PATH:
            self.stats["robots"] += 1
            return web.Response(status=404, text="not found")
        if (request.method not in ("GET", "HEAD") or len(parts) != 3 or parts[2]
                or not all(part.isdigit() for part in parts[:2])
                or not (0 <= int(parts[0]) < self.spec.feeds)
                or not has_pages(self.spec, int(parts[0]))):
            self.stats["page 404"] += 1
            return web.Response(status=404, text="not found")
        body = article_page(int(parts[0]), int(parts[1]))
        headers = {"Content-Type": "text/html; charset=utf-8", "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, GZIP_LEVEL, mtime=0)
            headers["Content-Encoding"] = "gzip"
        self.stats["page"] += 1
        self.stats["page bytes"] += len(body)
        return web.Response(body=body, headers=headers)

    def app(self) -> web.Application:
        """The aiohttp application."""
        application = web.Application()
        application.router.add_route("*", "/{path:.*}", self.handle)
        return application


async def serve(spec: FarmSpec, host: str, port: int, conn: Connection | None = None) -> None:
    """Render round 1, listen on ``host:port`` (0: any free port), report the port
    through ``conn`` (or print the base URL) and serve until cancelled."""
    server = FarmServer(spec)
    runner = web.AppRunner(server.app(), access_log=None, handle_signals=False)
    await runner.setup()
    site_ = web.TCPSite(runner, host, port, backlog=2048)
    await site_.start()
    bound = runner.addresses[0][1]
    server.bound(f"http://{host}:{bound}")
    if conn is not None:
        send_port(conn, bound)
    else:
        print(f"feed farm: {spec.feeds} feeds × {spec.entries} entries at "
              f"http://{host}:{bound}/f/0000{EXTENSIONS[feed_format(0)]} … (Ctrl-C stops)",
              flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _child_main(spec: FarmSpec, host: str, port: int, conn: Connection) -> None:
    asyncio.run(serve(spec, host, port, conn))


class Farm:
    """A running farm in a child process (it never shares the poller's GIL or memory)."""

    def __init__(self, spec: FarmSpec, port: int = 0, host: str = "127.0.0.1",
                 start_timeout: float = 300.0) -> None:
        self.spec, self.host = spec, host
        self._process, self.port = start_child(_child_main, (spec, host, port), "feed farm",
                                               start_timeout)
        self.base_url = f"http://{host}:{self.port}"

    @property
    def pid(self) -> int:
        """The server process id."""
        assert self._process.pid is not None
        return self._process.pid

    def url(self, feed_index: int) -> str:
        """The URL of one feed."""
        return self.base_url + feed_path(feed_index)

    def urls(self) -> list[str]:
        """Every feed's URL, in index order."""
        return [self.url(i) for i in range(self.spec.feeds)]

    def page_url(self, feed_index: int, seq: int) -> str:
        """The article page of entry ``seq`` of a feed with pages."""
        return self.base_url + page_path(feed_index, seq)

    def set_round(self, round: int) -> float:
        """Serve ``round`` from now on; returns the seconds the farm took to render it."""
        answer = http_json(f"{self.base_url}{ROUND_PATH}?n={round}", method="POST",
                           timeout=600)
        return float(answer["seconds"])

    def stats(self) -> Counter[str]:
        """Counters since start: requests, 200, 304, 404, 500, slow, bytes (as sent)."""
        answer = http_json(self.base_url + STATS_PATH)
        for key in ("round", "round_bytes", "round_gzip_bytes"):
            answer.pop(key, None)
        return Counter({key: int(value) for key, value in answer.items()})

    def served(self) -> dict[int, int]:
        """Feed index → the last round it was answered with (a 200)."""
        return {int(feed): int(round)
                for feed, round in http_json(self.base_url + SERVED_PATH).items()}

    def round_bytes(self) -> tuple[int, int]:
        """Bytes of every document of the current round, plain and gzipped."""
        answer = http_json(self.base_url + STATS_PATH)
        return int(answer["round_bytes"]), int(answer["round_gzip_bytes"])

    def stop(self) -> None:
        """Terminate the server process."""
        self._process.terminate()
        self._process.join(10)

    def __enter__(self) -> Farm:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


def start_farm(spec: FarmSpec | None = None, port: int = 0) -> Farm:
    """Start a farm on 127.0.0.1 (``port`` 0: a free one) at round 1; ``farm.base_url``."""
    return Farm(spec or FarmSpec(), port)


def describe(spec: FarmSpec, summary: RoundSummary, sizes: tuple[int, int]) -> Iterator[str]:
    """Human-readable lines about what the farm serves."""
    formats = Counter(feed_format(i) for i in range(spec.feeds))
    yield (f"{spec.feeds} feeds × {spec.entries} entries ({formats['rss']} RSS, "
           f"{formats['atom']} Atom, {formats['json']} JSON Feed; uk/ru/en in turn), churn "
           f"{spec.churn}/round, validators {'on' if spec.validators else 'off'}")
    yield (f"round 1: {sizes[0] / 1e6:.1f} MB ({sizes[1] / 1e6:.1f} MB "
           f"gzipped), {summary.entries} entries in readable feeds, {summary.syndicated} of"
           " them syndicated copies")
    yield ("faulty: " + (", ".join(f"{summary.faults[kind]} {kind}"
                                   for kind in spec.fault_kinds)
                         if summary.faults else "none")
           + (f" (slow = {spec.slow_delay:g} s per full answer)" if summary.faults else ""))
    if spec.page_share:
        with_pages = page_feeds(spec)
        sizes_ = [len(article_page(i, seq)) for i in with_pages[:20] for seq in range(5)]
        yield (f"article pages: {len(with_pages)} feeds ({spec.page_share:.0%}) link their"
               f" items to /page/<feed>/<seq>/ on the farm (about"
               f" {sum(sizes_) / max(1, len(sizes_)) / 1e3:.1f} kB each; 2–4 tags under the"
               " article, a tag menu and a sidebar of recent news around it); /robots.txt"
               " 404")


def main(argv: list[str] | None = None) -> None:
    """Run the farm in the foreground."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, default=DEFAULT_FEEDS)
    parser.add_argument("--entries", type=int, default=DEFAULT_ENTRIES)
    parser.add_argument("--churn", type=int, default=DEFAULT_CHURN)
    parser.add_argument("--faults", type=float, default=DEFAULT_FAULT_SHARE,
                        help="share of faulty feeds (0.02)")
    parser.add_argument("--slow", type=float, default=DEFAULT_SLOW_DELAY,
                        help="seconds a slow feed waits (2)")
    parser.add_argument("--no-validators", action="store_true",
                        help="send no ETag / Last-Modified (never 304)")
    parser.add_argument("--pages", type=float, default=0.0,
                        help="share of feeds whose items link to article pages (0)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    args = parser.parse_args(argv)
    spec = FarmSpec(args.feeds, args.entries, args.churn, args.faults, args.slow,
                    not args.no_validators, page_share=args.pages)
    try:
        asyncio.run(serve(spec, args.host, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
