"""Tags and main text read from article pages (refeed.pages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from refeed.model import PageFindings
from refeed.pages import page_tags, parse_page, with_page
from tests.factories import load_bench, make_entry, site_settings
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


ARTICLE = ("<p>Делегації України та Росії зустрілися в Стамбулі на новий раунд переговорів "
           "про припинення вогню. Зустріч приймав міністр закордонних справ Туреччини.</p>"
           "<p>Першою темою став обмін полоненими та повернення депортованих дітей, сказав "
           "голова української делегації після першого дня консультацій.</p>")


def test_page_tags_join_the_feed_categories_and_map_through_the_aliases() -> None:
    settings = site_settings(tags={"putin": ["Putin", "Путін"]})
    entry = make_entry(categories=("News",), tags=("news",))
    completed = with_page(entry, PageFindings(tags=("Путін", "переговори")),
                          settings.sources[0], settings)
    assert completed.categories == entry.categories  # the feed's, kept apart
    assert set(completed.tags) == {"News", "putin", "переговори"}  # unmapped stay as written
    assert completed.content == entry.content  # no article asked for: the feed's text stays


def test_the_article_replaces_a_summary_and_the_text_follows_it() -> None:
    settings = site_settings(language={"detect": True})
    entry = make_entry(summary="<p>Делегації зустрілися.</p>", language=None,
                       declared_language=None)
    completed = with_page(entry, PageFindings(article=ARTICLE), settings.sources[0], settings)
    assert completed.content == ARTICLE
    assert completed.language == "uk"  # detected on the article, not the one-line summary
    assert "стамбулі" in completed.names or "стамбул" in {name[:7] for name in completed.names}
    assert completed.signature != entry.signature
    # a feed that already gives the whole text keeps it
    full = make_entry(content=ARTICLE.replace("Туреччини", "Туреччини, повідомили в МЗС"))
    assert with_page(full, PageFindings(article=ARTICLE), settings.sources[0],
                     settings).content == full.content


WORDPRESS = ("<html><body><header class='site-header'><nav><a href='/tag/war/'>War</a></nav>"
             "</header><main><article class='post'><header class='entry-header'><h1>Talks</h1>"
             "<a rel='category tag' href='/category/politics/'>Politics</a></header>"
             "<div class='entry-content'><p>" + " ".join(TALKS.paragraphs) + "</p></div>"
             "<footer class='entry-footer'><a rel='tag' href='/tag/putin/'>Putin</a></footer>"
             "</article><div class='after'><h3>You may also like</h3><div class='card'>"
             "<a href='/news/grid/'>Power cuts return to Kharkiv tonight</a>"
             "<a href='/tag/energy/'>energy</a></div></div></main></body></html>")


def test_the_articles_own_footer_counts_a_category_or_a_teaser_does_not() -> None:
    assert tags_of(WORDPRESS) == ("Putin",)


def test_the_blind_page_set_floors() -> None:
    # a little below bench/page_tags.py's numbers (tests/data/page-tags, written blind)
    bench = load_bench(Path(__file__).parent.parent / "bench" / "page_tags.py")
    for half, floor in {"development": 0.99, "held-out": 0.98}.items():
        precision, recall, pages = bench.scores(half)
        assert pages >= 60
        assert precision >= floor, half
        assert recall >= floor, half


def test_a_post_footer_with_a_next_article_link_keeps_its_tags() -> None:
    # the tags, then "next article" by its headline: a post's footer, not a teaser; a
    # list's story shows its topic chip above its headline: a teaser
    page = WORDPRESS.replace(
        "</footer>", "<a href='/news/next/'>Next: Power cuts return to Kharkiv</a></footer>"
    ).replace("<div class='card'>", "<article class='x1'><a href='/tag/grid/'>grid</a>"
              ).replace("<a href='/tag/energy/'>energy</a></div>", "</article>")
    assert tags_of(page) == ("Putin",)
