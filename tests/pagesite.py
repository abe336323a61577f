"""A news site in the shape of the model user's: uk/ru/en editions whose feeds carry a
summary and ``<category>News</category>`` only, and article pages whose tags are links
under the article, among a topic menu of tag links and a recent-news sidebar."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

MENU = {"uk": [("Війна", "viina"), ("Путін", "putin"), ("Економіка", "ekonomika")],
        "ru": [("Война", "voina"), ("Путин", "putin"), ("Экономика", "ekonomika")],
        "en": [("War", "war"), ("Putin", "putin"), ("Economy", "economy")]}


@dataclass(frozen=True)
class Story:
    """One article of the site, in one language."""

    slug: str
    language: str
    title: str
    paragraphs: tuple[str, ...]
    tags: tuple[tuple[str, str], ...]  # (shown name, tag page slug)
    published: str = "Mon, 07 Dec 2026 10:00:00 GMT"

    @property
    def path(self) -> str:
        return f"/{self.language}/news/{self.slug}/"

    @property
    def summary(self) -> str:
        return self.paragraphs[0].split(". ")[0] + "."


def article_page(story: Story, others: tuple[Story, ...] = ()) -> str:
    """The story's page: header menu, the article with its tag links under the text, a
    recent-news sidebar whose items show their own tags, and a footer."""
    language = story.language
    menu = "".join(f'<li><a href="/{language}/tags/{slug}/">{escape(name)}</a></li>'
                   for name, slug in MENU[language])
    text = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in story.paragraphs)
    tags = "".join(f'<a class="tag" href="/{language}/tags/{slug}/">{escape(name)}</a> '
                   for name, slug in story.tags)
    recent = "".join(
        f'<li><a href="{other.path}">{escape(other.title)}</a> '
        + "".join(f'<a href="/{language}/tags/{slug}/">{escape(name)}</a>'
                  for name, slug in other.tags) + "</li>"
        for other in others)
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{escape(story.title)}</title></head><body>"
        f'<header class="site-header"><nav><ul class="topics">{menu}</ul></nav></header>'
        f'<div class="layout"><main><div class="post">'
        f"<h1>{escape(story.title)}</h1><div class=\"post-body\">{text}</div>"
        f'<div class="post-tags">{tags}</div></div></main>'
        f'<div class="col-right"><h3>Recent news</h3><ul class="recent-news">{recent}</ul>'
        f"<p>Subscribe to our newsletter to get the news first every morning.</p></div>"
        f'</div><footer><a href="/{language}/tags/war/">War</a> © Site</footer>'
        "</body></html>"
    )


def feed(language: str, stories: tuple[Story, ...], base: str) -> str:
    """The edition's RSS: a summary and ``<category>News</category>`` per item."""
    items = "".join(
        f"<item><title>{escape(story.title)}</title><link>{base}{story.path}</link>"
        f"<guid>{base}{story.path}</guid><pubDate>{story.published}</pubDate>"
        f"<category>News</category><description>{escape(story.summary)}</description></item>"
        for story in stories)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Site {language}</title><link>{base}/{language}/</link>"
            f"<language>{language}</language>{items}</channel></rss>")
