"""PURE: the calendar dates a news text names — "13 листопада", "14 ноября",
"Nov. 13", "13.11.2026", "2026-11-13" — as ``MM-DD`` strings.

Yesterday's bulletin and today's share their words and most figures; the date they
name is what tells them apart (:func:`refeed.dedup.dates_differ`). Years are left out:
a text names "13 November" far more often than "13 November 2026", and two stories
within dedup's window never straddle a whole year. Weekdays are left out too: a retold
story says "on Sunday" where the original says "on 8 November".
"""

from __future__ import annotations

import re
import unicodedata

_MONTH_WORDS = {
    1: "січня січень января январь january jan",
    2: "лютого лютий февраля февраль february feb",
    3: "березня березень марта март march mar",
    4: "квітня квітень апреля апрель april apr",
    5: "травня травень мая май may",
    6: "червня червень июня июнь june jun",
    7: "липня липень июля июль july jul",
    8: "серпня серпень августа август august aug",
    9: "вересня вересень сентября сентябрь september sept sep",
    10: "жовтня жовтень октября октябрь october oct",
    11: "листопада листопад ноября ноябрь november nov",
    12: "грудня грудень декабря декабрь december dec",
}
_WEEKDAYS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                       "sunday"})
_MONTH = {word: month for month, spelled in _MONTH_WORDS.items() for word in spelled.split()}
_MONTHS = "|".join(sorted(_MONTH, key=len, reverse=True))  # longest first: "sept" before "sep"
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th|-?го)?\s+({_MONTHS})\b", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b({_MONTHS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?![.:,]\d)",
                        re.IGNORECASE)
_DOTTED = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(?:\d{4}|\d{2})\b")
_ISO = re.compile(r"\b\d{4}-(\d{2})-(\d{2})\b")


def named_dates(text: str) -> tuple[str, ...]:
    """The dates ``text`` names, as sorted ``MM-DD`` strings."""
    text = unicodedata.normalize("NFKC", text)
    found = {(_MONTH[month.casefold()], int(day)) for day, month in _DAY_MONTH.findall(text)
             if _is_month(month)}
    found |= {(_MONTH[month.casefold()], int(day)) for month, day in _MONTH_DAY.findall(text)
              if _is_month(month)}
    found |= {(int(month), int(day)) for day, month in _DOTTED.findall(text)}
    found |= {(int(month), int(day)) for month, day in _ISO.findall(text)}
    return tuple(sorted(f"{month:02}-{day:02}" for month, day in found
                        if 1 <= month <= 12 and 1 <= day <= 31))


def _is_month(word: str) -> bool:
    """English months are capitalized: "20 may have died" names no date."""
    return not word.isascii() or word[:1].isupper()


def is_calendar_word(folded: str) -> bool:
    """Whether a folded word names a month or weekday (English capitalizes them: they
    are no names of people or places)."""
    return folded in _MONTH or folded in _WEEKDAYS
