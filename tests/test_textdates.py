"""The dates a news text names (refeed.textdates)."""

from __future__ import annotations

import pytest

from refeed.textdates import named_dates


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("13 листопада на Закарпатті очікується сильний вітер", ("11-13",)),
        ("Станом на 14 ноября потери составили", ("11-14",)),
        ("з 3-го березня та до 1 квітня", ("03-03", "04-01")),
        ("The ministry said on Nov. 13 that talks resume on 2 December", ("11-13", "12-02")),
        ("on March 3, at 10:30, and again on May 5th", ("03-03", "05-05")),
        ("рішення від 13.11.2026, опубліковане 2026-11-14", ("11-13", "11-14")),
        ("as many as 20 may have died; sales rose 12 percent", ()),  # "may" is no month
        ("the bill passed with 320 votes on Tuesday", ()),  # weekdays are left out
        ("on 31 February", ("02-31",)),  # names it, whatever the calendar says
        ("version 2.10.7 ships", ()),  # no day 2 of month 10 without a year after it
    ],
)
def test_named_dates(text: str, dates: tuple[str, ...]) -> None:
    assert named_dates(text) == dates
