"""The festive calendar: windows of the config turned into dated periods, and a test on them.

A window is written ``[first, last]`` in ``profile.festive_windows``, each day either a fixed
``MM-DD`` or a movable feast plus or minus days (``easter-14``, ``mothers_day-1``). Windows are
dated for every year of the data, so the test is a plain range check the engine runs.
"""

from __future__ import annotations

import datetime as dt
import re

import ibis
from dateutil.easter import easter

_MOVABLE = re.compile(r"^(easter|mothers_day)([+-]\d+)?$")


def mothers_day(year: int) -> dt.date:
    """French Mother's Day: the last Sunday of May, or the first of June when it is Pentecost.

    Parameters
    ----------
    year : int
        The year.

    Returns
    -------
    datetime.date
        Mother's Day.
    """
    last = dt.date(year, 5, 31)
    last -= dt.timedelta(days=(last.weekday() - 6) % 7)
    if last == easter(year) + dt.timedelta(days=49):
        last += dt.timedelta(days=7)
    return last


_FEASTS = {"easter": easter, "mothers_day": mothers_day}


def _day(text: str, year: int) -> dt.date:
    match = _MOVABLE.match(text)
    if match:
        return _FEASTS[match.group(1)](year) + dt.timedelta(days=int(match.group(2) or 0))
    month, day = (int(x) for x in text.split("-"))
    return dt.date(year, month, day)


def festive_periods(
    windows: dict[str, list[str]], first_year: int, last_year: int
) -> list[tuple[str, dt.date, dt.date]]:
    """The dated festive periods of each year, both ends included.

    Parameters
    ----------
    windows : dict
        Window name -> ``[first day, last day]`` as in ``profile.festive_windows``.
    first_year, last_year : int
        The years to date.

    Returns
    -------
    list of (name, first, last)
        One period per window and year, in date order. A window whose last day comes before
        its first (``12-20`` to ``01-05``) runs into the next year.
    """
    out = []
    for year in range(first_year, last_year + 1):
        for name, (first, last) in windows.items():
            start, end = _day(first, year), _day(last, year)
            if end < start:
                end = _day(last, year + 1)
            out.append((f"{name}-{year}", start, end))
    return sorted(out, key=lambda p: p[1])


def in_periods(ts: ibis.TimestampValue, periods: list[tuple[str, dt.date, dt.date]]) -> ibis.Value:
    """True when ``ts`` falls in one of ``periods`` (a timestamp on the last day counts)."""
    if not periods:
        return ibis.literal(False)
    day = ts.date()
    return ibis.or_(*(day.between(ibis.date(s), ibis.date(e)) for _, s, e in periods))
