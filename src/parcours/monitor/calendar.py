"""The retail calendar as regressors of the baselines: one 0/1 column per kind of day.

Public holidays come from the ``holidays`` package for the configured country, one column
per holiday (Christmas Day and Ascension do not move sales alike). Movable retail moments are
computed: the two weeks before Easter, Black Friday's week, Christmas shopping; for France
also the week before Mother's Day and the legal sales periods (Code de commerce, L310-3 and
its decree: winter sales open on the second Wednesday of January, or the first when the
second falls after the 12th; summer sales on the last Wednesday of June, or the one before
when the last falls after the 28th; four weeks each).
"""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pandas as pd
from dateutil.easter import easter

from parcours.metrics.seasons import mothers_day

WEDNESDAY = 2
SALES_DAYS = 28
# The first days of a sales period sell more than the rest.
SALES_OPENING_DAYS = 7


def _wednesdays(year: int, month: int) -> list[dt.date]:
    first = dt.date(year, month, 1)
    day = first + dt.timedelta(days=(WEDNESDAY - first.weekday()) % 7)
    out = []
    while day.month == month:
        out.append(day)
        day += dt.timedelta(days=7)
    return out


def winter_sales_start(year: int) -> dt.date:
    """First day of France's winter sales."""
    second = _wednesdays(year, 1)[1]
    return second if second.day <= 12 else _wednesdays(year, 1)[0]


def summer_sales_start(year: int) -> dt.date:
    """First day of France's summer sales."""
    wednesdays = _wednesdays(year, 6)
    return wednesdays[-1] if wednesdays[-1].day <= 28 else wednesdays[-2]


def black_friday(year: int) -> dt.date:
    """The day after the fourth Thursday of November."""
    first = dt.date(year, 11, 1)
    thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thursday + dt.timedelta(days=1)


def _windows(year: int, country: str) -> list[tuple[str, dt.date, dt.date]]:
    """Named retail windows of one year, both ends included."""
    e, bf = easter(year), black_friday(year)
    out = [
        ("easter_shopping", e - dt.timedelta(days=14), e - dt.timedelta(days=1)),
        ("black_friday_week", bf - dt.timedelta(days=4), bf + dt.timedelta(days=3)),
        ("christmas_shopping", dt.date(year, 12, 1), dt.date(year, 12, 15)),
        ("christmas_rush", dt.date(year, 12, 16), dt.date(year, 12, 24)),
        ("christmas_week", dt.date(year, 12, 26), dt.date(year, 12, 31)),
    ]
    if country == "FR":
        md = mothers_day(year)
        out.append(("mothers_day_week", md - dt.timedelta(days=7), md - dt.timedelta(days=1)))
        for name, start in (
            ("winter", winter_sales_start(year)),
            ("summer", summer_sales_start(year)),
        ):
            opening = start + dt.timedelta(days=SALES_OPENING_DAYS - 1)
            out.append((f"{name}_sales_opening", start, opening))
            out.append(
                (
                    f"{name}_sales",
                    opening + dt.timedelta(days=1),
                    start + dt.timedelta(days=SALES_DAYS - 1),
                )
            )
    return out


def calendar_regressors(days: pd.DatetimeIndex, country: str) -> pd.DataFrame:
    """One 0/1 column per public holiday and retail window that falls within ``days``.

    Parameters
    ----------
    days : pandas.DatetimeIndex
        Consecutive days.
    country : str
        ISO code of the public holidays (and, for FR, Mother's Day and the sales).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``days``; columns ``holiday:<name>`` and the window names, each with at
        least one day set. A public holiday inside a window counts as the holiday only.
    """
    years = range(days.min().year, days.max().year + 1)
    columns: dict[str, np.ndarray] = {}
    dates = days.date
    for year in years:
        for name, start, end_ in _windows(year, country):
            hit = (dates >= start) & (dates <= end_)
            columns[name] = columns.get(name, np.zeros(len(days))) + hit
    public = holidays.country_holidays(country, years=list(years), language="en_US")
    is_holiday = np.zeros(len(days), bool)
    for day, name in public.items():
        hit = dates == day
        if hit.any():
            key = f"holiday:{name}"
            columns[key] = columns.get(key, np.zeros(len(days))) + hit
            is_holiday |= hit
    frame = pd.DataFrame(columns, index=days).clip(upper=1)
    windows = [c for c in frame if not c.startswith("holiday:")]
    frame.loc[is_holiday, windows] = 0
    return frame.loc[:, frame.sum() > 0]
