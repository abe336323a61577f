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


@lru_cache(maxsize=1024)
def primary_language(code: str) -> str | None:
    """``en-US`` → ``en``, ``UKR`` → ``uk``; ``None`` for codes that name no language."""
    try:
        language = langcodes.Language.get(code.strip().replace("_", "-"))
    except (ValueError, langcodes.tag_parser.LanguageTagError):
        return None
    if not language.language or not language.is_valid():
        return None
    return str(language.language)


def resolve_language(declared: Iterable[str | None]) -> str | None:
    """The entry's language: the first valid code among ``declared``, most specific first."""
    for code in declared:
        if code and (primary := primary_language(code)):
            return primary
    return None
