"""The retail calendar: festive seasons, promotion periods and holidays of the history.

Windows are given as dates and converted to day offsets from the start of the history, the
time unit of the generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from parcours.metrics.seasons import easter, mothers_day


@dataclass(frozen=True)
class Window:
    """A period of the calendar, both ends included."""

    name: str
    kind: str
    start: date
    end: date

    def as_dict(self) -> dict[str, str]:
        """The window as JSON-ready text."""
        return {
            "name": self.name,
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _clip(windows: list[Window], start: date, end: date) -> list[Window]:
    out = []
    for w in windows:
        if w.end < start or w.start > end:
            continue
        out.append(Window(w.name, w.kind, max(w.start, start), min(w.end, end)))
    return sorted(out, key=lambda w: w.start)


def festive_windows(start: date, end: date) -> list[Window]:
    """Christmas (1-24 Dec), Easter (two weeks before) and Mother's Day (the week before).

    Parameters
    ----------
    start, end : datetime.date
        The history, both ends included.

    Returns
    -------
    list of Window
        The festive windows that overlap the history, clipped to it, in date order.
    """
    out = []
    for y in range(start.year, end.year + 1):
        out.append(Window(f"christmas-{y}", "christmas", date(y, 12, 1), date(y, 12, 24)))
        e = easter(y)
        out.append(Window(f"easter-{y}", "easter", e - timedelta(days=14), e - timedelta(days=1)))
        md = mothers_day(y)
        out.append(
            Window(
                f"mothers-day-{y}", "mothers_day", md - timedelta(days=7), md - timedelta(days=1)
            )
        )
    return _clip(out, start, end)


def promo_windows(start: date, end: date) -> list[Window]:
    """Winter and summer sales, spring garden days, anniversary days and Black Friday week.

    Parameters
    ----------
    start, end : datetime.date
        The history, both ends included.

    Returns
    -------
    list of Window
        The promotion windows that overlap the history, clipped to it, in date order.
    """
    out = []
    for y in range(start.year, end.year + 1):
        winter = _nth_weekday(y, 1, 2, 2)  # sales open on the second Wednesday of January
        out.append(Window(f"winter-sales-{y}", "sales", winter, winter + timedelta(days=27)))
        out.append(Window(f"garden-days-{y}", "garden_days", date(y, 3, 20), date(y, 3, 29)))
        summer = _last_weekday(y, 6, 2)  # and on the last Wednesday of June
        out.append(Window(f"summer-sales-{y}", "sales", summer, summer + timedelta(days=27)))
        out.append(Window(f"anniversary-{y}", "anniversary", date(y, 10, 1), date(y, 10, 10)))
        black_friday = _nth_weekday(y, 11, 3, 4) + timedelta(days=1)
        out.append(
            Window(
                f"black-friday-{y}",
                "black_friday",
                black_friday - timedelta(days=4),
                black_friday + timedelta(days=3),
            )
        )
    return _clip(out, start, end)


def holiday_windows(start: date, end: date) -> list[Window]:
    """Holidays when tourists visit: summer (July-August) and the school holidays.

    Parameters
    ----------
    start, end : datetime.date
        The history, both ends included.

    Returns
    -------
    list of Window
        Windows of kind ``summer`` or ``holidays``, clipped to the history.
    """
    out = []
    for y in range(start.year, end.year + 1):
        out.append(Window(f"summer-{y}", "summer", date(y, 7, 1), date(y, 8, 31)))
        out.append(Window(f"winter-holidays-{y}", "holidays", date(y, 2, 8), date(y, 3, 8)))
        out.append(Window(f"spring-holidays-{y}", "holidays", date(y, 4, 5), date(y, 5, 3)))
        out.append(Window(f"autumn-holidays-{y}", "holidays", date(y, 10, 18), date(y, 11, 3)))
    return _clip(out, start, end)


@dataclass(frozen=True)
class Calendar:
    """The history and its windows as day offsets (day 0 is ``start``)."""

    start: date
    as_of: date
    festive: list[Window]
    promo: list[Window]
    holidays: list[Window]

    @classmethod
    def build(cls, as_of: date) -> Calendar:
        """The history from 1 January two years before ``as_of`` to ``as_of``.

        Parameters
        ----------
        as_of : datetime.date
            Last day of the history.

        Returns
        -------
        Calendar
            The calendar with its festive, promotion and holiday windows.
        """
        start = date(as_of.year - 2, 1, 1)
        return cls(
            start,
            as_of,
            festive_windows(start, as_of),
            promo_windows(start, as_of),
            holiday_windows(start, as_of),
        )

    @property
    def days(self) -> int:
        """Number of days of the history; times are in ``[0, days)``."""
        return (self.as_of - self.start).days + 1

    def offsets(self, windows: list[Window]) -> tuple[np.ndarray, np.ndarray]:
        """First day and end (exclusive) of each window, as day offsets."""
        first = np.array([(w.start - self.start).days for w in windows], np.float64)
        last = np.array([(w.end - self.start).days + 1 for w in windows], np.float64)
        return first, last

    def window_of(self, windows: list[Window], t: np.ndarray) -> np.ndarray:
        """Index of the window containing each time, or -1 (windows must not overlap).

        Parameters
        ----------
        windows : list of Window
            Non-overlapping windows in date order.
        t : numpy.ndarray
            Times in days from the start.

        Returns
        -------
        numpy.ndarray
            Window positions, -1 outside every window.
        """
        first, last = self.offsets(windows)
        i = np.searchsorted(first, t, side="right") - 1
        inside = (i >= 0) & (t < last[np.maximum(i, 0)])
        return np.where(inside, i, -1)
