"""PURE: decide what an incoming entry does to the timeline.

For each normalized entry the store looks up the row it already has for the same source
and key, and the stored entries that might be the same story (same canonical URL, same
content fingerprint, or a shared MinHash band); this module decides, without touching
the database:

- ``unchanged``: same source + key, same revision — nothing to write;
- ``updated``:   same source + key, different revision — update in place (same output id);
- ``duplicate``: the story is already stored — recorded as ``duplicate_of`` the cluster's
  first-seen original, never a new timeline item; when the entry bridges several
  clusters, they are merged into the oldest one;
- ``new``:       everything else.

Two entries are the same story (:func:`same_story`) when they are in the same language
(translations are never merged) and, from different sources: share a canonical URL; or
share the content fingerprint and were published within the window; or are near-
duplicates — MinHash similarity of the word shingles of their whole texts at least the
threshold, within the window — and their figures agree (:func:`figures_agree`: the
shorter text's figures all in the other, or at most two changed within
``update_window``: a daily bulletin differs from yesterday's only in its figures, a
correction changes one or two within hours). From the same source, a new key with the
fingerprint of a stored entry, or its URL and title without a different text, is that
entry re-appearing under a new guid (a CMS migration), not a new story; a live blog's
posts share their page, title and summary, never their text.

Evidence against a merge overrides evidence for it, except a shared canonical URL
between sources (the same page) and the same fingerprint (the same words).

Clusters are the connected components of that relation, so the same entries arriving in
any order, in any polls, end up in the same clusters.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING, Protocol

from refeed.model import Action, Decision, Entry, StoredEntry

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

NUM_PERM = 64
BANDS = 16  # 16 bands of 4 rows: pairs from ~0.5 similarity on share a band
ROWS = NUM_PERM // BANDS
MIN_SHINGLES = 4  # shorter texts get no signature: too little to compare
MAX_CORRECTED_FIGURES = 2  # figures an update within hours may change
SEED = 20261125
_WORD = re.compile(r"[^\W_]+")  # runs of str.isalnum() characters, as re defines \w
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
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
    folded = unicodedata.normalize("NFKC", text).casefold()
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
    return sum(a == b for a, b in zip(first, second, strict=True)) / len(first)


def overlap(entry: Comparable, stored: Comparable) -> float:
    """How much of the shorter text the longer one contains (from the estimated Jaccard
    and the shingle counts), or the Jaccard itself when that is higher: a trimmed lede
    is still the story."""
    jaccard = similarity(entry.signature, stored.signature)
    smaller = min(entry.shingles, stored.shingles)
    if not jaccard or not smaller:
        return jaccard
    containment = jaccard * (entry.shingles + stored.shingles) / ((1 + jaccard) * smaller)
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
    likeness = hours | {"overlap": round(overlap(first, second), 3),
                        "threshold": policy.threshold}
    if not policy.near_duplicates:
        return Judgement(False, "near-duplicates are off", likeness)
    if overlap(first, second) < policy.threshold:
        return Judgement(False, "different texts", likeness)
    close = gap <= policy.update_window
    figures = likeness | {"figures": [list(first.numbers), list(second.numbers)]}
    if not figures_agree(first.numbers, second.numbers, close=close):
        return Judgement(False, "nearly the same text, but other figures", figures)
    return Judgement(True, "nearly the same text, the same figures", figures)


def figures_agree(first: Sequence[str], second: Sequence[str], *, close: bool) -> bool:
    """Whether two texts' figures tell the same story: the shorter list's figures all
    in the other (a trimmed copy), or, within hours, at most a couple changed (a
    correction: 7 injured, then 8). Yesterday's bulletin, or a template filled in for
    another event, changes more."""
    fewer, more = sorted((set(first), set(second)), key=len)
    changed = len(fewer - more)
    return changed == 0 or (close and changed <= MAX_CORRECTED_FIGURES)


def _reappears(first: Comparable, second: Comparable, policy: DedupPolicy) -> Judgement:
    """A stored entry of the same source seen again under a new key: the same text, or
    the same page and title without a different text — a live blog's entries share
    their page, title and summary, not their text."""
    if first.content_hash and first.content_hash == second.content_hash:
        return Judgement(True, "one source: the same title and text again")
    same_page = bool(first.canonical_url and first.canonical_url == second.canonical_url
                     and words(first.title) == words(second.title))
    if not same_page:
        return Judgement(False, "one source: another page or title")
    texts_differ = bool(first.signature and second.signature
                        and overlap(first, second) < policy.threshold)
    if texts_differ:
        return Judgement(False, "one source: the same page and title, another text (a live "
                         "blog)", {"overlap": round(overlap(first, second), 3)})
    return Judgement(True, "one source: the same page and title again")
