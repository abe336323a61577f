"""Load and validate ``config.yaml`` into frozen :class:`Settings`.

Validation reports every problem at once, each as ``FILE:LINE: field.path: message``:
ruamel.yaml keeps the line of every key and value, pydantic 2 checks types and ranges, and
a few cross-field rules (unique ids, file URLs, alias conflicts) are checked here after it.
Relative paths in the file are resolved against the file's folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ByteSize,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pytimeparse.timeparse import timeparse as parse_timespan
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from refeed.cadence import Cadence
from refeed.dedup import DedupPolicy
from refeed.errors import ConfigError, ConfigProblem
from refeed.language import LanguagePolicy, primary_language
from refeed.model import Taxonomy
from refeed.text import clean_text, tag_fold

Loc = tuple[str | int, ...]


def parse_duration(value: object) -> timedelta:
    """Accept ``15m``, ``72h``, ``1h30m``, ``180d`` or a number of seconds."""
    duration = parse_pause(value)
    if not duration:
        raise ValueError("a duration must be longer than zero")
    return duration


def parse_pause(value: object) -> timedelta:
    """:func:`parse_duration`, zero allowed (``0s``: no pause)."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (parsed := parse_timespan(value.strip())) is not None:
        seconds = float(parsed)
    else:
        raise ValueError(f"{value!r} is not a duration such as 30s, 15m, 72h or 180d")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


def check_regex(pattern: str) -> str:
    """Refuse a pattern Python's ``re`` cannot compile, naming the reason."""
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
    return pattern


def check_language(code: str) -> str:
    """Refuse codes that name no language; return the primary subtag (``en-US`` → ``en``),
    the form entries are stored and published under."""
    primary = primary_language(code)
    if primary is None:
        raise ValueError(f"unknown language code {code!r} (use ISO 639 codes such as uk, ru, en)")
    return primary


def check_url(url: str) -> str:
    """Accept http(s) URLs with a host, ``file:`` URLs and plain paths (the latter two are
    refused later unless ``polling.allow_file_urls`` is on)."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError(f"{url!r} has no host name")
        return url
    if parts.scheme == "file" or not parts.scheme or len(parts.scheme) == 1:  # C:\ paths
        return url
    raise ValueError(f"unsupported URL scheme {parts.scheme!r} in {url!r} (use http or https)")


@lru_cache(maxsize=65536)  # asked for every source at every poll
def is_local_url(url: str) -> bool:
    """True for ``file:`` URLs and plain paths, which are read from disk, not fetched."""
    scheme = urlsplit(url).scheme
    return scheme == "file" or len(scheme) <= 1  # no scheme, or a Windows drive letter


def check_xml_text(text: str) -> str:
    """Refuse characters no XML output can carry (control characters, U+FFFE…)."""
    if clean_text(text) != text:
        raise ValueError("contains control characters that feeds cannot carry")
    return text


def check_max_delay(value: timedelta) -> timedelta:
    """Refuse a publish bound shorter than a second or longer than a day."""
    if not timedelta(seconds=1) <= value <= timedelta(days=1):
        raise ValueError("must be between 1s and 24h")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Pause = Annotated[timedelta, BeforeValidator(parse_pause)]
Size = Annotated[ByteSize, Field(gt=0)]
Regex = Annotated[str, AfterValidator(check_regex)]
LanguageCode = Annotated[str, AfterValidator(check_language)]
SourceId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Label = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_xml_text)]
Text = Annotated[str, AfterValidator(check_xml_text)]


class Section(BaseModel):
    """Base of every config section: frozen, and unknown keys are errors."""

    # each field's docstring is its description: `refeed check --explain FIELD` prints it
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class SiteConfig(Section):
    """``site:`` — what the published outputs are and where they are served."""

    title: Label = "refeed"
    """The title of the published outputs."""
    base_url: str = "http://localhost:8080/"
    """Where output_dir is served: feed and index links start with it."""
    languages: tuple[LanguageCode, ...] = ()
    """ISO 639 codes that get an output per language (lang/<code>), e.g. [uk, ru, en]."""

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value if value.endswith("/") else value + "/"


class ServerConfig(Section):
    """``server:`` — the address ``refeed serve`` listens on."""

    host: str = "127.0.0.1"
    """The address refeed serve and refeed run listen on."""
    port: int = Field(8080, ge=0, le=65535)
    """The port they listen on."""


class PollingConfig(Section):
    """``polling:`` — how often and how politely sources are fetched."""

    interval: Duration = timedelta(minutes=15)
    """How often each source is due (a source's own interval overrides it)."""
    min_interval: Duration = timedelta(minutes=1)
    """Never poll a source more often, whatever the hints."""
    max_interval: Duration = timedelta(hours=24)
    """Never wait longer than this after a successful poll."""
    max_backoff: Duration = timedelta(hours=24)
    """Failures back off 1x, 2x, 4x... the interval, up to this."""
    timeout: Duration = timedelta(seconds=30)
    """The total deadline of one fetch, however slowly the server sends."""
    max_bytes: Size = ByteSize(10_000_000)
    """The cap on a response, counted decompressed."""
    concurrency: int = Field(50, ge=1, le=1000)
    """Fetches at once, in all."""
    per_host: int = Field(4, ge=1, le=100)
    """Fetches at once to one host."""
    allow_file_urls: StrictBool = False
    """Allow file:// URLs and local paths as source URLs."""


def check_css_selector(value: str) -> str:
    """Refuse a CSS selector that cannot be turned into a query."""
    from cssselect import GenericTranslator, SelectorError  # noqa: PLC0415 -- config checks only

    try:
        GenericTranslator().css_to_xpath(value)
    except SelectorError as error:
        raise ValueError(f"{value!r} is not a CSS selector: {error}") from None
    return value


class SourcePagesConfig(Section):
    """``sources[].pages:`` — what is read from each new entry's article page."""

    tags: bool = False
    """Read the article's own tags from its page: article:tag, JSON-LD keywords, rel=tag
    links and links to the site's tag pages inside the article."""
    full_text: bool = False
    """Store the page's article text as the entry's content when the feed gives only a
    summary, or much less text than the page."""
    tag_selector: Annotated[str, AfterValidator(check_css_selector)] | None = None
    """A CSS selector for the article's tag links (e.g. ".post-tags a"), where the guess
    misses."""


class PagesConfig(Section):
    """``pages:`` — how article pages are fetched, for sources with pages on."""

    concurrency: int = Field(4, ge=1, le=100)
    """Page fetches at once, in all."""
    per_host: int = Field(1, ge=1, le=20)
    """Page fetches at once to one host."""
    timeout: Duration = timedelta(seconds=20)
    """The total deadline of one page fetch."""
    max_bytes: Size = ByteSize(5_000_000)
    """The cap on a page, counted decompressed."""
    delay: Pause = timedelta(seconds=1)
    """The pause between two requests to one host."""
    retries: int = Field(3, ge=0, le=20)
    """How many times a failed page is fetched again, backing off, before it is given up."""


class SourceConfig(Section):
    """One entry of ``sources:``."""

    id: SourceId
    """The source's id: [a-z0-9-], unique; outputs and refeed status name it."""
    url: Annotated[str, AfterValidator(check_url)]
    """The feed's URL (RSS, Atom or JSON Feed)."""
    title: Text | None = None
    """The source's name in outputs (default: its id)."""
    language: LanguageCode | None = None
    """The language of the source's entries, when the feed does not declare it."""
    tags: tuple[Label, ...] = ()
    """Tags added to every entry of the source."""
    interval: Duration | None = None
    """How often this source is due (default: polling.interval)."""
    dedup: bool = True
    """false: never merge this source's entries with others."""
    max_entries: int | None = Field(None, ge=1)
    """Retention keeps at most this many of the source's entries."""
    pages: SourcePagesConfig = SourcePagesConfig()
    """What to read from each new entry's article page (off by default)."""
    @field_validator("url")
    @classmethod
    def _local_path_relative_to_config(cls, value: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir")
        if base and is_local_url(value) and urlsplit(value).scheme != "file":
            return str((Path(base) / value).absolute())
        return value


def _expand_tag_short_form(value: object) -> object:
    return {"aliases": value} if isinstance(value, list | tuple) else value


class TagConfig(Section):
    """One canonical tag of ``tags:``: its spellings, and regexes that add it."""

    aliases: tuple[Label, ...] = ()
    """The tag's spellings in any language (matched case-insensitively)."""
    match: tuple[Regex, ...] = ()
    """Regexes on title + summary that add the tag."""


class DedupConfig(Section):
    """``dedup:`` — how duplicates across sources are found."""

    enabled: bool = True
    """false: every entry is listed, duplicates or not."""
    near_duplicates: bool = True
    """Find near-duplicates (MinHash), not only exact copies."""
    window: Duration = timedelta(hours=72)
    """Copies must be published this close together."""
    threshold: float = Field(0.7, gt=0.0, le=1.0)
    """The text overlap near-duplicates need (precision first)."""


class NamedFeedConfig(Section):
    """One named output of ``publish.feeds``."""

    id: SourceId
    """The output's name: [a-z0-9-]; all, index, outputs, lang and tag are reserved."""
    title: Text | None = None
    """The output's title (default: its id)."""
    tags: tuple[Label, ...] = ()
    """Entries with any of these tags."""
    languages: tuple[LanguageCode, ...] = ()
    """Entries in any of these languages."""
    sources: tuple[SourceId, ...] = ()
    """Entries of any of these sources."""
    exclude_tags: tuple[Label, ...] = ()
    """Leave out entries with any of these tags."""
    match: Regex | None = None
    """A regex on title + summary that entries must match."""
    exclude: Regex | None = None
    """A regex on title + summary that leaves entries out."""
    limit: int | None = Field(None, ge=1, le=10_000)
    """Entries in the output (default: publish.limit)."""


class PublishConfig(Section):
    """``publish:`` — which outputs exist and in which formats."""

    @field_validator("websub_hub")
    @classmethod
    def _hub_is_http(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    formats: tuple[Literal["atom", "rss", "json"], ...] = ("atom", "rss", "json")
    """The formats every output is written in."""
    limit: int = Field(50, ge=1, le=10_000)
    """Entries per output feed."""
    per_tag: bool = True
    """An output per tag (tag/<slug>)."""
    per_language: bool = True
    """An output per language of site.languages (lang/<code>)."""
    per_tag_language: bool = True
    """An output per tag and language (tag/<slug>/<code>)."""
    tag_min_entries: int = Field(5, ge=1)
    """Feed tags (not in tags:) get outputs from this many entries."""
    websub_hub: str | None = None
    """A WebSub hub URL: outputs announce it, and changed ones are pinged."""
    feeds: tuple[NamedFeedConfig, ...] = ()
    """Named outputs: filters by tags, languages, sources and regexes."""
    max_delay: Annotated[Duration, AfterValidator(check_max_delay)] = timedelta(seconds=30)
    """refeed run: an entry a poll stores is in the outputs within this (1s–24h)."""


# Latin-script neighbours only: lingua's low-accuracy mode reads short Ukrainian as
# Kazakh or Belarusian, so Cyrillic text is left to the site's own detector.
DEFAULT_NEIGHBOURS = (
    "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sk", "sv", "da", "fi", "tr", "ro", "hu",
)


class LanguageConfig(Section):
    """``language:`` — how each entry's language is decided."""

    detect: bool = True
    """Detect each entry's language (lingua) from its title and summary."""
    low_accuracy: bool = False
    """lingua's low-accuracy mode: ~100 MiB less per worker, weaker on headlines."""
    min_confidence: float = Field(0.75, ge=0.0, le=1.0)
    """The detector's confidence needed to overrule a declared language."""
    others: tuple[LanguageCode, ...] = DEFAULT_NEIGHBOURS
    """Neighbouring languages detected and kept out of language outputs."""


class RetentionConfig(Section):
    """``retention:`` — how long stored entries are kept."""

    max_age: Duration = timedelta(days=180)
    """Entries go this long after refeed first stored them."""


class LoggingConfig(Section):
    """``logging:`` — what ``refeed run`` logs (``--log-level`` overrides)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """What refeed run logs (--log-level overrides it)."""


RESERVED_OUTPUT_IDS = frozenset({"all", "index", "outputs", "lang", "tag"})


class Settings(Section):
    """The whole validated config; paths are absolute."""

    site: SiteConfig = SiteConfig()
    """What the published outputs are and where they are served."""
    database: Path = Field(Path("refeed.db"), validate_default=True)
    """The SQLite timeline (relative to the config file)."""
    output_dir: Path = Field(Path("feeds"), validate_default=True)
    """Where outputs are written (relative to the config file)."""
    server: ServerConfig = ServerConfig()
    """The address refeed serve and refeed run listen on."""
    polling: PollingConfig = PollingConfig()
    """How often and how politely sources are fetched."""
    pages: PagesConfig = PagesConfig()
    """How article pages are fetched, for sources with pages on."""
    sources: tuple[SourceConfig, ...]
    """The feeds to poll (required)."""
    tags: dict[Label, Annotated[TagConfig, BeforeValidator(_expand_tag_short_form)]] = Field(
        default_factory=dict
    )
    """Canonical tags: their spellings in any language, and regexes that add them."""
    language: LanguageConfig = LanguageConfig()
    """How each entry's language is decided."""
    dedup: DedupConfig = DedupConfig()
    """How duplicates across sources are found."""
    publish: PublishConfig = PublishConfig()
    """Which outputs exist, in which formats, and how fresh."""
    retention: RetentionConfig = RetentionConfig()
    """How long stored entries are kept."""
    logging: LoggingConfig = LoggingConfig()
    """What refeed run logs."""

    @field_validator("database", "output_dir")
    @classmethod
    def _relative_to_config(cls, value: Path, info: ValidationInfo) -> Path:
        base = (info.context or {}).get("base_dir")
        return (Path(base) / value if base else value).absolute()

    def source_interval(self, source: SourceConfig) -> timedelta:
        """The polling interval of ``source``: its own, else the global one."""
        return source.interval or self.polling.interval

    def max_entries(self) -> dict[str, int]:
        """Sources that keep at most so many entries (retention)."""
        return {s.id: s.max_entries for s in self.sources if s.max_entries is not None}

    def cadence(self, source: SourceConfig) -> Cadence:
        """The polling bounds of ``source``."""
        polling = self.polling
        return Cadence(
            interval=self.source_interval(source), min_interval=polling.min_interval,
            max_interval=polling.max_interval, max_backoff=polling.max_backoff,
        )

    @cached_property
    def dedup_policy(self) -> DedupPolicy:
        """The duplicate rules for the store: window, threshold, opted-out sources."""
        dedup = self.dedup
        return DedupPolicy(
            enabled=dedup.enabled, window=dedup.window, near_duplicates=dedup.near_duplicates,
            threshold=dedup.threshold,
            excluded_sources=frozenset(source.id for source in self.sources if not source.dedup),
        )

    @cached_property
    def language_policy(self) -> LanguagePolicy:
        """The language rules for normalize: site languages, detector mode, neighbours."""
        language = self.language
        return LanguagePolicy(
            languages=self.site.languages, detect=language.detect,
            low_accuracy=language.low_accuracy, min_confidence=language.min_confidence,
            others=language.others,
        )

    @cached_property
    def taxonomy(self) -> Taxonomy:
        """The tag table for normalize: every folded spelling (and each canonical name) →
        its canonical tag, and the ``match`` rules."""
        aliases: dict[str, str] = {}
        for canonical, tag in self.tags.items():
            for spelling in (canonical, *tag.aliases):
                aliases.setdefault(tag_fold(spelling), canonical)
        rules = tuple(
            (canonical, pattern) for canonical, tag in self.tags.items() for pattern in tag.match
        )
        return Taxonomy(aliases, rules)


def load_settings(path: str | Path) -> Settings:
    """Read, parse and validate the config file at ``path``.

    Raises :class:`ConfigError` carrying every problem found (missing file, YAML syntax,
    unknown keys, bad values, duplicates), each with its line where there is one.
    """
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problem = ConfigProblem(shown, None, "", f"cannot read config: {error}")
        raise ConfigError([problem]) from error
    try:  # the fast path: no line numbers (a valid config needs none)
        return _validate(_read_fast(text), shown, path)
    except (ConfigError, YAMLError):
        pass  # read it again, keeping every node's line, to say where each problem is
    return _validate(_parse_yaml(text, shown), shown, path)


def _read_fast(text: str) -> Any:
    """The document, without lines. JSON is YAML 1.2, and a generated config often is
    JSON: Python's JSON parser reads 10,000 sources in ~4 ms, YAML's constructors take
    ~260 ms even on libyaml's parser. Anything JSON cannot read goes to libyaml."""
    if text.lstrip("\ufeff \t\r\n").startswith("{"):
        try:
            return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_not_json)
        except ValueError:
            pass  # not JSON after all (or a duplicate key): YAML decides
    return YAML(typ="safe").load(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict; a repeated key is an error (YAML refuses it too)."""
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise ValueError("duplicate key")
    return mapping


def _not_json(constant: str) -> Any:
    """``NaN`` and ``Infinity`` are not JSON (Python's parser accepts them; YAML reads
    them as strings)."""
    raise ValueError(f"not JSON: {constant}")


def _validate(document: Any, shown: str, path: str | Path) -> Settings:
    """``document`` (as YAML read it) validated into :class:`Settings`; each problem's
    line comes from the document when it is a round-trip (line-annotated) one."""
    if not isinstance(document, Mapping):
        raise ConfigError([ConfigProblem(shown, 1, "", "the config must be a mapping of sections")])
    problems = [
        ConfigProblem(shown, line_of(document, loc, key_line=False), field_path(loc), message)
        for loc, message in cross_field_problems(document)
    ]
    try:
        settings = Settings.model_validate(
            document, context={"base_dir": Path(path).absolute().parent}
        )
    except ValidationError as error:
        problems += [_problem_from_pydantic(shown, document, detail) for detail in error.errors()]
    if problems:
        problems.sort(key=lambda problem: problem.line or 0)
        raise ConfigError(problems)
    return settings


def _parse_yaml(text: str, shown: str) -> Any:
    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(part for part in (error.context, error.problem) if part)
        raise ConfigError([ConfigProblem(shown, line, "", f"invalid YAML: {message}")]) from None
    except YAMLError as error:
        raise ConfigError([ConfigProblem(shown, None, "", f"invalid YAML: {error}")]) from None


def _problem_from_pydantic(shown: str, document: Any, detail: Mapping[str, Any]) -> ConfigProblem:
    loc = _document_loc(document, tuple(detail["loc"]))
    kind = detail["type"]
    message = {
        "extra_forbidden": "unknown key",
        "missing": "required",
        "string_pattern_mismatch": "use only lowercase letters, digits and '-'",
    }.get(kind, str(detail["msg"]).removeprefix("Value error, "))
    line = line_of(document, loc, key_line=kind == "extra_forbidden")
    return ConfigProblem(shown, line, field_path(loc), message)


def _document_loc(document: Any, loc: Loc) -> Loc:
    """Drop the parts of a pydantic location that are not in the document (union and
    validator labels), keeping the path a person would write."""
    kept: list[str | int] = []
    node = document
    for part in loc:
        in_mapping = isinstance(node, Mapping) and part in node
        in_sequence = isinstance(node, Sequence) and isinstance(part, int) and part < len(node)
        if in_mapping or in_sequence:
            kept.append(part)
            node = node[part]
        elif isinstance(node, Mapping) and not isinstance(part, int) and "[" not in part:
            kept.append(part)  # a missing key: still part of the path
            node = None
    return tuple(kept)


def line_of(document: Any, loc: Loc, *, key_line: bool) -> int | None:
    """The 1-based line of the value (or key) at ``loc``; the nearest enclosing line when
    the path does not exist in the document."""
    node = document
    line = _node_line(document)
    for depth, part in enumerate(loc):
        last = depth == len(loc) - 1
        if isinstance(node, CommentedMap) and part in node:
            key_pos, value_pos = node.lc.key(part), node.lc.value(part)
            # an empty value has no position of its own: ruamel gives the next line
            use_key = (key_line and last) or node[part] is None
            line = (key_pos if use_key else value_pos)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _node_line(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else None


def field_path(loc: Iterable[str | int]) -> str:
    """``('sources', 0, 'url')`` → ``sources[0].url``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def cross_field_problems(document: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Rules that span several values (unique ids, local files, alias and id conflicts),
    checked on the raw document so they are reported together with type errors."""
    sources = _mappings(document.get("sources"))
    publish = document.get("publish")
    feeds = _mappings(publish.get("feeds") if isinstance(publish, Mapping) else None)
    polling = document.get("polling")
    # an invalid flag is reported by its own validation; don't pile URL errors on it
    allow_flag = polling.get("allow_file_urls") if isinstance(polling, Mapping) else None
    allow_files = allow_flag not in (None, False)
    problems = _duplicate_ids(sources, "sources") + _duplicate_ids(feeds, "publish", "feeds")
    if not allow_files:
        problems += [
            (("sources", index, "url"),
             "local files are not fetched unless polling.allow_file_urls is true")
            for index, source in sources
            if isinstance(source.get("url"), str) and is_local_url(source["url"])
        ]
    problems += [
        (("publish", "feeds", index, "id"), f"{feed['id']!r} is reserved for a built-in output")
        for index, feed in feeds
        if feed.get("id") in RESERVED_OUTPUT_IDS
    ]
    problems += _unknown_feed_sources(feeds, {source.get("id") for _, source in sources})
    tags = document.get("tags")
    return problems + (_alias_conflicts(tags) if isinstance(tags, Mapping) else [])


def _unknown_feed_sources(
    feeds: list[tuple[int, Mapping[str, Any]]], source_ids: set[object]
) -> list[tuple[Loc, str]]:
    return [
        (("publish", "feeds", index, "sources", position), f"no source has the id {name!r}")
        for index, feed in feeds
        if isinstance(feed.get("sources"), list)
        for position, name in enumerate(feed["sources"])
        if name not in source_ids
    ]


def _mappings(items: object) -> list[tuple[int, Mapping[str, Any]]]:
    if not isinstance(items, list):
        return []
    return [(index, item) for index, item in enumerate(items) if isinstance(item, Mapping)]


def _duplicate_ids(
    items: list[tuple[int, Mapping[str, Any]]], *section: str
) -> list[tuple[Loc, str]]:
    seen: set[object] = set()
    problems: list[tuple[Loc, str]] = []
    for index, item in items:
        item_id = item.get("id")
        if item_id in seen:
            problems.append(((*section, index, "id"), f"duplicate id {item_id!r}"))
        seen.add(item_id)
    return problems


def _alias_conflicts(tags: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    owner: dict[str, str] = {}
    problems: list[tuple[Loc, str]] = []
    for canonical, value in tags.items():
        long_form = isinstance(value, Mapping)
        aliases = value.get("aliases") if long_form else value
        prefix: Loc = ("tags", canonical, "aliases") if long_form else ("tags", canonical)
        spellings: list[tuple[Loc, object]] = [(("tags", canonical), canonical)]
        if isinstance(aliases, list):
            spellings += [((*prefix, index), alias) for index, alias in enumerate(aliases)]
        for loc, spelling in spellings:
            if not isinstance(spelling, str):
                continue
            folded = tag_fold(spelling)
            if owner.setdefault(folded, str(canonical)) != canonical:
                problems.append(
                    (loc, f"spelling {spelling!r} already belongs to tag {owner[folded]!r}")
                )
    return problems
