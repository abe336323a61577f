"""PURE: the language of an entry.

Today the language is the first *declared* one that is a valid code (entry ``xml:lang`` or
``dc:language``, then the feed's, then the source's configured edition language), reduced
to its primary subtag so ``en-US`` and ``EN`` publish as ``en``. Detection from the text
(lingua, restricted to ``site.languages``, the declared language as the prior) plugs in
here, in :func:`resolve_language`, without touching callers.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import langcodes

# ISO 639 codes that name no single language: undetermined, multiple, uncoded, none.
NOT_LANGUAGES = frozenset({"und", "mul", "mis", "zxx"})


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
    """The entry's language: the first valid code among ``declared``, most specific first."""
    for code in declared:
        if code and (primary := primary_language(code)):
            return primary
    return None
