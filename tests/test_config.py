"""Tests for :func:`refeed.config.load_settings`: the shipped config, defaults, durations,
sizes, relative paths and — above all — error reports that name the exact line and field
path of every problem, all at once."""

from __future__ import annotations

import json
import operator
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from refeed.config import Settings, load_settings
from refeed.errors import ConfigError, ConfigProblem, RefeedError
from refeed.text import tag_fold

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_NAME = "cfg.yaml"
ONE_SOURCE = """\
sources:
  - id: up-uk
    url: https://www.pravda.com.ua/rss/
"""

Location = tuple[str, int | None, str]


# ---------------------------------------------------------------------------- helpers


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary working directory, so configs load as plain ``cfg.yaml`` and problems
    name that short path."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_config(folder: Path, text: str, name: str = CONFIG_NAME) -> Path:
    """Write ``text`` (dedented) to ``folder/name`` and return the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_text(folder: Path, text: str) -> Settings:
    """Write ``text`` as the config in ``folder`` and load it."""
    return load_settings(write_config(folder, text))


def problems_of(path: str | Path) -> list[ConfigProblem]:
    """The problems ``load_settings(path)`` reports; fails the test if it loads."""
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return caught.value.problems


def problems_in(text: str) -> list[ConfigProblem]:
    """Write ``text`` as ``cfg.yaml`` in the current directory and return its problems."""
    write_config(Path.cwd(), text)
    return problems_of(CONFIG_NAME)


def locations(problems: list[ConfigProblem]) -> list[Location]:
    """Each problem reduced to ``(file, line, field)``."""
    return [(problem.file, problem.line, problem.field) for problem in problems]


def find_problem(problems: list[ConfigProblem], line: int | None, field: str) -> ConfigProblem:
    """The one problem at ``line`` and ``field``; fails with the full list otherwise."""
    found = [p for p in problems if (p.line, p.field) == (line, field)]
    assert len(found) == 1, f"expected one problem at {line}/{field!r} in {problems}"
    return found[0]


def with_polling(key: str, value: str) -> str:
    """A one-source config whose ``polling.<key>`` is ``value`` (on line 2)."""
    return f"polling:\n  {key}: {value}\n{ONE_SOURCE}"


# ------------------------------------------------------------------ the shipped config


@pytest.fixture(scope="module")
def shipped() -> Settings:
    """``config.yaml`` at the project root, loaded."""
    return load_settings(PROJECT_ROOT / "config.yaml")


def test_shipped_config_has_the_three_editions(shipped: Settings) -> None:
    assert [(s.id, s.language) for s in shipped.sources] == [
        ("up-uk", "uk"),
        ("up-ru", "ru"),
        ("up-en", "en"),
    ]
    assert all(s.url.startswith("https://www.pravda.com.ua/") for s in shipped.sources)
    assert {"putin", "zelenskyy", "negotiations"} <= set(shipped.tags)


def test_shipped_config_paths_are_next_to_it(shipped: Settings) -> None:
    assert shipped.database == PROJECT_ROOT / "refeed.db"
    assert shipped.output_dir == PROJECT_ROOT / "feeds"


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("Путін", "putin"),
        ("путин", "putin"),
        ("PUTIN", "putin"),
        ("Зеленський", "zelenskyy"),
        ("зеленский", "zelenskyy"),
        ("Zelensky", "zelenskyy"),
        ("переговори", "negotiations"),
        ("Переговоры", "negotiations"),
        ("NEGOTIATIONS", "negotiations"),
    ],
)
def test_shipped_taxonomy_maps_every_spelling(
    shipped: Settings, spelling: str, canonical: str
) -> None:
    assert shipped.taxonomy.aliases[tag_fold(spelling)] == canonical


def test_shipped_taxonomy_rules_are_the_match_regexes(shipped: Settings) -> None:
    rules = shipped.taxonomy.rules
    assert ("negotiations", "(?i)переговор") in rules
    assert {canonical for canonical, _ in rules} >= {"putin", "zelenskyy", "negotiations"}


# ----------------------------------------------------------------------------- defaults


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ("polling.interval", timedelta(minutes=15)),
        ("polling.timeout", timedelta(seconds=30)),
        ("polling.max_bytes", 10_000_000),
        ("polling.concurrency", 50),
        ("polling.per_host", 4),
        ("polling.allow_file_urls", False),
        ("dedup.window", timedelta(hours=72)),
        ("dedup.near_duplicates", True),
        ("retention.max_age", timedelta(days=180)),
        ("publish.formats", ("atom", "rss", "json")),
        ("publish.limit", 50),
        ("publish.per_tag", True),
        ("publish.per_language", True),
        ("publish.per_tag_language", True),
        ("publish.feeds", ()),
        ("publish.max_delay", timedelta(seconds=30)),
        ("server.host", "127.0.0.1"),
        ("server.port", 8080),
        ("tags", {}),
    ],
)
def test_defaults_when_only_sources_given(tmp_path: Path, attribute: str, expected: object) -> None:
    settings = load_text(tmp_path, ONE_SOURCE)
    assert operator.attrgetter(attribute)(settings) == expected


def test_source_interval_falls_back_to_polling_interval(tmp_path: Path) -> None:
    settings = load_text(
        tmp_path, ONE_SOURCE + "    interval: 10m\n  - id: b\n    url: https://b.example/\n"
    )
    first, second = settings.sources
    assert settings.source_interval(first) == timedelta(minutes=10)
    assert settings.source_interval(second) == timedelta(minutes=15)


# ---------------------------------------------------------------- durations and sizes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("72h", timedelta(hours=72)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("180d", timedelta(days=180)),
        ("90", timedelta(seconds=90)),
        ("3600", timedelta(hours=1)),
    ],
)
def test_durations(tmp_path: Path, value: str, expected: timedelta) -> None:
    assert load_text(tmp_path, with_polling("interval", value)).polling.interval == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10MB", 10_000_000), ("512KiB", 512 * 1024), ("1GiB", 2**30), ("2048", 2048)],
)
def test_sizes(tmp_path: Path, value: str, expected: int) -> None:
    assert load_text(tmp_path, with_polling("max_bytes", value)).polling.max_bytes == expected


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("interval", "soon", "not a duration"),
        ("interval", "0", "longer than zero"),
        ("interval", "-5m", ""),
        ("timeout", "'15 parsecs'", "not a duration"),
        ("max_bytes", "lots", ""),
        ("max_bytes", "0", "greater than 0"),
        ("max_bytes", "10 parsecs", ""),
    ],
)
def test_bad_duration_or_size_is_reported_at_its_value(
    workdir: Path, key: str, value: str, fragment: str
) -> None:
    problems = problems_in(with_polling(key, value))
    assert locations(problems) == [(CONFIG_NAME, 2, f"polling.{key}")]
    assert fragment in problems[0].message


@pytest.mark.parametrize("value", ["0.9", "0.5", "25h", "2d"])
def test_a_publish_bound_outside_a_second_to_a_day_is_refused_at_its_line(
    workdir: Path, value: str
) -> None:
    problems = problems_in(f"publish:\n  max_delay: {value}\n{ONE_SOURCE}")
    assert locations(problems) == [(CONFIG_NAME, 2, "publish.max_delay")]
    assert "between 1s and 24h" in problems[0].message


@pytest.mark.parametrize(("value", "seconds"), [("1s", 1), ("45s", 45), ("24h", 86400)])
def test_a_publish_bound_within_a_second_to_a_day_is_kept(
    tmp_path: Path, value: str, seconds: int
) -> None:
    settings = load_text(tmp_path, f"publish:\n  max_delay: {value}\n{ONE_SOURCE}")
    assert settings.publish.max_delay == timedelta(seconds=seconds)


# ---------------------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("value", "relative"),
    [
        ("refeed.db", "refeed.db"),
        ("data/timeline.db", "data/timeline.db"),
        ("../up.db", "../up.db"),
    ],
)
def test_database_path_is_relative_to_the_config_folder(
    workdir: Path, value: str, relative: str
) -> None:
    config = write_config(workdir / "conf", f"database: {value}\n{ONE_SOURCE}")
    settings = load_settings(Path("conf") / CONFIG_NAME)  # a relative path to the file
    assert settings.database.is_absolute()
    assert settings.database.resolve() == (config.parent / relative).resolve()


@pytest.mark.parametrize(("key", "value"), [("output_dir", "out"), ("database", "x.db")])
def test_absolute_paths_are_kept(tmp_path: Path, key: str, value: str) -> None:
    absolute = tmp_path / "elsewhere" / value
    settings = load_text(tmp_path / "conf", f"{key}: {absolute}\n{ONE_SOURCE}")
    assert getattr(settings, key) == absolute


@pytest.mark.parametrize(("key", "default"), [("database", "refeed.db"), ("output_dir", "feeds")])
def test_default_paths_are_relative_to_the_config_folder(
    workdir: Path, key: str, default: str
) -> None:
    write_config(workdir / "conf", ONE_SOURCE)
    settings = load_settings(Path("conf") / CONFIG_NAME)
    assert getattr(settings, key) == workdir / "conf" / default


def test_local_source_path_is_relative_to_the_config_folder(tmp_path: Path) -> None:
    text = """\
    polling: {allow_file_urls: true}
    sources:
      - id: local
        url: fixtures/feed.xml
    """
    settings = load_text(tmp_path / "conf", text)
    assert Path(settings.sources[0].url) == tmp_path / "conf" / "fixtures" / "feed.xml"


# ---------------------------------------------------------------------------- file URLs

LOCAL_SOURCES = """\
sources:
  - id: web
    url: https://www.pravda.com.ua/rss/
  - id: file
    url: file:///srv/feeds/up.xml
  - id: path
    url: /srv/feeds/up.xml
"""


def test_local_urls_refused_without_allow_file_urls(workdir: Path) -> None:
    problems = problems_in(LOCAL_SOURCES)
    assert locations(problems) == [
        (CONFIG_NAME, 5, "sources[1].url"),
        (CONFIG_NAME, 7, "sources[2].url"),
    ]
    assert all("allow_file_urls" in problem.message for problem in problems)


def test_local_urls_accepted_with_allow_file_urls(tmp_path: Path) -> None:
    settings = load_text(tmp_path, "polling:\n  allow_file_urls: true\n" + LOCAL_SOURCES)
    assert settings.polling.allow_file_urls is True
    assert [source.url for source in settings.sources] == [
        "https://www.pravda.com.ua/rss/",
        "file:///srv/feeds/up.xml",
        "/srv/feeds/up.xml",
    ]


@pytest.mark.parametrize("flag", ["yes", "1", "'true'"])
def test_allow_file_urls_flag_is_honoured_or_reported(workdir: Path, flag: str) -> None:
    write_config(workdir, f"polling:\n  allow_file_urls: {flag}\n" + LOCAL_SOURCES)
    problems: list[ConfigProblem] = []
    try:
        load_settings(CONFIG_NAME)
    except ConfigError as error:
        problems = error.problems
    assert [p.field for p in problems] in ([], ["polling.allow_file_urls"])


# ------------------------------------------------------------ many problems in one file

BAD_CONFIG = """\
colour: blue
site:
  title: Broken
  languages:
    - uk
    - xx
polling:
  interval: soon
  max_bytes: lots
  timout: 5s
sources:
  - id: up-uk
    url: https://www.pravda.com.ua/rss/
    language: xx
  - id: up-uk
    url: ftp://example.com/feed.xml
  - id: local
    url: file:///tmp/feed.xml
    tgs: [x]
  - id: Bad_Id
    url: https://example.com/
tags:
  putin: [Putin, Путін]
  vlad: {aliases: [Vlad, путін]}
  talks:
    match: ["(?i)talks", "(unclosed"]
publish:
  feeds:
    - id: all
      match: "[bad"
    - id: en
      languages: [en]
    - id: en
retention:
  max_age:
    forever
extra_section:
  nested: 1
"""

# (line, field path, a fragment of the message) of every problem in BAD_CONFIG
BAD_CONFIG_PROBLEMS: list[tuple[int, str, str]] = [
    (1, "colour", "unknown key"),
    (6, "site.languages[1]", "unknown language code 'xx'"),
    (8, "polling.interval", "not a duration"),
    (9, "polling.max_bytes", ""),
    (10, "polling.timout", "unknown key"),
    (14, "sources[0].language", "unknown language code 'xx'"),
    (15, "sources[1].id", "duplicate id 'up-uk'"),
    (16, "sources[1].url", "unsupported URL scheme 'ftp'"),
    (18, "sources[2].url", "allow_file_urls"),
    (19, "sources[2].tgs", "unknown key"),
    (20, "sources[3].id", "lowercase"),
    (24, "tags.vlad.aliases[1]", "'putin'"),
    (26, "tags.talks.match[1]", "invalid regular expression '(unclosed'"),
    (29, "publish.feeds[0].id", "reserved"),
    (30, "publish.feeds[0].match", "invalid regular expression '[bad'"),
    (33, "publish.feeds[2].id", "duplicate id 'en'"),
    (36, "retention.max_age", "not a duration"),
    (37, "extra_section", "unknown key"),
]


@pytest.fixture
def bad_config_error(workdir: Path) -> ConfigError:
    """The error from loading BAD_CONFIG as ``cfg.yaml``."""
    write_config(workdir, BAD_CONFIG)
    with pytest.raises(ConfigError) as caught:
        load_settings(CONFIG_NAME)
    return caught.value


def test_every_problem_is_reported_in_one_go(bad_config_error: ConfigError) -> None:
    expected = sorted((CONFIG_NAME, line, field) for line, field, _ in BAD_CONFIG_PROBLEMS)
    assert sorted(locations(bad_config_error.problems)) == expected


def test_problems_are_in_file_order(bad_config_error: ConfigError) -> None:
    lines = [problem.line or 0 for problem in bad_config_error.problems]
    assert lines == sorted(lines)


@pytest.mark.parametrize(
    ("line", "field", "fragment"),
    BAD_CONFIG_PROBLEMS,
    ids=[field for _, field, _ in BAD_CONFIG_PROBLEMS],
)
def test_each_problem_has_its_line_field_and_message(
    bad_config_error: ConfigError, line: int, field: str, fragment: str
) -> None:
    problem = find_problem(bad_config_error.problems, line, field)
    assert problem.file == CONFIG_NAME
    assert fragment in problem.message


def test_str_is_one_file_line_field_message_line_per_problem(
    bad_config_error: ConfigError,
) -> None:
    expected = [
        f"{CONFIG_NAME}:{p.line}: {p.field}: {p.message}" for p in bad_config_error.problems
    ]
    assert str(bad_config_error).splitlines() == expected
    assert isinstance(bad_config_error, RefeedError)


def test_missing_sources_is_reported_with_other_problems(workdir: Path) -> None:
    problems = problems_in("site:\n  title: x\n  colour: red\npolling: {interval: never}\n")
    assert locations(problems) == [
        (CONFIG_NAME, 1, "sources"),
        (CONFIG_NAME, 3, "site.colour"),
        (CONFIG_NAME, 4, "polling.interval"),
    ]
    assert problems[0].message == "required"


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        pytest.param("extra:\n  nested: 1\n" + ONE_SOURCE, 1, "extra", id="unknown-key-block"),
        pytest.param(
            ONE_SOURCE + "    extra:\n      - 1\n", 4, "sources[0].extra", id="unknown-in-item"
        ),
        pytest.param(
            "polling:\n  timeout:\n    never\n" + ONE_SOURCE,
            3,
            "polling.timeout",
            id="value-on-next-line",
        ),
        pytest.param(
            "sources:\n  - id: a\n    url:\n      gopher://x/\n",
            4,
            "sources[0].url",
            id="url-on-next-line",
        ),
        pytest.param(
            "publish:\n  formats:\n    - atom\n    - pdf\n" + ONE_SOURCE,
            4,
            "publish.formats[1]",
            id="list-item",
        ),
    ],
)
def test_unknown_key_at_key_line_bad_value_at_value_line(
    workdir: Path, text: str, line: int, field: str
) -> None:
    assert locations(problems_in(text)) == [(CONFIG_NAME, line, field)]


# ----------------------------------------------------- documents that cannot be read at all


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        pytest.param(ONE_SOURCE + "site:\n  title: a: b\n", 5, "invalid YAML", id="yaml-syntax"),
        pytest.param(
            ONE_SOURCE + "polling: {}\n" + ONE_SOURCE, 5, "duplicate key", id="duplicate-key"
        ),
        pytest.param(
            ONE_SOURCE.replace("    url", "  url"), 3, "invalid YAML", id="bad-indentation"
        ),
        pytest.param("- id: a\n  url: https://e.com/\n", 1, "mapping", id="list-not-mapping"),
        pytest.param("just a string\n", 1, "mapping", id="scalar-not-mapping"),
        pytest.param("", 1, "mapping", id="empty-file"),
    ],
)
def test_unusable_document_is_one_problem_at_its_line(
    workdir: Path, text: str, line: int, fragment: str
) -> None:
    problems = problems_in(text)
    assert [(p.file, p.line) for p in problems] == [(CONFIG_NAME, line)]
    assert fragment in problems[0].message
    assert str(problems[0]).startswith(f"{CONFIG_NAME}:{line}: ")


def test_missing_file_is_a_problem_without_line(workdir: Path) -> None:
    problems = problems_of("nowhere.yaml")
    assert locations(problems) == [("nowhere.yaml", None, "")]
    assert "cannot read config" in problems[0].message
    assert str(problems[0]).startswith("nowhere.yaml: ")


# ---------------------------------------------------------------------- known problems


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        pytest.param(
            "polling:\n  interval:\n  timeout: 30s\n" + ONE_SOURCE,
            2,
            "polling.interval",
            id="empty-interval",
        ),
        pytest.param("site:\n  title: x\nsources:\n", 3, "sources", id="empty-sources"),
    ],
)
def test_empty_value_is_reported_at_its_own_line(
    workdir: Path, text: str, line: int, field: str
) -> None:
    assert locations(problems_in(text)) == [(CONFIG_NAME, line, field)]


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        pytest.param(
            "tags:\n  putin: [Putin]\n  vlad:\n    - Vlad\n    - PUTIN\n",
            5,
            "tags.vlad[1]",
            id="short-form",
        ),
        pytest.param(
            "tags:\n  putin: [Putin, Путин]\n  vlad:\n    aliases:\n      - Vlad\n      - путин\n",
            6,
            "tags.vlad.aliases[1]",
            id="long-form",
        ),
    ],
)
def test_alias_conflict_is_reported_at_the_second_spelling(
    workdir: Path, text: str, line: int, field: str
) -> None:
    assert locations(problems_in(text + ONE_SOURCE)) == [(CONFIG_NAME, line, field)]


def test_named_feed_with_unknown_source_is_reported(workdir: Path) -> None:
    text = ONE_SOURCE + "publish:\n  feeds:\n    - id: uk-only\n      sources: [up-kk]\n"
    assert locations(problems_in(text)) == [(CONFIG_NAME, 7, "publish.feeds[0].sources[0]")]


def test_an_empty_site_title_is_refused_at_its_line(workdir: Path) -> None:
    """Every output feed needs a title, and the whole-timeline feed takes the site's."""
    problems = problems_in(f'site:\n  title: ""\n{ONE_SOURCE}')
    assert locations(problems) == [(CONFIG_NAME, 2, "site.title")]


# ---------------------------------------------------------------- configs written as JSON


def test_a_json_config_loads_as_its_yaml_twin(workdir: Path) -> None:
    """JSON is YAML 1.2: read by the JSON parser (a generated config often is JSON), the
    shipped config gives the same settings."""
    data = YAML(typ="safe").load((PROJECT_ROOT / "config.yaml").read_text(encoding="utf-8"))
    as_yaml = write_config(workdir, (PROJECT_ROOT / "config.yaml").read_text(encoding="utf-8"))
    as_json = write_config(workdir, json.dumps(data, indent=1), name="cfg.json")
    assert load_settings(as_json) == load_settings(as_yaml)


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [
        pytest.param(
            '{\n "sources": [{"id": "a", "url": "https://e.com/"}],\n "sources": []\n}\n',
            3, "", "duplicate key", id="duplicate-key",
        ),
        pytest.param(
            '{\n "sources": [{"id": "a", "url": "https://e.com/"}],\n'
            ' "polling": {\n  "concurrency": "many"\n }\n}\n',
            4, "polling.concurrency", "integer", id="bad-value",
        ),
        pytest.param(
            '{\n "sources": [{"id": "a", "url": "https://e.com/"}],\n'
            ' "polling": {"concurrency": NaN}\n}\n',
            3, "polling.concurrency", "integer", id="nan-is-not-json",
        ),
    ],
)
def test_a_json_config_s_problems_are_reported_at_their_lines(
    workdir: Path, text: str, line: int, field: str, fragment: str
) -> None:
    problem = find_problem(problems_in(text), line, field)
    assert fragment in problem.message
