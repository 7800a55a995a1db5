"""Explanation on hand-made series: the store where a drop was planted is named first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcours.config import MonitorConfig
from parcours.monitor.anomalies import incidents, score_series
from parcours.monitor.calendar import calendar_regressors
from parcours.monitor.explain import explain

# Daily orders of four stores: two in the north, two in the south, and the web shop.
STORES = {
    "lille": ("north", 300),
    "arras": ("north", 120),
    "nice": ("south", 200),
    "pau": ("south", 90),
}
WEB = 400
WEEKDAY = np.array([0.9, 0.85, 1.0, 0.95, 1.1, 1.6, 0.5])
DROP = ("2025-06-10", "2025-06-13")


def _rows(days, kpi, dimension, value, values):
    return pd.DataFrame(
        {
            "kpi": kpi,
            "dimension": dimension,
            "dimension_value": value,
            "grain": "day",
            "period": days,
            "value": values,
            "volume": values,  # orders behind each point
        }
    )


def _series(days: pd.DatetimeIndex, dropped_store: str) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    in_drop = (days >= DROP[0]) & (days <= DROP[1])
    stores = {}
    for name, (_, level) in STORES.items():
        values = rng.poisson(level * WEEKDAY[days.weekday]).astype(float)
        if name == dropped_store:
            values[in_drop] *= 0.2
        stores[name] = values
    web = rng.poisson(WEB * WEEKDAY[days.weekday]).astype(float)
    frames = [_rows(days, "orders", "store", n, v) for n, v in stores.items()]
    for region in ("north", "south"):
        total = sum(v for n, v in stores.items() if STORES[n][0] == region)
        frames.append(_rows(days, "orders", "region", region, total))
    frames.append(_rows(days, "orders", "channel", "store", sum(stores.values())))
    frames.append(_rows(days, "orders", "channel", "web", web))
    frames.append(_rows(days, "orders", "all", "all", sum(stores.values()) + web))
    return pd.concat(frames, ignore_index=True)


def test_drop_planted_in_one_store_is_explained_by_that_store_first():
    days = pd.date_range("2024-06-01", "2025-09-30")
    config = MonitorConfig()
    scored = score_series(
        _series(days, "lille"),
        calendar_regressors(days, "FR"),
        config.threshold,
        config.min_relative_change,
    )
    found = explain(scored, incidents(scored))
    overall = found[found["dimension"] == "all"]
    assert len(overall) == 1
    incident = overall.iloc[0]
    assert (str(incident["start"]), str(incident["end"])) == DROP
    assert (incident["top_dimension"], incident["top_value"]) == ("store", "lille")
    # The store's share of the gap is its whole gap: about all of the overall one.
    assert 0.8 < incident["top_share"] < 1.2
    assert incident["explanation"].startswith("store lille:")
    # The series of the store itself has its own incident, over the same days.
    own = found[(found["dimension"] == "store") & (found["dimension_value"] == "lille")]
    assert len(own) == 1 and str(own.iloc[0]["start"]) == DROP[0]
    # No other store moved.
    others = found[(found["dimension"] == "store") & (found["dimension_value"] != "lille")]
    assert others.empty
