"""PURE: decide what an incoming entry does to the timeline.

For each normalized entry the store looks up the row it already has for the same source
and key, and the stored entries that might be the same story (same canonical URL, same
content fingerprint, a shared MinHash band of their word pairs, or the most facts —
figures, names — in common on the same day); this module decides, without touching the
database:

- ``unchanged``: same source + key, same revision — nothing to write;
- ``updated``:   same source + key, different revision — update in place (same output id);
- ``duplicate``: the story is already stored — recorded as ``duplicate_of`` the cluster's
  first-seen original, never a new timeline item; when the entry bridges several
  clusters, they are merged into the oldest one;
- ``new``:       everything else.

Two entries are the same story (:func:`judge`, which names the rule that decided) when,
in this order:

1. deduplication is on, neither source opted out, and they are in the same language
   (translations are never merged);
2. from the same source: the same fingerprint; or the same page and title without a
   different text (a live blog's posts share page, title and summary, never their
   text); or the same title over nearly the same text with no figure changed (posted
   again under a new address), or nearly the same text edited, with nothing against it
   (rule 4) — a new key for a stored entry, not a new story;
3. from different sources: the same canonical URL (the same page), else, within
   ``window``, the same fingerprint (the same words);
4. then evidence against a merge comes first (:func:`contradiction`): each headline
   names someone or somewhere the other story never does (:func:`headlines_disagree`:
   an ambassador to Japan, one to Brazil); the texts name people or places, none in
   common (:func:`names_disjoint`: warnings for two regions); or one names a date the
   other never does (:func:`dates_differ`: yesterday's bulletin);
5. nearly the same whole text (word-pair overlap at least ``threshold``) whose figures
   agree (:func:`figures_agree`: the shorter text's figures all in the other, or at
   most two changed within ``update_window`` — a correction; another day's bulletin
   changes more);
6. or, within :data:`RETELL_WINDOW`, the same facts retold in other words
   (:func:`retold`: most of one text's word stems and names in the other, none of its
   figures missing, each headline's figures in the other text, a headline word in
   common) — by a summary of the full text, or by a full text that shares a figure or
   many names and few word pairs for so many words (:func:`rephrased`: a template
   filled in for another event keeps its sentences).

An admin's split (``refeed dedup split``) overrides all of them: nothing joins an entry
kept apart. Clusters are the connected components of the relation, so the same entries
arriving in any order, in any polls, end up in the same clusters.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Protocol

from refeed.model import Action, Decision, Entry, StoredEntry
from refeed.textdates import is_calendar_word, named_dates

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

NUM_PERM = 64
BANDS = 16  # 16 bands of 4 rows: pairs from ~0.5 similarity on share a band
ROWS = NUM_PERM // BANDS
MIN_SHINGLES = 4  # shorter texts get no signature: too little to compare
MAX_CORRECTED_FIGURES = 2  # figures an update within hours may change
REPOST_OVERLAP = 0.9  # one source's text posted again with its headline or figures edited
RETELL_WINDOW = timedelta(hours=6)  # a story retold in other words comes within hours
RETELL_OVERLAP = 0.5  # of the shorter text's word stems the other must share, at least
RETELL_NAMES = 0.5  # ... and of its names
SUMMARY_SHARE = 0.5  # a summary has at most this share of the full text's word stems
FULL_RETELL_OVERLAP = 0.55  # of two full texts' word stems a retelling shares, at least
SAME_WORDS = 0.85  # ... all but a few: the same words, however ordered
REPHRASED = 0.7  # ... or word-pair overlap at most this times the stems': other sentences
MANY_NAMES = 8  # ... sharing a figure or this many names: the facts of the story
STEM = 5  # letters of a word that stand for it across inflections (Києві, Київ: "киї")
NAME = 12  # letters of a name kept
RETRIEVED = 8  # stored entries sharing the most facts, read as candidates
MIN_SHARED_FACTS = 2  # ... and at least this many: one name or figure in common is chance
MIN_NAMES = 2  # texts naming none of each other's people or places name this many each
SEED = 20261125
_WORD = re.compile(r"[^\W_]+")  # runs of str.isalnum() characters, as re defines \w
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SENTENCE = re.compile(r"(?<=[.!?:;])\s+|\n")
_BOILERPLATE = re.compile(
    r"(?:the post .{0,200} appeared first on .{0,200}"
    r"|(?:read more|continue reading|read the full (?:story|article))\b.{0,200}"
    r"|(?:reporting|writing|editing) by .{0,200})$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DedupPolicy:
    """How duplicates are found: on or off, the window, near-duplicate matching and its
    similarity threshold, and the sources that opted out."""

    enabled: bool = True
    window: timedelta = timedelta(hours=72)
    near_duplicates: bool = True
    threshold: float = 0.7
    update_window: timedelta = timedelta(hours=12)
    excluded_sources: frozenset[str] = field(default_factory=frozenset)


def entry_revision(entry: Entry) -> str:
    """A hash of everything whose change makes a stored entry *updated*. Fallback dates
    (``dated=False``) are left out: they are the fetch time, not the entry's."""
    fields = {
        "title": entry.title,
        "link": entry.link,
        "summary": entry.summary,
        "content": entry.content,
        "authors": entry.authors,
        "tags": entry.tags,
        "language": entry.language,
        "enclosures": [(e.url, e.type, e.length) for e in entry.enclosures],
        "dates": [entry.published.isoformat(), entry.updated.isoformat()] if entry.dated else [],
    }
    encoded = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


def words(text: str) -> list[str]:
    """``text`` as comparable words: NFKC, case-folded, without punctuation, trailing
    boilerplate ("Read more…", "The post … appeared first on …") or number formatting."""
    # NFKC writes "№66" as "No66": kept apart, the number stays a number
    folded = unicodedata.normalize("NFKC", text.replace("№", "№ ")).casefold()
    folded = _BOILERPLATE.sub("", folded.strip())
    folded = _NUMBER.sub(lambda number: re.sub(r"[.,]", "", number.group()), folded)
    return _WORD.findall(folded)


def fingerprint(title: str, body_text: str) -> str:
    """A hash of title + body words; empty when there is no body text (a bare title is
    too weak to call two entries the same)."""
    body = words(body_text)
    if not body:
        return ""
    joined = " ".join(words(title)) + "\n" + " ".join(body)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Likeness:
    """What near-duplicate matching knows of a text: the MinHash signature of its word
    pairs, how many pairs there were, and the numbers it mentions."""

    signature: tuple[int, ...]
    shingles: int
    numbers: tuple[str, ...]


@cache
def _permutations() -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    """The ``(a, b)`` of the NUM_PERM affine permutations ``h -> a*h + b mod 2**32``, drawn
    from SEED exactly as datasketch 2's ``MinHash(scheme="affine32")`` draws them, so
    signatures stored by earlier versions (computed by datasketch) stay comparable.
    numpy is imported on first use, by the processes that compute signatures."""
    import numpy as np  # noqa: PLC0415

    generator = np.random.RandomState(SEED)
    odd = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    return odd, generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)


def minhash(shingles: Iterable[str]) -> tuple[int, ...]:
    """The MinHash signature of a set of shingles: per permutation, the least permuted
    hash. Each shingle is hashed by the first 4 bytes of its SHA-1 and avalanched by
    MurmurHash3's 32-bit finalizer, as datasketch does. (datasketch itself is not
    used at run time: importing it imports scipy, 43 MiB in every worker.)"""
    import numpy as np  # noqa: PLC0415

    a, b = _permutations()
    hashes = np.array(
        [int.from_bytes(hashlib.sha1(shingle.encode("utf-8")).digest()[:4], "little")
         for shingle in shingles],
        dtype=np.uint32,
    ).reshape(-1, 1)
    hashes ^= hashes >> np.uint32(16)
    hashes *= np.uint32(0x85EBCA6B)
    hashes ^= hashes >> np.uint32(13)
    hashes *= np.uint32(0xC2B2AE35)
    hashes ^= hashes >> np.uint32(16)
    return tuple(int(value) for value in (hashes * a + b).min(axis=0))


def text_likeness(text: str) -> Likeness:
    """The :class:`Likeness` of ``text``; no signature for texts too short to compare."""
    tokens = words(text)
    shingles = {f"{first} {second}" for first, second in pairwise(tokens)}
    numbers = tuple(sorted({token for token in tokens if token.isdigit()}))
    if len(shingles) < MIN_SHINGLES:
        return Likeness((), len(shingles), numbers)
    return Likeness(minhash(shingles), len(shingles), numbers)


@dataclass(frozen=True)
class Facts:
    """What tells a story retold in other words: the names of people and places in it
    (words capitalized inside a sentence), those its headline carries, a MinHash of its
    word stems, and the dates it names."""

    names: tuple[str, ...]
    headline: tuple[str, ...]
    stem_signature: tuple[int, ...]
    stems: int
    dates: tuple[str, ...]


def story_facts(title: str, body: str) -> Facts:
    """The :class:`Facts` of a story with ``title`` and ``body`` (plain text)."""
    names = {_fold(word)[:NAME] for sentence in _SENTENCE.split(body)
             for word in _WORD.findall(sentence)[1:] if _is_name(word)}
    headline = {_fold(word)[:NAME] for word in _WORD.findall(title) if _is_name(word)}
    known = tuple(sorted(names))
    headline = {name for name in headline if _named(name, known)}  # Title Case is no name
    stems = {_fold(word)[:STEM] for word in _WORD.findall(f"{title}\n{body}")
             if len(word) > 3 and not word.isdigit()}
    signature = minhash(stems) if len(stems) >= MIN_SHINGLES else ()
    return Facts(tuple(sorted(names | headline)), tuple(sorted(headline)), signature,
                 len(stems), named_dates(f"{title}\n{body}"))


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold()


def _is_name(word: str) -> bool:
    return (len(word) >= 3 and word[:1].isupper() and not word.isdigit()
            and not is_calendar_word(_fold(word)))


def same_name(first: str, second: str) -> bool:
    """Whether two folded words name the same one, inflected: they agree but for their
    last two letters (Львів, Львові; Зеленський, Зеленського), three at least."""
    common = 0
    for left, right in zip(first, second, strict=False):
        if left != right:
            break
        common += 1
    return common >= max(3, min(len(first), len(second)) - 2)


def _named(name: str, names: tuple[str, ...]) -> bool:
    return any(same_name(name, other) for other in _by_prefix(names).get(name[:3], ()))


@lru_cache(maxsize=4096)
def _by_prefix(names: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """``names`` by their first three letters, which two spellings of one name share
    (:func:`same_name`): a story's names are compared with those of every candidate."""
    grouped: dict[str, list[str]] = {}
    for name in names:
        grouped.setdefault(name[:3], []).append(name)
    return {prefix: tuple(group) for prefix, group in grouped.items()}


def figures(numbers: Iterable[str]) -> set[str]:
    """The numbers that are facts of a story: two digits or more, not a year."""
    return {number for number in numbers
            if len(number) >= 2 and not (len(number) == 4 and 1900 <= int(number) <= 2099)}


def fact_keys(entry: Comparable, days: Iterable[date] | None = None) -> list[str]:
    """Keys under which an entry's facts (figures, and names by their first letters) are
    indexed — per language and day, so a lookup reads one or two days' entries."""
    facts = figures(entry.numbers) | {name[:4] for name in entry.names}
    chosen = list(days) if days is not None else [entry.published.date()]
    return [f"{entry.language or ''}|{day.isoformat()}|{fact}"
            for day in chosen for fact in sorted(facts)]


def retell_days(moment: datetime) -> list[date]:
    """The days whose entries may be within :data:`RETELL_WINDOW` of ``moment``."""
    return sorted({(moment + shift).date() for shift in (-RETELL_WINDOW, timedelta(0),
                                                         RETELL_WINDOW)})


def band_keys(signature_values: Sequence[int]) -> list[tuple[int, int]]:
    """``(band, key)`` pairs under which a signature is indexed: signatures sharing one
    are candidates. Keys are stable 63-bit hashes (the same in every process)."""
    if not signature_values:
        return []
    keys = []
    for band in range(BANDS):
        rows = signature_values[band * ROWS:(band + 1) * ROWS]
        digest = hashlib.blake2b(repr(tuple(rows)).encode(), digest_size=8).digest()
        keys.append((band, int.from_bytes(digest, "big") >> 1))
    return keys


def similarity(first: Sequence[int], second: Sequence[int]) -> float:
    """The estimated Jaccard similarity of two signatures (0 when either is missing)."""
    if not first or len(first) != len(second):
        return 0.0
    agreeing: int = sum(map(operator.eq, first, second))
    return agreeing / len(first)


def overlap(entry: Comparable, stored: Comparable) -> float:
    """How much of the shorter text the longer one contains (from the estimated Jaccard
    of their word pairs and their counts), or the Jaccard itself when that is higher: a
    trimmed lede is still the story."""
    return _containment(entry.signature, stored.signature, entry.shingles, stored.shingles)


def stem_overlap(first: Comparable, second: Comparable) -> float:
    """:func:`overlap` of the two texts' word stems rather than word pairs."""
    return _containment(first.stem_signature, second.stem_signature, first.stems,
                        second.stems)


def _containment(first: Sequence[int], second: Sequence[int], size: int, other: int) -> float:
    jaccard = similarity(first, second)
    smaller = min(size, other)
    if not jaccard or not smaller:
        return jaccard
    containment = jaccard * (size + other) / ((1 + jaccard) * smaller)
    return max(jaccard, min(containment, 1.0))


def decide(
    entry: Entry,
    revision: str,
    existing: StoredEntry | None,
    candidates: Sequence[StoredEntry],
    policy: DedupPolicy,
) -> Decision:
    """What to do with ``entry`` given its stored row (if any) and possible copies."""
    if existing is not None:
        action: Action = "unchanged" if existing.revision == revision else "updated"
        return Decision(action, existing_id=existing.id)
    originals = sorted(cluster_originals(entry, candidates, policy))
    if not originals:
        return Decision("new")
    return Decision("duplicate", duplicate_of=originals[0], merge=tuple(originals[1:]))


def cluster_originals(
    entry: Comparable, candidates: Iterable[StoredEntry], policy: DedupPolicy
) -> set[int]:
    """The originals of every stored cluster ``entry`` belongs to; an entry an admin
    split off joins nothing and is joined by nothing."""
    return {
        candidate.duplicate_of if candidate.duplicate_of is not None else candidate.id
        for candidate in candidates
        if not candidate.kept_apart and same_story(entry, candidate, policy)
    }


class Comparable(Protocol):
    """What the rules read of an entry, incoming (:class:`Entry`) or stored."""

    @property
    def source_id(self) -> str: ...
    @property
    def language(self) -> str | None: ...
    @property
    def canonical_url(self) -> str | None: ...
    @property
    def published(self) -> datetime: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def signature(self) -> tuple[int, ...]: ...
    @property
    def shingles(self) -> int: ...
    @property
    def numbers(self) -> tuple[str, ...]: ...
    @property
    def names(self) -> tuple[str, ...]: ...
    @property
    def headline(self) -> tuple[str, ...]: ...
    @property
    def stem_signature(self) -> tuple[int, ...]: ...
    @property
    def stems(self) -> int: ...
    @property
    def dates(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Judgement:
    """Whether two entries are the same story, by which rule, on what evidence."""

    same: bool
    rule: str
    evidence: Mapping[str, object] = field(default_factory=dict)


def same_story(entry: Comparable, stored: Comparable, policy: DedupPolicy) -> bool:
    """True when ``entry`` and ``stored`` are the same story (see the module docstring)."""
    return judge(entry, stored, policy).same


def judge(first: Comparable, second: Comparable, policy: DedupPolicy) -> Judgement:
    """Whether ``first`` and ``second`` are the same story, with the rule that decided
    and its evidence: what ``refeed dedup explain`` and ``entries --json`` show."""
    if not policy.enabled:
        return Judgement(False, "deduplication is off")
    excluded = sorted(policy.excluded_sources & {first.source_id, second.source_id})
    if excluded:
        return Judgement(False, "a source opted out", {"sources": excluded})
    if first.language and second.language and first.language != second.language:
        return Judgement(False, "translations are never merged",
                         {"languages": [first.language, second.language]})
    if first.source_id == second.source_id:
        return _reappears(first, second, policy)
    if first.canonical_url and first.canonical_url == second.canonical_url:
        return Judgement(True, "the same canonical URL", {"url": first.canonical_url})
    gap = abs(first.published - second.published)
    hours = {"hours_apart": round(gap.total_seconds() / 3600, 1)}
    if gap > policy.window:
        return Judgement(False, "published further apart than dedup.window", hours)
    if first.content_hash and first.content_hash == second.content_hash:
        return Judgement(True, "the same title and text", hours)
    return _by_likeness(first, second, policy, gap)


def _by_likeness(
    first: Comparable, second: Comparable, policy: DedupPolicy, gap: timedelta
) -> Judgement:
    """The verdict on two stories of different sources, close in time, that share no
    page and no fingerprint: near-duplicates, or the same facts retold (see above)."""
    hours = {"hours_apart": round(gap.total_seconds() / 3600, 1)}
    near = overlap(first, second)
    likeness = hours | {"overlap": round(near, 3), "threshold": policy.threshold}
    if not policy.near_duplicates:
        return Judgement(False, "near-duplicates are off", likeness)
    against = contradiction(first, second)
    if against is not None:
        return Judgement(False, against.rule, likeness | dict(against.evidence))
    if near >= policy.threshold:
        close = gap <= policy.update_window
        numbers = likeness | {"figures": [list(first.numbers), list(second.numbers)]}
        if not figures_agree(first.numbers, second.numbers, close=close):
            return Judgement(False, "nearly the same text, but other figures", numbers)
        return Judgement(True, "nearly the same text, the same figures", numbers)
    if gap > RETELL_WINDOW:
        return Judgement(False, "different texts", likeness)
    stems, names = stem_overlap(first, second), names_shared(first, second)
    retelling = hours | {"stem_overlap": round(stems, 3), "names_shared": round(names, 3)}
    if retold(first, second, stems=stems, names=names, near=near):
        return Judgement(True, "the same facts, retold", retelling)
    return Judgement(False, "different texts", likeness | retelling)


def contradiction(first: Comparable, second: Comparable) -> Judgement | None:
    """Evidence that two stories close in time and words are different ones, which no
    likeness overrides: headlines naming others (:func:`headlines_disagree`), texts
    naming none of the same people or places (:func:`names_disjoint`) or other dates
    (:func:`dates_differ`); None when there is none."""
    if headlines_disagree(first, second):
        return Judgement(False, "the headlines name other people or places",
                         {"headlines": [list(first.headline), list(second.headline)]})
    if names_disjoint(first, second):
        return Judgement(False, "the texts name none of the same people or places",
                         {"names": [list(first.names), list(second.names)]})
    if dates_differ(first, second):
        return Judgement(False, "the texts name other dates",
                         {"dates": [list(first.dates), list(second.dates)]})
    return None


def names_disjoint(first: Comparable, second: Comparable) -> bool:
    """Each text names people or places (:data:`MIN_NAMES` at least), none of them the
    other's: one storm warning for Zakarpattia, another for Ivano-Frankivsk."""
    return (len(first.names) >= MIN_NAMES and len(second.names) >= MIN_NAMES
            and not any(_named(name, second.names) for name in first.names))


def dates_differ(first: Comparable, second: Comparable) -> bool:
    """The text naming fewer dates names one the other never does: yesterday's bulletin,
    a warning for another day. (A copy trimmed of its dates, or adding one, agrees.)"""
    fewer, more = sorted((set(first.dates), set(second.dates)), key=len)
    return bool(fewer - more)


def headlines_disagree(first: Comparable, second: Comparable) -> bool:
    """Each headline names someone or somewhere the other story never does: an
    ambassador to Japan and one to Brazil, one club fined and another. (One side alone
    is no evidence: an edited headline or a summary adds or leaves out a name.)"""
    return (any(not _named(name, second.names) for name in first.headline)
            and any(not _named(name, first.names) for name in second.headline))


def is_summary_of(first: Comparable, second: Comparable) -> bool:
    """Whether one of two texts is a summary of the other's length: at most
    :data:`SUMMARY_SHARE` of its word stems."""
    return min(first.stems, second.stems) <= SUMMARY_SHARE * max(first.stems, second.stems)


def names_shared(first: Comparable, second: Comparable) -> float:
    """How many of the fewer names the other text has too (1 when one has none)."""
    fewer, more = sorted((first.names, second.names), key=len)
    if not fewer:
        return 1.0
    return sum(_named(name, more) for name in fewer) / len(fewer)


def retold(first: Comparable, second: Comparable, *, stems: float, names: float,
           near: float) -> bool:
    """The same story in other words: most of one text's word stems (``stems``,
    :func:`stem_overlap`) and names (``names``, :func:`names_shared`) in the other; none
    of its figures missing, and each headline's figures in the other text (an
    initiative №27 is not №66); a word of the headline in common (texts built on one
    background paragraph under headlines of their own are other stories); and either
    one text a summary of the other (:func:`is_summary_of`), or two full texts in other
    words (:func:`rephrased`) that share a figure or :data:`MANY_NAMES` names — the
    facts a retelling keeps and a template filled in for another event swaps."""
    own = figures(first.numbers), figures(second.numbers)
    fewer, more = sorted(own, key=len)
    headline_figures = figures(_title_numbers(first.title)), figures(_title_numbers(second.title))
    if not (fewer <= more and headline_figures[0] <= own[1] and headline_figures[1] <= own[0]
            and stems >= RETELL_OVERLAP and names >= RETELL_NAMES
            and title_stems(first.title) & title_stems(second.title)):
        return False
    if is_summary_of(first, second):
        return True
    facts_kept = bool(own[0] & own[1]) or _names_in_common(first, second) >= MANY_NAMES
    return facts_kept and rephrased(stems=stems, near=near)


def _title_numbers(title: str) -> list[str]:
    """A title's numbers as :func:`words` writes them (180,000 as 180000; №66 as 66)."""
    return [word for word in words(title) if word.isdigit()]


def _names_in_common(first: Comparable, second: Comparable) -> int:
    return sum(_named(name, second.names) for name in first.names)


def rephrased(*, stems: float, near: float) -> bool:
    """Two full texts telling one story in other words, as an aggregator retells an
    agency's: most of their word stems shared (``stems`` at least
    :data:`FULL_RETELL_OVERLAP`), and either nearly all (:data:`SAME_WORDS`) or few of
    their word pairs for so many words (``near``, :func:`overlap`, at most
    :data:`REPHRASED` times ``stems``). A template filled in for another event keeps its
    sentences and swaps a few words: its word pairs go with its words."""
    return stems >= FULL_RETELL_OVERLAP and (stems >= SAME_WORDS or near <= REPHRASED * stems)


def title_stems(title: str) -> set[str]:
    """The stems of a title's words: a retold story's headline still shares one."""
    return {_fold(word)[:STEM] for word in _WORD.findall(title)
            if len(word) > 3 and not word.isdigit()}


def figures_agree(first: Sequence[str], second: Sequence[str], *, close: bool) -> bool:
    """Whether two texts' figures tell the same story: the shorter list's figures all
    in the other (a trimmed copy), or, within hours, at most a couple changed (a
    correction: 7 injured, then 8). Yesterday's bulletin, or a template filled in for
    another event, changes more."""
    fewer, more = sorted((set(first), set(second)), key=len)
    changed = len(fewer - more)
    return changed == 0 or (close and changed <= MAX_CORRECTED_FIGURES)


def _reappears(first: Comparable, second: Comparable, policy: DedupPolicy) -> Judgement:
    """A stored entry of the same source seen again under a new key: the same text; the
    same page and title without a different text (a live blog's posts share their page,
    title and summary, not their text); or the same title over nearly the same text
    with none of its figures changed (posted again under a new address)."""
    if first.content_hash and first.content_hash == second.content_hash:
        return Judgement(True, "one source: the same title and text again")
    same_title = words(first.title) == words(second.title)
    near = overlap(first, second)
    likeness = {"overlap": round(near, 3), "threshold": policy.threshold}
    texts_differ = bool(first.signature and second.signature and near < policy.threshold)
    if same_title and first.canonical_url and first.canonical_url == second.canonical_url:
        if texts_differ:
            return Judgement(False, "one source: the same page and title, another text (a "
                             "live blog)", likeness)
        return Judgement(True, "one source: the same page and title again")
    if (same_title and first.signature and second.signature and not texts_differ
            and figures_agree(first.numbers, second.numbers, close=False)):
        return Judgement(True, "one source: the same title and nearly the same text again",
                         likeness)
    close = abs(first.published - second.published) <= policy.update_window
    if (near >= REPOST_OVERLAP and contradiction(first, second) is None
            and figures_agree(first.numbers, second.numbers, close=close)):
        return Judgement(True, "one source: the same text again, edited", likeness)
    return Judgement(False, "one source: another page or title", likeness)
