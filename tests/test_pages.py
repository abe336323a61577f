"""Tags and main text read from article pages (refeed.pages)."""

from __future__ import annotations

import pytest

from refeed.pages import page_tags, parse_page
from tests.pagesite import Story, article_page

TALKS = Story(
    "talks", "en", "Delegations meet in Istanbul for a new round of talks",
    ("Ukrainian and Russian delegations met in Istanbul on Monday for a new round of "
     "negotiations on a ceasefire. The talks were hosted by Turkey's foreign minister.",
     "Kyiv's delegation was led by the defence minister, who said the first topic would "
     "be an exchange of prisoners of war and the return of deported children.",
     "The Kremlin said Vladimir Putin would not attend, and that no meeting with "
     "Volodymyr Zelenskyy was planned before a draft memorandum was agreed."),
    (("Putin", "putin"), ("Zelenskyy", "zelenskyy"), ("negotiations", "negotiations")),
)
GRID = Story("grid", "en", "Power cuts return to Kharkiv",
             ("Scheduled power cuts return to Kharkiv after a strike on a substation.",),
             (("energy", "energy"), ("Kharkiv", "kharkiv")))


def tags_of(page: str, selector: str | None = None) -> tuple[str, ...]:
    root = parse_page(page)
    assert root is not None
    return page_tags(root, selector)


def test_tag_links_under_the_article_not_the_menu_sidebar_or_footer() -> None:
    assert tags_of(article_page(TALKS, others=(GRID,))) == ("Putin", "Zelenskyy",
                                                           "negotiations")


def test_an_article_without_tags_has_none_though_the_page_links_to_tag_pages() -> None:
    untagged = Story("x", "en", TALKS.title, TALKS.paragraphs, ())
    assert tags_of(article_page(untagged, others=(GRID,))) == ()


def test_a_selector_overrides_the_guess() -> None:
    page = article_page(TALKS, others=(GRID,))
    assert tags_of(page, ".recent-news a[href*='/tags/']") == ("energy", "Kharkiv")


@pytest.mark.parametrize(
    "head",
    [
        '<meta property="article:tag" content="Putin"><meta property="article:tag" '
        'content="negotiations">',
        '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
        '{"@type": "WebSite", "keywords": "news, Ukraine"}, {"@type": "NewsArticle", '
        '"keywords": "Putin, negotiations"}]}</script>',
        '<script type="application/ld+json">{"@type": ["NewsArticle"], '
        '"keywords": ["Putin", "negotiations"]}</script>',
    ],
)
def test_tags_declared_in_the_head(head: str) -> None:
    page = article_page(Story("x", "en", TALKS.title, TALKS.paragraphs, ()), others=(GRID,))
    assert tags_of(page.replace("</head>", head + "</head>")) == ("Putin", "negotiations")


def test_rel_tag_links_inside_the_article() -> None:
    page = article_page(Story("x", "en", TALKS.title, TALKS.paragraphs, ()))
    page = page.replace('<div class="post-tags">', '<div class="post-tags"><a rel="tag" '
                        'href="/en/news/?q=putin">Putin</a>')
    assert tags_of(page) == ("Putin",)
