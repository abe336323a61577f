"""PURE: the two text rules every stage shares — what XML can carry, and when two tag
spellings are the same."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def clean_text(value: str) -> str:
    """Remove characters XML 1.0 cannot carry (controls, lone surrogates, U+FFFE/U+FFFF)."""
    return _XML_ILLEGAL.sub("", value)


def without_bidi_controls(label: str) -> str:
    """``label`` without bidirectional embeddings, overrides and isolates: in a one-line
    label (a title, a tag) they only reorder what a reader shows — ``Invoice
    \u202egpj.exe`` displays as ``Invoice exe.jpg`` — and the letters keep their own
    direction without them."""
    return label.translate(_BIDI_CONTROLS)


@lru_cache(maxsize=16384)  # the same few tags are compared per entry and per output
def tag_fold(label: str) -> str:
    """The comparison form of a tag: Unicode-normalized, case-folded, single-spaced."""
    return " ".join(unicodedata.normalize("NFKC", label).casefold().split())
