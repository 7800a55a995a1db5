import datetime as dt

import pytest

from parcours.metrics.seasons import easter, mothers_day


@pytest.mark.parametrize(
    ("year", "day"),
    [(2023, dt.date(2023, 4, 9)), (2024, dt.date(2024, 3, 31)), (2025, dt.date(2025, 4, 20))],
)
def test_easter_sunday_of_known_years(year, day):
    assert easter(year) == day


def test_mothers_day_moves_to_june_when_the_last_sunday_of_may_is_pentecost():
    # 2023: Easter on 9 April puts Pentecost on 28 May, the last Sunday of May.
    assert mothers_day(2023) == dt.date(2023, 6, 4)
    assert mothers_day(2024) == dt.date(2024, 5, 26)
