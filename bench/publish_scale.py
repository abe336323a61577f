"""Scenario 4 of the performance issue (7): publish over a 1,000,000-entry timeline.

Builds (once, then reuses) a real refeed SQLite database of N synthetic entries — opened
with ``Store.open``, so the schema and migrations are refeed's own — and a config of
about 500 outputs (all, per language, per tag, per tag x language and named feeds; Atom,
RSS and JSON), then measures, each in a fresh child process:

- (a) a full publish (``publish_all``) into an empty output folder;
- (b) a publish with nothing changed (every output's fingerprint matches);
- (c) an incremental publish after a churn: 5 new entries for each of 1,000 sources,
  stored through the real ingest path (``Store.record_poll``, dedup included).

Each prints wall time, CPU time, peak RSS and rates in the style of ``bench/perf.py``,
then cProfile's top functions of (b) and (c) (separate, profiled runs) and where (b)
spends its time per output kind. It prints numbers; it never asserts.

    .venv/bin/python bench/publish_scale.py                      # 1,000,000 entries
    .venv/bin/python bench/publish_scale.py --entries 100000     # a tenth
    .venv/bin/python bench/publish_scale.py --db /tmp/t.db       # build there, or reuse it

See bench/README.md for what the numbers mean and what was measured.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import multiprocessing
import os
import pstats
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import islice
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _common import (
    TreeMeter,
    code_version,
    cpu_seconds,
    peak_rss_of,
    remove_unless_kept,
    reset_peak_rss,
)
from tests.factories import candidates, first_entries, stored_tag_usage

from refeed.config import Settings, SourceConfig, load_settings
from refeed.dedup import entry_revision, fingerprint, words
from refeed.model import Enclosure, Entry, FetchResult, ProcessedFeed, StoreCounts, Taxonomy
from refeed.normalize import (
    entry_tags,
    html_to_text,
    sanitize_html,
    tagging_fingerprint,
)
from refeed.pipeline import publish_all
from refeed.publish import read_manifest
from refeed.select import Output, define_outputs, matches
from refeed.storage import Store
from refeed.storage._ingest import _INSERT_ENTRY
from refeed.storage.codecs import entry_row, iso
from refeed.text import tag_fold

if TYPE_CHECKING:
    from perf import Result

# Bump when the generated timeline changes: a cached database of another version is rebuilt.
BUILD_VERSION = 1
LANGUAGE_CODES = ("uk", "ru", "en")  # source i writes in LANGUAGE_CODES[i % 3], as the farm's
END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the newest stored entry, about
SPAN = timedelta(days=730)  # the timeline covers two years before END
COPY_SHARE = 0.10  # entries that are another source's story (duplicate_of set)
RECENT_ORIGINALS = 300  # a copy is of one of the last N originals of its language
POOL = 2048  # farm articles per language the text is assembled from
CONFIGURED_TAGS = 50  # the most used tags have a `tags:` entry (aliases in 3 languages)
TAGS_PER_ENTRY = (1, 1, 2, 2, 2, 3, 3, 4)  # drawn uniformly: 2.25 on average
ENCLOSURE_SHARE = 0.2
EDITED_SHARE = 0.05  # entries whose `updated` is later than `published`
CHUNK = 10_000  # rows per executemany
CHURN_SEQUENCE = 10_000_000  # churn entries' guids count from here (stored ones stay below)
TARGET_NAMED = 56  # named feeds, about: tag outputs make up the rest of --outputs
PROFILE_TOP = 10
PROBE_ROWS = 100_000  # candidates the never-matching probe reads, at most

# ---------------------------------------------------------------------------- tags

# (en, uk, ru), most used first (rank decides the Zipf weight); spellings as feeds write
# them. The first CONFIGURED_TAGS get a `tags:` entry; the others stay feed tags, one per
# spelling (the uk and ru ones differ, so an unconfigured concept is up to three tags).
TOPICS: tuple[tuple[str, str, str], ...] = (
    ("Politics", "Політика", "Политика"), ("War", "Війна", "Война"),
    ("Economy", "Економіка", "Экономика"), ("Society", "Суспільство", "Общество"),
    ("World", "Світ", "Мир"), ("Sport", "Спорт", "Спорт"),
    ("Ukraine", "Україна", "Украина"), ("Russia", "Росія", "Россия"),
    ("Putin", "Путін", "Путин"), ("Zelenskyy", "Зеленський", "Зеленский"),
    ("Business", "Бізнес", "Бизнес"), ("Culture", "Культура", "Культура"),
    ("Technology", "Технології", "Технологии"), ("Health", "Здоров'я", "Здоровье"),
    ("Energy", "Енергетика", "Энергетика"), ("Army", "Армія", "Армия"),
    ("Diplomacy", "Дипломатія", "Дипломатия"), ("Negotiations", "Переговори", "Переговоры"),
    ("Sanctions", "Санкції", "Санкции"), ("Finance", "Фінанси", "Финансы"),
    ("Elections", "Вибори", "Выборы"), ("Crime", "Кримінал", "Криминал"),
    ("Science", "Наука", "Наука"), ("Education", "Освіта", "Образование"),
    ("Weather", "Погода", "Погода"), ("Football", "Футбол", "Футбол"),
    ("Transport", "Транспорт", "Транспорт"),
    ("Agriculture", "Аграрний сектор", "Аграрный сектор"),
    ("Medicine", "Медицина", "Медицина"), ("Ecology", "Екологія", "Экология"),
    ("Refugees", "Біженці", "Беженцы"), ("Opinion", "Думка", "Мнение"),
    ("Interview", "Інтерв'ю", "Интервью"), ("Analysis", "Аналітика", "Аналитика"),
    ("NATO", "НАТО", "НАТО"), ("EU", "ЄС", "ЕС"), ("USA", "США", "США"),
    ("Corruption", "Корупція", "Коррупция"), ("Cyber security", "Кібербезпека",
                                              "Кибербезопасность"),
    ("Biden", "Байден", "Байден"), ("Macron", "Макрон", "Макрон"),
    ("Music", "Музика", "Музыка"), ("Cinema", "Кіно", "Кино"),
    ("Religion", "Релігія", "Религия"), ("Law", "Право", "Право"),
    ("Space", "Космос", "Космос"), ("Tennis", "Теніс", "Теннис"),
    ("Real estate", "Нерухомість", "Недвижимость"), ("Tourism", "Туризм", "Туризм"),
    ("Prices", "Ціни", "Цены"), ("Banks", "Банки", "Банки"), ("Media", "Медіа", "СМИ"),
    ("History", "Історія", "История"), ("Books", "Книги", "Книги"),
    ("Startups", "Стартапи", "Стартапы"),
    ("Humanitarian aid", "Гуманітарна допомога", "Гуманитарная помощь"),
    ("Reconstruction", "Відбудова", "Восстановление"), ("UN", "ООН", "ООН"),
    ("IMF", "МВФ", "МВФ"), ("IAEA", "МАГАТЕ", "МАГАТЭ"), ("G7", "G7", "G7"),
    ("Scholz", "Шольц", "Шольц"), ("Erdogan", "Ердоган", "Эрдоган"),
    ("Lukashenko", "Лукашенко", "Лукашенко"), ("Xi Jinping", "Сі Цзіньпін", "Си Цзиньпин"),
    ("Poland", "Польща", "Польша"), ("Germany", "Німеччина", "Германия"),
    ("France", "Франція", "Франция"), ("United Kingdom", "Велика Британія",
                                       "Великобритания"),
    ("China", "Китай", "Китай"), ("Turkey", "Туреччина", "Турция"),
    ("Moldova", "Молдова", "Молдова"), ("Belarus", "Білорусь", "Беларусь"),
    ("Georgia", "Грузія", "Грузия"), ("Israel", "Ізраїль", "Израиль"),
    ("Iran", "Іран", "Иран"), ("Japan", "Японія", "Япония"), ("India", "Індія", "Индия"),
    ("Hungary", "Угорщина", "Венгрия"), ("Romania", "Румунія", "Румыния"),
    ("Slovakia", "Словаччина", "Словакия"), ("Lithuania", "Литва", "Литва"),
    ("Latvia", "Латвія", "Латвия"), ("Estonia", "Естонія", "Эстония"),
    ("Finland", "Фінляндія", "Финляндия"), ("Crimea", "Крим", "Крым"),
    ("Donbas", "Донбас", "Донбасс"),
)
CITIES: tuple[tuple[str, str, str], ...] = (
    ("Kyiv", "Київ", "Киев"), ("Kharkiv", "Харків", "Харьков"), ("Lviv", "Львів", "Львов"),
    ("Odesa", "Одеса", "Одесса"), ("Dnipro", "Дніпро", "Днепр"),
    ("Zaporizhzhia", "Запоріжжя", "Запорожье"), ("Chernihiv", "Чернігів", "Чернигов"),
    ("Poltava", "Полтава", "Полтава"), ("Sumy", "Суми", "Сумы"),
    ("Vinnytsia", "Вінниця", "Винница"), ("Zhytomyr", "Житомир", "Житомир"),
    ("Uzhhorod", "Ужгород", "Ужгород"), ("Kherson", "Херсон", "Херсон"),
    ("Mykolaiv", "Миколаїв", "Николаев"),
)
DESKS = TOPICS[:4] + TOPICS[5:6] + TOPICS[11:12] + TOPICS[13:14] + TOPICS[21:27]


def concepts(count: int = 200) -> list[dict[str, str]]:
    """``count`` tag concepts (code → spelling), most used first: topics, people and
    countries, cities, then regional desks (``Kyiv: economy``)."""
    table = [*TOPICS, *CITIES]
    table += [
        (f"{city[0]}: {desk[0].lower()}", f"{city[1]}: {desk[1].lower()}",
         f"{city[2]}: {desk[2].lower()}")
        for desk in DESKS for city in CITIES
    ]
    return [dict(zip(("en", "uk", "ru"), spellings, strict=True)) for spellings in table[:count]]


def tags_config(table: Sequence[Mapping[str, str]]) -> dict[str, list[str]]:
    """The ``tags:`` section: the first CONFIGURED_TAGS concepts, English canonical name,
    the Ukrainian and Russian spellings as aliases."""
    config: dict[str, list[str]] = {}
    for concept in table[:CONFIGURED_TAGS]:
        canonical = concept["en"]
        aliases = []
        for code in ("uk", "ru"):
            spelling = concept[code]
            if tag_fold(spelling) != tag_fold(canonical) and spelling not in aliases:
                aliases.append(spelling)
        config[canonical] = aliases
    return config


def taxonomy_of(tags: Mapping[str, Sequence[str]]) -> Taxonomy:
    """What ``Settings.taxonomy`` makes of :func:`tags_config` (no ``match`` rules)."""
    aliases: dict[str, str] = {}
    for canonical, spellings in tags.items():
        for spelling in (canonical, *spellings):
            aliases.setdefault(tag_fold(spelling), canonical)
    return Taxonomy(aliases, ())


# ---------------------------------------------------------------------------- text


@dataclass(frozen=True)
class Piece:
    """One farm article, sanitized as refeed stores it, with what hashing needs."""

    title: str
    summary: str  # sanitized lead (what the feed's description held)
    rest: str  # the sanitized body after its lead paragraph
    author: str
    title_words: str  # " ".join(refeed.dedup.words(title))
    lead_words: tuple[str, ...]
    rest_words: tuple[str, ...]
    numbers: frozenset[str]  # digit tokens of title + lead
    shingles: int


def text_pool(code: str, size: int) -> list[Piece]:
    """``size`` articles of bench/farm.py in language ``code``, sanitized with refeed's own
    sanitizer (relative links made absolute first, as feedparser does)."""
    import farm  # noqa: PLC0415 (aiohttp and all: only the parent builds)

    index = LANGUAGE_CODES.index(code)
    pieces = []
    for number in range(size):
        feed = index + 3 * (number % 331)
        article = farm.article(feed, 10_000 + number)
        body = re.sub(r"""(src|href)=(["'])/""", rf"\1=\2{farm.site(feed)}/", article.body)
        sanitized = sanitize_html(body)
        rest = sanitized.split("\n", 1)[1] if "\n" in sanitized else ""
        summary = sanitize_html(article.lead)
        title_words = words(article.title)
        lead_words = words(html_to_text(summary))
        pieces.append(Piece(
            title=article.title, summary=summary, rest=rest, author=article.author,
            title_words=" ".join(title_words), lead_words=tuple(lead_words),
            rest_words=tuple(words(html_to_text(rest))),
            numbers=frozenset(word for word in (*title_words, *lead_words) if word.isdigit()),
            shingles=max(len(title_words) + len(lead_words) - 1, 0),
        ))
    return pieces


def content_of(summary: str, rest: str) -> str:
    """The stored content: the lead as the first paragraph, then the body."""
    return f"<p><strong>{summary}</strong></p>\n{rest}"


def fast_fingerprint(title: Piece, lead: Piece, rest: Piece) -> str:
    """``refeed.dedup.fingerprint(title, html_to_text(content))`` from pre-split words
    (checked against the real one on a sample by :func:`check_fingerprints`)."""
    body = (*lead.lead_words, *rest.rest_words)
    if not body:
        return ""
    joined = title.title_words + "\n" + " ".join(body)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- timeline


def source_id(index: int) -> str:
    """The config id of synthetic source ``index``."""
    return f"src-{index:04d}"


def site(index: int) -> str:
    """Source ``index``'s web site (never contacted)."""
    return f"https://news{index:04d}.example"


def source_configs(count: int) -> list[dict[str, str]]:
    """The ``sources:`` section."""
    return [{"id": source_id(i), "url": f"{site(i)}/feed/", "title": f"News {i:04d}"}
            for i in range(count)]


@dataclass
class Maker:
    """Deterministic synthetic entries: text from farm articles, ~10% copies of a recent
    original of another source in the same language, tags by a Zipf law over
    :func:`concepts`."""

    seed: int
    sources: int
    taxonomy: Taxonomy
    table: list[dict[str, str]]
    rng: random.Random = field(init=False)
    pools: dict[str, list[Piece]] = field(init=False)
    by_language: dict[str, list[int]] = field(init=False)
    sequence: list[int] = field(init=False)
    cumulative: list[float] = field(init=False)
    recent: dict[str, list[tuple[int, Entry]]] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.pools = {code: text_pool(code, POOL) for code in LANGUAGE_CODES}
        self.by_language = {code: [i for i in range(self.sources) if i % 3 == n]
                            for n, code in enumerate(LANGUAGE_CODES)}
        self.sequence = [0] * self.sources
        total, self.cumulative = 0.0, []
        for rank in range(len(self.table)):
            total += 1.0 / (rank + 1)
            self.cumulative.append(total)
        self.recent = {code: [] for code in LANGUAGE_CODES}

    def categories(self, code: str) -> tuple[str, ...]:
        """1–4 feed categories in ``code``'s spelling, drawn by rank (Zipf, s = 1)."""
        count = self.rng.choice(TAGS_PER_ENTRY)
        drawn = self.rng.choices(range(len(self.table)), cum_weights=self.cumulative, k=count)
        return tuple(dict.fromkeys(self.table[rank][code] for rank in drawn))

    def original(self, source: int, moment: datetime) -> Entry:
        """A story of its own, published by ``source`` at ``moment``."""
        rng, code = self.rng, LANGUAGE_CODES[source % 3]
        pool = self.pools[code]
        title, lead, rest = rng.choice(pool), rng.choice(pool), rng.choice(pool)
        seq = self._next(source)
        link = f"{site(source)}/{code}/{moment:%Y/%m/%d}/{seq}/"
        categories = self.categories(code)
        updated = moment
        if rng.random() < EDITED_SHARE:
            updated = moment + timedelta(minutes=rng.randint(10, 360))
        enclosures: tuple[Enclosure, ...] = ()
        if rng.random() < ENCLOSURE_SHARE:
            enclosures = (Enclosure(f"{site(source)}/media/{seq}.jpg", "image/jpeg",
                                    rng.randint(20_000, 400_000)),)
        return Entry(
            source_id=source_id(source), key=f"{site(source)}/?p={seq}",
            guid=f"{site(source)}/?p={seq}", link=link, canonical_url=link,
            title=title.title, summary=lead.summary, content=content_of(lead.summary, rest.rest),
            authors=(title.author,), published=moment, updated=updated, dated=True,
            tags=entry_tags(categories, (), self.taxonomy, ""), language=code,
            enclosures=enclosures, content_hash=fast_fingerprint(title, lead, rest),
            declared_language=code if rng.random() < 0.8 else None, detected_language=code,
            language_confidence=round(rng.uniform(0.8, 1.0), 3), categories=categories,
            signature=tuple(array("I", rng.randbytes(256))),
            shingles=title.shingles + lead.shingles,
            numbers=tuple(sorted(title.numbers | lead.numbers)),
        )

    def copy(self, story: Entry, source: int, moment: datetime) -> Entry:
        """``story`` as ``source`` republishes it: its own guid and date, its own
        categories; half keep the story's link (after tracking parameters are cut), half
        have a link of their own (then only the content hash matches)."""
        seq = self._next(source)
        code = LANGUAGE_CODES[source % 3]
        link = story.link if self.rng.random() < 0.5 else (
            f"{site(source)}/{code}/{moment:%Y/%m/%d}/{seq}/")
        categories = self.categories(code)
        return replace(
            story, source_id=source_id(source), key=f"{site(source)}/?p={seq}",
            guid=f"{site(source)}/?p={seq}", link=link, canonical_url=link,
            published=moment, updated=moment, categories=categories,
            tags=entry_tags(categories, (), self.taxonomy, ""),
        )

    def _next(self, source: int) -> int:
        self.sequence[source] += 1
        return self.sequence[source]

    def source_of(self, code: str, besides: str | None = None) -> int:
        """A random source writing in ``code``, other than ``besides``."""
        while True:
            source = self.rng.choice(self.by_language[code])
            if source_id(source) != besides:
                return source

    def timeline(self, count: int) -> Iterator[tuple[Entry, int | None, datetime, datetime]]:
        """``count`` entries in ingestion order (ids 1…count): each with the id of the
        original it copies (or None), and when it was first and last seen."""
        step = SPAN / count
        start = END - SPAN
        rng = self.rng
        for number in range(count):
            slot = start + step * (number + 0.5)
            moment = min(slot + timedelta(seconds=rng.uniform(-1200, 1200)), END)
            moment = moment.replace(microsecond=0)
            code = LANGUAGE_CODES[rng.randrange(3)]
            recent = self.recent[code]
            original: int | None = None
            if recent and rng.random() < COPY_SHARE:
                original, story = rng.choice(recent)
                moment = max(moment, story.published + timedelta(minutes=rng.randint(5, 120)))
                entry = self.copy(story, self.source_of(code, story.source_id), moment)
            else:
                entry = self.original(self.source_of(code), moment)
                recent.append((number + 1, entry))
                if len(recent) > RECENT_ORIGINALS:
                    recent.pop(0)
            first_seen = moment + timedelta(minutes=rng.randint(2, 20))
            last_seen = first_seen + timedelta(minutes=rng.randint(0, 3 * 24 * 60))
            yield entry, original, first_seen, last_seen

    def churn(self, sources: Sequence[int], per_source: int, moment: datetime
              ) -> dict[int, list[Entry]]:
        """``per_source`` new entries for each of ``sources``, newer than the timeline;
        ~10% of them copies of a new story of an earlier source of the same language."""
        # the same churn whether the timeline was just built or read from the cache: its
        # own random stream, and guids numbered apart from every stored one
        self.rng = random.Random(self.seed + 3)
        self.sequence = [max(seq, CHURN_SEQUENCE) for seq in self.sequence]
        fresh: dict[int, list[Entry]] = {}
        stories: dict[str, list[Entry]] = {code: [] for code in LANGUAGE_CODES}
        for source in sources:
            code = LANGUAGE_CODES[source % 3]
            entries = []
            for _ in range(per_source):
                when = moment + timedelta(seconds=self.rng.randrange(5400))
                others = [s for s in stories[code][-200:] if s.source_id != source_id(source)]
                if others and self.rng.random() < COPY_SHARE:
                    story = self.rng.choice(others)
                    later = story.published + timedelta(minutes=self.rng.randint(5, 60))
                    entries.append(self.copy(story, source, later))
                else:
                    entry = self.original(source, when)
                    stories[code].append(entry)
                    entries.append(entry)
            fresh[source] = entries
        return fresh


def check_fingerprints(maker: Maker, sample: int = 300) -> int:
    """How many of ``sample`` entries' fast content hashes differ from refeed's own."""
    rng = random.Random(maker.seed + 1)
    wrong = 0
    for _ in range(sample):
        code = rng.choice(LANGUAGE_CODES)
        pool = maker.pools[code]
        title, lead, rest = rng.choice(pool), rng.choice(pool), rng.choice(pool)
        real = fingerprint(title.title, html_to_text(content_of(lead.summary, rest.rest)))
        wrong += real != fast_fingerprint(title, lead, rest)
    return wrong


# ---------------------------------------------------------------------------- database


@dataclass(frozen=True)
class BuildInfo:
    """What a cached database holds (kept next to it as ``<db>.json``)."""

    version: int
    entries: int
    sources: int
    seed: int
    max_id: int  # rows above this are a churn not rolled back
    seconds: float
    megabytes: float

    @classmethod
    def read(cls, path: Path) -> BuildInfo | None:
        """The info of the database at ``path``; None when missing or unreadable."""
        try:
            return cls(**json.loads(info_path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None


def info_path(db: Path) -> Path:
    """Where a database's :class:`BuildInfo` is kept."""
    return db.with_name(db.name + ".json")


def remove_database(path: Path) -> None:
    """Delete a database and its WAL, shared-memory and info files."""
    for candidate in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
        candidate.unlink(missing_ok=True)
    info_path(path).unlink(missing_ok=True)


def build_database(path: Path, args: argparse.Namespace, maker: Maker,
                   sources: Sequence[SourceConfig], tag_rules: str) -> BuildInfo:
    """Fill a fresh database at ``path`` with ``args.entries`` entries and their tags."""
    remove_database(path)
    started = time.perf_counter()
    store = Store.open(path)  # refeed's schema, every migration applied
    conn = store.db.conn
    try:
        store.sync_sources(sources)
        if conn.execute("SELECT count(*) FROM entries").fetchone()[0]:
            raise RuntimeError(f"{path} is not empty")
        # build-time settings of this connection only: the file ends in WAL mode as
        # Store.open leaves it; a build that dies half-way is rebuilt (no info file)
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -1000000")  # 1 GB: the indexes stay in memory
        # full-text rows: refeed's insert trigger costs ~260 µs a row; dropping it and
        # rebuilding the (external-content) index from the table at the end gives the same
        # index in a third of the time, and the trigger is put back exactly as it was
        trigger = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                               "AND name = 'entries_ai'").fetchone()[0]
        conn.execute("DROP TRIGGER entries_ai")
        rows: list[dict[str, Any]] = []
        tags: list[tuple[int, str, str]] = []
        number = 0
        for number, (entry, original, first_seen, last_seen) in enumerate(
                maker.timeline(args.entries), start=1):
            row = entry_row(entry, entry_revision(entry), last_seen)
            row |= {"first_seen": iso(first_seen), "duplicate_of": original}
            rows.append(row)
            tags += [(number, tag, tag_fold(tag)) for tag in entry.tags]
            if len(rows) == CHUNK:
                _insert(conn, rows, tags)
                rows, tags = [], []
                if number % 100_000 == 0:
                    print(f"  {number:>9,} entries  {time.perf_counter() - started:6.0f} s",
                          flush=True)
        _insert(conn, rows, tags)
        print(f"  {number:>9,} entries  {time.perf_counter() - started:6.0f} s; rebuilding the "
              "full-text index", flush=True)
        conn.execute("INSERT INTO entries_fts (entries_fts) VALUES ('rebuild')")
        conn.execute(trigger)
        # the tags follow the config's rules: publish's retag pass has nothing to do
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('tag_rules', ?)",
                     [tag_rules])
        conn.commit()
        count, top = conn.execute("SELECT count(*), max(id) FROM entries").fetchone()
        if count != args.entries or top != args.entries:
            raise RuntimeError(f"expected ids 1…{args.entries:,}, got {count:,} rows up to {top}")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        store.close()
    seconds = time.perf_counter() - started
    info = BuildInfo(BUILD_VERSION, args.entries, args.sources, args.seed, number, seconds,
                     path.stat().st_size / 2**20)
    info_path(path).write_text(json.dumps(info.__dict__, indent=1), encoding="utf-8")
    return info


def _insert(conn: sqlite3.Connection, rows: list[dict[str, Any]],
            tags: list[tuple[int, str, str]]) -> None:
    conn.executemany(_INSERT_ENTRY, rows)
    conn.executemany("INSERT INTO entry_tags (entry_id, tag, folded, original) "
                     "SELECT ?1, ?2, ?3, coalesce(duplicate_of, id) FROM entries WHERE id = ?1",
                     tags)
    conn.commit()


def keep_change_log(path: Path) -> None:
    """Save the timeline's change log (what the churn changed) and how far it was
    forgotten: the publish after the churn reads and forgets it, and its profiled run
    must start from the same state."""
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE IF EXISTS bench_change_log")
        db.execute("CREATE TABLE bench_change_log AS SELECT * FROM timeline_changes")
        db.execute("DELETE FROM meta WHERE key = 'bench_forgotten'")
        db.execute("INSERT INTO meta SELECT 'bench_forgotten', value FROM meta "
                   "WHERE key = 'changes_forgotten'")


def restore_change_log(path: Path) -> None:
    """Put back what :func:`keep_change_log` saved."""
    with sqlite3.connect(path) as db:
        db.execute("INSERT OR IGNORE INTO timeline_changes SELECT * FROM bench_change_log")
        db.execute("UPDATE meta SET value = (SELECT value FROM meta WHERE key = "
                   "'bench_forgotten') WHERE key = 'changes_forgotten'")


def drop_change_log(path: Path) -> None:
    """Remove what :func:`keep_change_log` saved."""
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE IF EXISTS bench_change_log")
        db.execute("DELETE FROM meta WHERE key = 'bench_forgotten'")


def roll_back_churn(path: Path, info: BuildInfo) -> int:
    """Delete the entries a churn added (ids above the build's), with their tags, bands and
    full-text rows (cascades and refeed's delete trigger); returns how many went."""
    store = Store.open(path)
    try:
        with store.db.atomic():
            merged = store.db.execute(
                "SELECT count(*) FROM entries WHERE id <= ? AND duplicate_of > ?",
                [info.max_id, info.max_id]).fetchone()[0]
            if merged:
                raise RuntimeError("a churn re-pointed stored entries: rebuild (--rebuild)")
            removed = int(store.db.execute("DELETE FROM entries WHERE id > ?",
                                           [info.max_id]).rowcount)
    finally:
        store.close()
    return removed


def database_summary(path: Path) -> list[str]:
    """Counts straight from SQLite: entries, copies, languages, tags."""
    with sqlite3.connect(path) as db:
        total, copies, first, last = db.execute(
            "SELECT count(*), count(duplicate_of), min(published), max(published) "
            "FROM entries").fetchone()
        languages = db.execute("SELECT language, count(*) FROM entries GROUP BY 1 "
                               "ORDER BY 2 DESC").fetchall()
        tag_rows, distinct = db.execute(
            "SELECT count(*), count(DISTINCT folded) FROM entry_tags").fetchone()
        sources = db.execute("SELECT count(DISTINCT source_id) FROM entries").fetchone()[0]
        sizes = db.execute("SELECT avg(length(CAST(title AS BLOB))), "
                           "avg(length(CAST(summary AS BLOB))), "
                           "avg(length(CAST(content AS BLOB))) FROM entries "
                           "WHERE id % 97 = 0").fetchone()
    megabytes = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")
                    if not p.name.endswith(".json")) / 2**20
    return [
        f"{total:,} entries ({copies:,} copies, {copies / max(total, 1):.1%}) from {sources:,}"
        f" sources, published {first} … {last}; {megabytes:,.0f} MiB on disk",
        "languages " + ", ".join(f"{code} {n:,}" for code, n in languages)
        + f"; {tag_rows:,} tag rows, {distinct:,} distinct tags",
        f"average bytes: title {sizes[0]:.0f}, summary {sizes[1]:.0f}, content {sizes[2]:.0f}",
    ]


# ---------------------------------------------------------------------------- config


def choose_min_entries(usage: Mapping[str, int], configured: Sequence[str], wanted: int) -> int:
    """The ``tag_min_entries`` with which about ``wanted`` feed tags (not configured) get
    outputs: the count of the ``wanted``-th most used one."""
    known = {tag_fold(tag) for tag in configured}
    counts = sorted((n for tag, n in usage.items() if tag_fold(tag) not in known), reverse=True)
    if not counts:
        return 5
    if wanted <= 0:
        return counts[0] + 1  # configured tags only
    return max(counts[min(wanted, len(counts)) - 1], 1)


def named_feeds(count: int, tags: Sequence[str], sources: int, seed: int) -> list[dict[str, Any]]:
    """``count`` named feeds of the kinds people configure: a few tags (sometimes in one
    language), a handful of sources, a language without a tag, a tag without another,
    and mentions of a name (``match``)."""
    rng = random.Random(seed + 7)
    # each matches 6–50% of titles + leads in every language: a match that (almost) never
    # matches reads the whole timeline, which select_breakdown's probe measures apart
    mentions = ("(?i)путін|путин|putin", "(?i)зеленськ|зеленск|zelensk",
                "(?i)переговор|negotiat", "(?i)київ|киев|kyiv", "(?i)санкц|sanction",
                "(?i)президент|president", "(?i)харків|харьков|kharkiv")
    feeds: list[dict[str, Any]] = []
    for number in range(count):
        kind = number % 6
        feed: dict[str, Any] = {"id": f"feed-{number + 1:03d}"}
        if kind in (0, 1):
            feed["tags"] = rng.sample(list(tags), rng.randint(1, 3))
            if kind == 1:
                feed["languages"] = [rng.choice(LANGUAGE_CODES)]
        elif kind == 2:
            feed["sources"] = [source_id(s) for s in rng.sample(range(sources),
                                                                 rng.randint(2, 12))]
        elif kind == 3:
            feed["languages"] = [rng.choice(LANGUAGE_CODES)]
            feed["exclude_tags"] = rng.sample(list(tags[:10]), 2)
        elif kind == 4:
            feed["tags"] = [rng.choice(tags[:20])]
            feed["exclude_tags"] = [rng.choice(tags[:5])]
        else:
            feed["match"] = rng.choice(mentions)
            feed["languages"] = [rng.choice(LANGUAGE_CODES)]
        feed["title"] = f"Selection {number + 1}"
        if number % 5 == 0:
            feed["limit"] = rng.choice((20, 100))
        feeds.append(feed)
    return feeds


def write_config(folder: Path, db: Path, sources: int, tags: Mapping[str, Sequence[str]],
                 min_entries: int, feeds: Sequence[Mapping[str, Any]]) -> Path:
    """``folder/config.yaml`` (block YAML through ruamel, which refeed reads with)."""
    from ruamel.yaml import YAML  # noqa: PLC0415

    config = {
        "site": {"title": "refeed bench", "base_url": "http://127.0.0.1:8080/",
                 "languages": list(LANGUAGE_CODES)},
        "database": str(db),
        "output_dir": "feeds",
        "publish": {"formats": ["atom", "rss", "json"], "limit": 50, "per_tag": True,
                    "per_language": True, "per_tag_language": True,
                    "tag_min_entries": min_entries, "feeds": [dict(f) for f in feeds]},
        "tags": {tag: list(aliases) for tag, aliases in tags.items()},
        "sources": source_configs(sources),
    }
    path = folder / "config.yaml"
    yaml = YAML()
    yaml.width = 4096
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(config, handle)
    return path


def refeed_check(config: Path) -> str:
    """``refeed -c CONFIG check``'s answer (it counts outputs without tag counts)."""
    script = Path(sys.executable).with_name("refeed")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "refeed"]
    done = subprocess.run([*command, "-c", str(config), "check"], capture_output=True,
                          text=True, check=False)
    return (done.stdout or done.stderr).strip().splitlines()[-1] + f" (exit {done.returncode})"


def count_outputs(settings: Settings, usage: Mapping[str, int]) -> Counter[str]:
    """The outputs publish will define, by kind, given the timeline's tag usage."""
    registry = read_manifest(settings.output_dir).tags
    return Counter(o.kind for o in define_outputs(settings, usage, registry))


def tag_usage(db: Path) -> dict[str, int]:
    """``Store.tag_usage`` of the database at ``db``."""
    store = Store.open(db)
    try:
        return stored_tag_usage(store)
    finally:
        store.close()


# ---------------------------------------------------------------------------- child


def publish_child(config: str, profile: bool, breakdown: bool, conn: Connection) -> None:
    """Child-process entry: publish_all (under cProfile when ``profile``), then send its
    figures: wall, CPU, peak RSS, the report's counts, how many outputs were rendered
    again (a file of theirs was written), and the profile's and the breakdown's lines."""
    try:
        settings = load_settings(config)
        before = read_manifest(settings.output_dir).fingerprints
        store = Store.open(settings.database)
        profiler = cProfile.Profile() if profile else None
        try:
            reset_peak_rss(os.getpid())
            cpu, started = cpu_seconds(), time.perf_counter()
            if profiler is not None:
                report = profiler.runcall(publish_all, settings, store)
            else:
                report = publish_all(settings, store)
            wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            rss = peak_rss_of(os.getpid())
            lines = select_breakdown(settings, store) if breakdown else []
        finally:
            store.close()
        after = read_manifest(settings.output_dir).fingerprints
        if profiler is not None:
            lines = profile_lines(profiler) + lines
        conn.send({"wall": wall, "cpu": cpu, "rss": rss, "written": len(report.written),
                   "unchanged": report.unchanged, "removed": len(report.removed),
                   "outputs": len(after),
                   "rendered": len({path.rsplit(".", 1)[0] for path in report.written}
                                   & set(after)),
                   "added": sorted(set(after) - set(before)) if before else [],
                   "lines": lines})
    except Exception as error:  # the parent reports it and goes on
        conn.send({"error": f"{type(error).__name__}: {error}"})


def profile_lines(profiler: cProfile.Profile) -> list[str]:
    """The top functions by cumulative time, then by own time."""
    stats = pstats.Stats(profiler)
    rows = [(where(*function), calls, own, cumulative)
            for function, (_, calls, own, cumulative, _) in stats.stats.items()  # type: ignore[attr-defined]
            if function[2] != "<method 'disable' of '_lsprof.Profiler' objects>"]
    lines = [f"{'cum s':>8s} {'own s':>8s} {'calls':>10s}  top {PROFILE_TOP} by cumulative time"]
    lines += [f"{cum:8.2f} {own:8.2f} {calls:>10,}  {name}"
              for name, calls, own, cum in sorted(rows, key=lambda r: -r[3])[:PROFILE_TOP]]
    lines.append(f"{'cum s':>8s} {'own s':>8s} {'calls':>10s}  top {PROFILE_TOP} by own time")
    lines += [f"{cum:8.2f} {own:8.2f} {calls:>10,}  {name}"
              for name, calls, own, cum in sorted(rows, key=lambda r: -r[2])[:PROFILE_TOP]]
    return lines


def where(file: str, line: int, name: str) -> str:
    """``refeed/storage/_timeline.py:123(candidates)``, ``sqlite_utils/db.py:…``, or a builtin."""
    if file == "~":
        return name
    for marker in ("/site-packages/", "/src/", "/lib/python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{file}:{line}({name})"


def select_breakdown(settings: Settings, store: Store) -> list[str]:
    """Selection alone, timed per output (after the measured publish, same process):
    the tag-usage query, then per kind the outputs, rows listed and seconds, and the
    slowest outputs."""
    started = time.perf_counter()
    usage = stored_tag_usage(store)
    usage_seconds = time.perf_counter() - started
    outputs = define_outputs(settings, usage, read_manifest(settings.output_dir).tags)
    per_kind: dict[str, list[float]] = {}
    timed: list[tuple[float, str, int]] = []
    for output in outputs:
        started = time.perf_counter()
        listed = first_entries(output, candidates(store, output))
        seconds = time.perf_counter() - started
        bucket = per_kind.setdefault(output.kind, [0, 0, 0.0])
        bucket[0] += 1
        bucket[1] += len(listed)
        bucket[2] += seconds
        timed.append((seconds, _describe(output), len(listed)))
    lines = [f"selection alone: tag usage query {usage_seconds:.2f} s; per output kind:"]
    lines += [f"  {kind:13s} {int(n):>4} outputs {int(rows):>6,} entries listed {s:7.2f} s"
              f"  ({s / n * 1000:6.1f} ms each)" for kind, (n, rows, s) in per_kind.items()]
    lines.append("  slowest: " + "; ".join(f"{name} {s * 1000:.0f} ms ({rows})"
                                           for s, name, rows in sorted(timed)[::-1][:6]))
    # a named feed whose match never matches: first_entries reads every candidate
    probe = Output("probe", "probe", "named", languages=("uk",), match="(?i)never-matches-x")
    total = store.db.execute("SELECT count(*) FROM entries WHERE duplicate_of IS NULL "
                             "AND language = 'uk'").fetchone()[0]
    started = time.perf_counter()
    read = 0
    for entry in islice(candidates(store, probe), PROBE_ROWS):
        read += 1
        matches(probe, entry)
    seconds = time.perf_counter() - started
    lines.append(f"  probe: a named feed (uk) whose match never matches: {read:,} of the "
                 f"{total:,} uk originals read in {seconds:.2f} s ({read / seconds:,.0f}/s; all "
                 f"of them ≈ {total / read * seconds:.0f} s)")
    return lines


def _describe(output: Output) -> str:
    filters = [f"tags={','.join(output.tags)}" if output.tags else "",
               f"lang={','.join(output.languages)}" if output.languages else "",
               f"{len(output.sources)} sources" if output.sources else "",
               f"exclude={','.join(output.exclude_tags)}" if output.exclude_tags else "",
               f"match={output.match}" if output.match else ""]
    return f"{output.path} [{' '.join(f for f in filters if f)}]"


@dataclass(frozen=True)
class Published:
    """One publish in a child process."""

    wall: float
    cpu: float
    rss: float
    written: int
    unchanged: int
    removed: int
    outputs: int
    rendered: int
    added: list[str]  # outputs that did not exist before (none counted on a first publish)
    lines: list[str]


def run_publish(config: Path, timeout: float, *, profile: bool = False,
                breakdown: bool = False) -> Published | str:
    """publish_all in a fresh spawned child; its figures, or why it failed."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=publish_child, args=(str(config), profile, breakdown, send),
                              name="publish", daemon=True)
    process.start()
    try:
        if not receive.poll(timeout):
            return f"timed out after {timeout:.0f} s"
        answer: dict[str, Any] = receive.recv()
    finally:
        process.kill()
        process.join(30)
    if "error" in answer:
        return f"FAILED: {answer['error']}"
    return Published(**answer)


# ---------------------------------------------------------------------------- churn


def churn(settings: Settings, maker: Maker, count: int, per_source: int) -> StoreCounts:
    """``per_source`` new entries for ``count`` sources through ``Store.record_poll`` (as
    ``poll_all`` stores a poll: one batch of transactions, dedup by refeed)."""
    rng = random.Random(maker.seed + 3)
    chosen = sorted(rng.sample(range(len(settings.sources)), min(count, len(settings.sources))))
    now = END + timedelta(hours=2)
    fresh = maker.churn(chosen, per_source, now - timedelta(minutes=100))
    store = Store.open(settings.database)
    total = Counter[str]()
    try:
        with store.batch():
            for source, entries in fresh.items():
                config = settings.sources[source]
                fetched = FetchResult(source_id=config.id, url=config.url, final_url=config.url,
                                      http_status=200, body=b"(synthetic)", nbytes=50_000,
                                      elapsed=0.1)
                counts = store.record_poll(fetched, ProcessedFeed(tuple(entries)), now=now,
                                           next_due=now + timedelta(minutes=15),
                                           policy=settings.dedup_policy)
                total.update(new=counts.new, duplicates=counts.duplicates,
                             updated=counts.updated, unchanged=counts.unchanged)
    finally:
        store.close()
    return StoreCounts(total["new"], total["updated"], total["unchanged"], total["duplicates"])


# ---------------------------------------------------------------------------- main


def default_db(entries: int, seed: int) -> Path:
    """The cache location of a timeline of ``entries`` entries."""
    return Path(tempfile.gettempdir()) / "refeed-publish-scale" / f"timeline-{entries}-s{seed}.db"


def folder_megabytes(folder: Path) -> float:
    """Bytes of the files under ``folder``, in MB."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=1_000_000,
                        help="entries in the timeline (1,000,000)")
    parser.add_argument("--sources", type=int, default=2000, help="sources (2,000)")
    parser.add_argument("--outputs", type=int, default=500, help="outputs wanted, about (500)")
    parser.add_argument("--churn-sources", type=int, default=1000,
                        help="sources that get new entries in the churn (1,000)")
    parser.add_argument("--churn-entries", type=int, default=5,
                        help="new entries per churned source (5)")
    parser.add_argument("--db", type=Path, help="the timeline database: reused when it exists "
                        "and matches, built there otherwise (default: a file under "
                        f"{tempfile.gettempdir()}/refeed-publish-scale/)")
    parser.add_argument("--rebuild", action="store_true", help="build even when cached")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds after which a publish is stopped (3600)")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the profiled runs of (b) and (c)")
    parser.add_argument("--repeat", type=int, default=0,
                        help="run (c) N more times, each from the same state (0)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder (config, published feeds)")
    parser.add_argument("--keep-churn", action="store_true",
                        help="leave the churn's entries in the database (it is then rebuilt"
                             " next time)")
    args = parser.parse_args(argv)
    if args.entries < 1000 or args.sources < 6 or args.churn_sources > args.sources:
        parser.error("need at least 1,000 entries, 6 sources, churn sources ≤ sources")
    return args


def prepare_database(args: argparse.Namespace, maker_factory: Callable[[], Maker],
                     sources: Sequence[SourceConfig], tag_rules: str) -> tuple[Path, BuildInfo,
                                                                               Maker | None]:
    """Reuse the cached database when it matches (rolling back a leftover churn), else
    build it; returns its path, its info, and the Maker when it was built."""
    path: Path = (args.db or default_db(args.entries, args.seed)).absolute()
    info = None if args.rebuild else BuildInfo.read(path)
    wanted = (BUILD_VERSION, args.entries, args.sources, args.seed)
    if info is not None and path.exists() and \
            (info.version, info.entries, info.sources, info.seed) == wanted:
        removed = roll_back_churn(path, info)
        print(f"database    {path} (cached: built in {info.seconds:.0f} s"
              + (f"; {removed:,} churn entries of an earlier run removed" if removed else "")
              + ")")
        return path, info, None
    if path.exists() and info is None and not args.rebuild and args.db is not None:
        sys.exit(f"{path} exists but was not built by this script (no {info_path(path).name});"
                 " pass --rebuild to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"database    building {args.entries:,} entries into {path}", flush=True)
    started = time.perf_counter()
    maker: Maker = maker_factory()
    print(f"  text pools ready in {time.perf_counter() - started:.1f} s; fast content hash "
          f"differs from refeed's on {check_fingerprints(maker)} of 300 samples", flush=True)
    info = build_database(path, args, maker, sources, tag_rules)
    print(f"  built in {info.seconds:.0f} s ({info.entries / info.seconds:,.0f} entries/s), "
          f"{info.megabytes:,.0f} MiB", flush=True)
    return path, info, maker


@dataclass
class Session:
    """One run of the scenarios: options, the config, the results so far."""

    args: argparse.Namespace
    db: Path
    config: Path
    settings: Settings
    results: dict[str, Result] = field(default_factory=dict)

    def publish(self, key: str, label: str, title: str) -> Published | None:
        """A measured publish in a fresh child, recorded under ``key`` and printed."""
        from perf import Result, heading, print_block  # noqa: PLC0415 (parent only)

        heading(title)
        answer = run_publish(self.config, self.args.timeout)
        if isinstance(answer, str):
            print(f"  {answer}")
            return None
        unit, count = ("files", answer.written) if answer.written else \
            ("outputs", answer.outputs)
        self.results[key] = Result(
            label, answer.wall, count, unit, cpu=answer.cpu, main_rss=answer.rss,
            note=f"{answer.rendered} of {answer.outputs} outputs rewritten, "
                 f"{answer.written:,} files written, {answer.unchanged:,} unchanged")
        print_block(self.results[key])
        if answer.added:
            print(f"  {len(answer.added)} outputs appeared: " + ", ".join(answer.added[:10])
                  + (" …" if len(answer.added) > 10 else ""))
        return answer


def write_bench_config(args: argparse.Namespace, folder: Path, db: Path,
                       tags: Mapping[str, Sequence[str]]) -> tuple[Path, Counter[str]]:
    """The config of about ``args.outputs`` outputs: ``tag_min_entries`` chosen from the
    timeline's tag usage, then named feeds for the rest; returns it and its outputs."""
    usage = tag_usage(db)
    configured = 4 + 4 * len(tags)
    wanted_tags = max((args.outputs - TARGET_NAMED - configured) // 4, 0)
    min_entries = choose_min_entries(usage, list(tags), wanted_tags)
    settings = load_settings(write_config(folder, db, args.sources, tags, min_entries, []))
    base = sum(count_outputs(settings, usage).values())
    published_tags = [o.tags[0] for o in define_outputs(settings, usage) if o.kind == "tag"]
    feeds = named_feeds(max(args.outputs - base, 0), published_tags, args.sources, args.seed)
    config = write_config(folder, db, args.sources, tags, min_entries, feeds)
    kinds = count_outputs(load_settings(config), usage)
    print(f"config      {config}: {args.sources:,} sources, {len(tags)} configured tags, "
          f"tag_min_entries {min_entries:,}, {len(feeds)} named feeds; formats atom, rss, "
          "json, limit 50")
    print(f"outputs     {sum(kinds.values())} by define_outputs: "
          + ", ".join(f"{kind} {n}" for kind, n in kinds.items())
          + f" ({sum(kinds.values()) * 3:,} feed files)")
    print(f"check       {refeed_check(config)}")
    return config, kinds


def step_unchanged(session: Session) -> None:
    """(b): publish again until a publish renders nothing (the first re-publish may add
    outputs: tags whose slug collides with the slug of a tag published by the previous
    run are adopted as "published before"); then its profiled run."""
    from perf import heading  # noqa: PLC0415

    for attempt in range(2, 5):
        answer = session.publish("same", "(b) publish, nothing changed",
                                 "(b) publish again, nothing changed")
        if answer is None or not answer.rendered:
            break
        session.results[f"settle{attempt}"] = replace(
            session.results.pop("same"), name=f"(a{attempt}) publish #{attempt}, not a no-op")
        print(f"  NOT a no-op: recorded as (a{attempt}), publishing again")
    if not session.args.no_profile:
        heading("(b) profiled (cProfile, separate run; its times are inflated)")
        _print_profile(run_publish(session.config, session.args.timeout, profile=True,
                                   breakdown=True))


def step_churn(session: Session, maker: Maker) -> None:
    """The churn through record_poll, (c), then (c) again (``--repeat``) and profiled,
    each from the same state."""
    from perf import Result, heading, print_block  # noqa: PLC0415

    args, output_dir = session.args, session.settings.output_dir
    snapshot = output_dir.with_name("feeds-before-churn")
    shutil.copytree(output_dir, snapshot)
    heading(f"churn: {args.churn_entries} new entries for each of {args.churn_sources:,} "
            "sources through Store.record_poll (in this process)")
    meter = TreeMeter()
    started = time.perf_counter()
    counts = churn(session.settings, maker, args.churn_sources, args.churn_entries)
    session.results["churn"] = Result(
        "churn: record_poll", time.perf_counter() - started, counts.new + counts.duplicates,
        "entries", meter.stop(), note=f"new {counts.new:,}, duplicates {counts.duplicates:,}"
                                      f", updated {counts.updated:,}, unchanged "
                                      f"{counts.unchanged:,}")
    print_block(session.results["churn"])
    if counts.updated or counts.unchanged:  # stored rows changed: no roll-back undoes that
        info_path(session.db).unlink(missing_ok=True)
        print("  the churn changed stored entries in place: the database will be rebuilt")
    print(f"  outputs now {sum(count_outputs(session.settings, tag_usage(session.db)).values())}")
    again = args.repeat or not args.no_profile
    if again:
        keep_change_log(session.db)
    session.publish("incremental", "(c) publish after churn",
                    "(c) incremental publish after the churn")
    if args.repeat:
        walls = []
        for _ in range(args.repeat):
            put_back(session, snapshot)
            answer = run_publish(session.config, args.timeout)
            walls.append(f"{answer.wall:.2f}" if isinstance(answer, Published) else answer)
        print(f"  (c) again from the same state: {', '.join(walls)} s")
    if not args.no_profile:
        heading("(c) profiled (cProfile, separate run from the same state; inflated)")
        put_back(session, snapshot)
        _print_profile(run_publish(session.config, args.timeout, profile=True))
    if again:
        drop_change_log(session.db)


def put_back(session: Session, snapshot: Path) -> None:
    """The output folder and the change log as they were before (c)."""
    output_dir = session.settings.output_dir
    shutil.rmtree(output_dir)
    shutil.copytree(snapshot, output_dir)
    restore_change_log(session.db)


def main(argv: Sequence[str] | None = None) -> None:
    """Build or reuse the timeline, write the config, run (a), (b), churn, (c)."""
    from perf import TABLE_HEAD, Result  # noqa: PLC0415 (parent only)

    args = parse_args(argv)
    bench_started = time.perf_counter()
    print(f"refeed publish scale — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          "load average " + " ".join(f"{load:.2f}" for load in os.getloadavg()))
    print(f"refeed      {code_version()}")
    table = concepts()
    tags = tags_config(table)
    taxonomy = taxonomy_of(tags)
    source_list = [SourceConfig(**source) for source in source_configs(args.sources)]
    tag_rules = tagging_fingerprint(taxonomy, {source.id: source.tags for source in source_list})
    results: dict[str, Result] = {}
    meter = TreeMeter()
    started = time.perf_counter()
    db, info, maker = prepare_database(
        args, lambda: Maker(args.seed, args.sources, taxonomy, table), source_list, tag_rules)
    if maker is not None:
        results["build"] = Result("build the timeline", time.perf_counter() - started,
                                  args.entries, "entries", meter.stop(),
                                  note=f"{info.megabytes:,.0f} MiB")
    for line in database_summary(db):
        print(f"            {line}")

    folder = Path(tempfile.mkdtemp(prefix="refeed-publish-scale-"))
    try:
        config, kinds = write_bench_config(args, folder, db, tags)
        session = Session(args, db, config, load_settings(config), results)
        session.publish("full", "(a) full publish", f"(a) full publish of "
                        f"{sum(kinds.values())} outputs into an empty folder (child process)")
        print(f"  output folder {folder_megabytes(session.settings.output_dir):,.1f} MB")
        step_unchanged(session)
        step_churn(session, maker or Maker(args.seed, args.sources, taxonomy, table))
        print(f"\n== summary ({args.entries:,} entries, {sum(kinds.values())} outputs × 3 "
              "formats; publish runs each in a fresh child: CPU and RSS are the child's,"
              " RSS = peak during publish_all)")
        print(TABLE_HEAD)
        for result in results.values():
            print(result.row())
        print("\nload average now " + " ".join(f"{load:.2f}" for load in os.getloadavg())
              + f"; total bench time {time.perf_counter() - bench_started:.0f} s")
    finally:
        if not args.keep_churn:
            removed = roll_back_churn(db, info)
            if removed:
                print(f"database    churn rolled back ({removed:,} entries removed)")
        else:
            info_path(db).unlink(missing_ok=True)
        remove_unless_kept(folder, args.keep)


def _print_profile(answer: Published | str) -> None:
    if isinstance(answer, str):
        print(f"  {answer}")
        return
    print(f"  wall {answer.wall:.2f} s under cProfile, {answer.rendered} outputs rewritten, "
          f"{answer.written} files written")
    for line in answer.lines:
        print(f"  {line}")


if __name__ == "__main__":
    main()
