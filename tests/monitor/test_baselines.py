"""Baselines and anomalies on hand-made series whose anomalies are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parcours.config import MonitorConfig
from parcours.monitor.anomalies import incidents, score_series
from parcours.monitor.calendar import calendar_regressors

NOISE = 0.03  # standard deviation of the daily noise on the log scale
WEEKDAY = np.array([0.9, 0.85, 1.0, 0.95, 1.1, 1.6, 0.35])  # Monday to Sunday
CLOSED = ("12-25", "05-01", "01-01")


def _weekly_series(days: pd.DatetimeIndex, seed: int = 0) -> np.ndarray:
    """Orders of a shop with a weekly pattern, closed on three public holidays."""
    rng = np.random.default_rng(seed)
    level = 1000 * WEEKDAY[days.weekday] * np.exp(rng.normal(0, NOISE, len(days)))
    closed = np.isin(days.strftime("%m-%d"), CLOSED)
    return np.where(closed, 0.0, np.round(level))


def _frame(days, values, kpi="orders") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kpi": kpi,
            "dimension": "all",
            "dimension_value": "all",
            "grain": "day",
            "period": days,
            "value": values,
            "volume": values,  # orders behind each point
        }
    )


def _found(days, values):
    calendar = calendar_regressors(days, "FR")
    config = MonitorConfig()
    scored = score_series(
        _frame(days, values), calendar, config.threshold, config.min_relative_change
    )
    return scored, incidents(scored)


@pytest.mark.parametrize("start", ["2025-01-01", "2024-01-01"])
def test_weekly_pattern_with_closed_holidays_gives_no_incident(start):
    days = pd.date_range(start, "2025-12-31")
    scored, found = _found(days, _weekly_series(days))
    assert found.empty, found[["start", "observed", "expected", "score"]]
    method = "stl_weekly" if start == "2025-01-01" else "stl_yearly_weekly"
    assert set(scored["method"]) == {method}


def test_one_day_drop_of_five_deviations_gives_one_incident():
    days = pd.date_range("2024-01-01", "2025-12-31")
    values = _weekly_series(days)
    dropped = days.get_loc(pd.Timestamp("2025-09-16"))
    values[dropped] *= np.exp(-5 * NOISE)
    _, found = _found(days, values)
    assert len(found) == 1
    incident = found.iloc[0]
    assert str(incident["start"]) == "2025-09-16" == str(incident["end"])
    assert incident["kind"] == "drop"
    assert incident["observed"] < incident["lower"] < incident["expected"]


def test_closure_of_ten_days_is_one_level_shift_and_not_the_new_normal():
    days = pd.date_range("2024-01-01", "2025-12-31")
    values = _weekly_series(days)
    closed = (days >= "2025-03-10") & (days <= "2025-03-19")
    values[closed] = 0
    scored, found = _found(days, values)
    assert len(found) == 1
    incident = found.iloc[0]
    assert (str(incident["start"]), str(incident["end"])) == ("2025-03-10", "2025-03-19")
    assert incident["kind"] == "level_shift" and incident["periods"] == 10
    # The closure did not pull the baseline down: expected stays near the usual level.
    during = scored[(scored["period"] >= "2025-03-10") & (scored["period"] <= "2025-03-19")]
    usual = 1000 * WEEKDAY[during["period"].dt.weekday]
    assert np.allclose(during["expected"], usual, rtol=0.1)
