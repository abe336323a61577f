"""PURE: the two text rules every stage shares — what XML can carry, and when two tag
spellings are the same."""

from __future__ import annotations

import re
import unicodedata

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: str) -> str:
    """Remove characters XML 1.0 cannot carry (controls, lone surrogates, U+FFFE/U+FFFF)."""
    return _XML_ILLEGAL.sub("", value)


def tag_fold(label: str) -> str:
    """The comparison form of a tag: Unicode-normalized, case-folded, single-spaced."""
    return " ".join(unicodedata.normalize("NFKC", label).casefold().split())
