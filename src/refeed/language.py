"""PURE: the language of an entry — declared languages as priors, lingua as evidence.

Declared languages (the entry's ``xml:lang``/``dc:language``, the source's configured
edition language, the feed's ``<language>``) are priors, not truth: a Russian item in a
feed declared ``uk`` must land in ``lang/ru``. The detector (lingua) is built only for the
site's languages — never for all 75, which costs ~1 GB and misreads Ukrainian as Kazakh —
and decides when it is confident; on short or mixed text the prior wins.

Text in a language the site does not publish (a German item on a uk/ru/en site) must not
be forced into one of them. A second, cheap detector (lingua's low-accuracy trigram mode)
knows the site's languages plus the common neighbours in ``others``; when it is sure the
text is one of those neighbours, the entry keeps that foreign code and gets no language
feed.

Detectors are built once per process (per worker) and cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import langcodes
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

# ISO 639 codes that name no single language: undetermined, multiple, uncoded, none.
NOT_LANGUAGES = frozenset({"und", "mul", "mis", "zxx"})
DETECTION_CHARS = 400  # detection reads at most this much of an entry's text
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
# lingua's languages that are not written in the Latin script
NON_LATIN = frozenset({
    "ar", "be", "bg", "bn", "el", "fa", "gu", "he", "hi", "hy", "ja", "ka", "kk", "ko",
    "mk", "mn", "mr", "pa", "ru", "sr", "ta", "te", "th", "uk", "ur", "zh",
})
# The cheap gate trusts itself only on text this long (a headline full of Ukrainian
# names reads as Finnish or Polish to it) — unless a declared language agrees with it.
MIN_GATE_WORDS = 10
FOREIGN_CONFIDENCE = 0.9


@dataclass(frozen=True)
class LanguagePolicy:
    """How languages are decided: the site's languages, whether to detect, lingua's mode,
    the confidence the detector needs to overrule the prior, and the foreign neighbours
    the gate knows."""

    languages: tuple[str, ...] = ()
    detect: bool = True
    low_accuracy: bool = False
    min_confidence: float = 0.75
    others: tuple[str, ...] = ()


NO_DETECTION = LanguagePolicy(detect=False)


@dataclass(frozen=True)
class LanguageDecision:
    """The language an entry is published under, and the evidence for it."""

    language: str | None
    declared: str | None = None
    detected: str | None = None
    confidence: float | None = None


@lru_cache(maxsize=1024)
def primary_language(code: str) -> str | None:
    """``en-US`` → ``en``, ``UKR`` → ``uk``; ``None`` for codes that name no language."""
    try:
        language = langcodes.Language.get(code.strip().replace("_", "-"))
    except (ValueError, langcodes.tag_parser.LanguageTagError):
        return None
    primary = language.language
    if not primary or not language.is_valid() or primary in NOT_LANGUAGES or "-" in primary:
        return None  # "-": private-use tags such as x-default
    return str(primary)


def resolve_language(declared: Iterable[str | None]) -> str | None:
    """The first valid code among ``declared``, most specific first."""
    for code in declared:
        if code and (primary := primary_language(code)):
            return primary
    return None


def lingua_language(code: str) -> Language | None:
    """The lingua language for an ISO 639-1 code, or ``None`` if lingua has none."""
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
    except ValueError:
        return None


def decide_language(
    text: str, declared: Iterable[str | None], policy: LanguagePolicy
) -> LanguageDecision:
    """The entry's language from its ``text`` (title + summary) and declared languages;
    only the first :data:`DETECTION_CHARS` characters are read (lingua's cost grows
    with the text, its accuracy stops growing long before)."""
    if len(text) > DETECTION_CHARS:
        text = text[:text.rfind(" ", 0, DETECTION_CHARS) + 1 or DETECTION_CHARS]
    prior = resolve_language(declared)
    site = tuple(code for code in policy.languages if lingua_language(code) is not None)
    if not policy.detect or not site or not _LETTER.search(text):
        return LanguageDecision(prior, prior)
    foreign = _foreign_language(text, prior, site, policy)
    if foreign is not None:
        return LanguageDecision(foreign, prior, foreign, None)
    detected, confidence = _best_site_language(text, site, policy.low_accuracy)
    if confidence >= policy.min_confidence or prior is None:
        return LanguageDecision(detected, prior, detected, confidence)
    if prior in site or prior not in policy.others:
        return LanguageDecision(prior, prior, detected, confidence)
    return LanguageDecision(detected, prior, detected, confidence)


def _mostly_non_latin(text: str) -> bool:
    """True when fewer than half the letters of ``text`` are Latin (up to U+024F)."""
    return len(_LATIN_LETTER.findall(text)) * 2 < len(_LETTER.findall(text))


def _best_site_language(
    text: str, site: tuple[str, ...], low_accuracy: bool
) -> tuple[str, float]:
    detector = site_detector(site, low_accuracy)
    best = detector.compute_language_confidence_values(text)[0]
    return str(best.language.iso_code_639_1.name.lower()), round(best.value, 4)


def _foreign_language(
    text: str, prior: str | None, site: tuple[str, ...], policy: LanguagePolicy
) -> str | None:
    """The neighbour language ``text`` is in, when the gate is sure enough: it agrees
    with the declared language, or the text is long and the gate confident."""
    others = tuple(code for code in policy.others if code not in site and lingua_language(code))
    if not others or (_mostly_non_latin(text) and NON_LATIN.isdisjoint(others)):
        return None  # Latin-script neighbours cannot be what a Cyrillic text is in
    best = gate_detector(site + others).compute_language_confidence_values(text)[0]
    code = str(best.language.iso_code_639_1.name.lower())
    if code not in others:
        return None
    sure = best.value >= FOREIGN_CONFIDENCE and len(text.split()) >= MIN_GATE_WORDS
    return code if code == prior or sure else None


def site_detector(codes: tuple[str, ...], low_accuracy: bool) -> LanguageDetector:
    """The detector for the site's languages (built once per process)."""
    return _detector(codes, low_accuracy)


def gate_detector(codes: tuple[str, ...]) -> LanguageDetector:
    """The cheap low-accuracy detector that tells site languages from their neighbours."""
    return _detector(codes, low_accuracy=True)


_DETECTORS: dict[tuple[tuple[str, ...], bool], LanguageDetector] = {}


def _detector(codes: tuple[str, ...], low_accuracy: bool, eager: bool = False) -> LanguageDetector:
    """The cached detector for ``codes``. Only an ``eager`` one loads its models now — on
    a pool of threads, which a forked child does not inherit: a child of a process that
    loaded models eagerly hangs if it loads more eagerly (lazily it is fine). So only the
    forkserver loads eagerly (for its workers to share); every other detector loads its
    models on first use."""
    key = (codes, low_accuracy)
    if key not in _DETECTORS:
        languages = [language for code in codes if (language := lingua_language(code))]
        builder = LanguageDetectorBuilder.from_languages(*languages)
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        if eager:
            builder = builder.with_preloaded_language_models()
        _DETECTORS[key] = builder.build()
    return _DETECTORS[key]


def preload(policy: LanguagePolicy) -> None:
    """Load the models of the policy's detectors now, on lingua's threads: only in a
    process that no process loading models eagerly is forked from (see :func:`_detector`)."""
    site = tuple(code for code in policy.languages if lingua_language(code) is not None)
    if policy.detect and site:
        _detector(site, policy.low_accuracy, eager=True)
        others = tuple(c for c in policy.others if c not in site and lingua_language(c))
        if others:
            _detector(site + others, True, eager=True)
