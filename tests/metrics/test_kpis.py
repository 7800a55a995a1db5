"""KPI tables against hand-worked answers and an independent pandas computation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from parcours.errors import UserInputError
from parcours.metrics import write_kpis, write_profile
from parcours.schema import (
    KPI_COHORTS,
    KPI_PERIODS,
    KPI_RECRUITMENT,
    KPI_RENEWAL,
    KPI_SECOND_PURCHASE,
    KPI_SEGMENTS,
)
from tests.metrics.handmade import AS_OF, as_table, load_hand, load_random, random_orders


def hand_kpis(ws):
    load_hand(ws)
    write_profile(ws, AS_OF)
    write_kpis(ws)
    return ws


def test_kpis_on_hand_made_data_on_every_engine(workspace):
    ws = hand_kpis(workspace)
    seg = as_table(ws, KPI_SEGMENTS.name, ["dimension", "segment"]).set_index(
        ["dimension", "segment"]
    )
    overall = seg.loc[("all", "all")]
    # Buyers a, b, e; active a (3 purchases, 170) and b (1, 80); e only bought in 2023.
    assert overall.customers == 3 and overall.active_customers == 2
    assert overall.activity_rate == pytest.approx(2 / 3)
    assert overall.purchase_frequency == pytest.approx(2.0)
    assert overall.average_basket == pytest.approx(250 / 4)
    assert overall.revenue_per_active == pytest.approx(125.0)
    assert overall.revenue_per_customer == pytest.approx(350 / 3)
    assert seg.loc[("channel_mix", "multichannel")].customers == 1
    assert seg.loc[("channel_mix", "web_only")].activity_rate == 0

    second = as_table(ws, KPI_SECOND_PURCHASE.name, "first_channel").set_index("first_channel")
    store = second.loc["store"]
    assert store.customers == 2 and store.second_buyers == 1
    assert store.median_days == pytest.approx(59.5)
    assert store.within_30_days == 0 and store.within_90_days == pytest.approx(0.5)
    # Neither store customer was recruited a year before as-of: no rate rather than 0.
    assert np.isnan(store.within_365_days)
    assert second.loc["web"].within_30_days == 1.0
    assert second.loc["all"].median_days == pytest.approx((59.5 + 10) / 2)

    renewal = as_table(ws, KPI_RENEWAL.name, "category").set_index("category")
    # cafe: a after 171 days 13 hours, e after 10 days; cave and plantes never twice.
    assert list(renewal.index) == ["cafe"]
    assert renewal.loc["cafe"].customers == 2
    assert renewal.loc["cafe"].median_days == pytest.approx((171 + 13 / 24 + 10) / 2)

    rec = as_table(ws, KPI_RECRUITMENT.name, ["first_channel", "next_channel"])
    got = {(r.first_channel, r.next_channel): (r.customers, r.share) for r in rec.itertuples()}
    assert got == {
        ("store", "web"): (1, 0.5),
        ("store", "none"): (1, 0.5),
        ("web", "none"): (1, 1.0),
    }
    assert rec.median_days.dropna().tolist() == [pytest.approx(59.5)]


def test_cohorts_and_periods_on_hand_made_data(make_workspace):
    ws = hand_kpis(make_workspace())
    c = as_table(ws, KPI_COHORTS.name, ["cohort_month", "first_channel", "months_since"])
    jan = c[(c.cohort_month == dt.date(2025, 1, 1)) & (c.first_channel == "all")]
    assert jan.months_since.tolist() == [0, 1, 2, 3, 4, 5]
    assert jan.active_customers.tolist() == [1, 0, 1, 0, 0, 1]
    assert jan.cumulative_revenue_per_customer.tolist() == pytest.approx(
        [100, 100, 150, 150, 150, 170]
    )
    e = c[(c.cohort_month == dt.date(2023, 1, 1)) & (c.first_channel == "web")]
    assert len(e) == 30 and e.retention.tolist()[:2] == [1.0, 0.0]
    assert set(c.first_channel) == {"all", "store", "web"}

    p = as_table(ws, KPI_PERIODS.name, "period_start").set_index("period_start")
    assert p.loc[dt.date(2023, 1, 1)].orders == 2 and p.loc[dt.date(2023, 1, 1)].buyers == 1
    assert p.loc[dt.date(2025, 1, 1)].known_customers == 3
    assert p.loc[dt.date(2025, 1, 1)].activity_rate == pytest.approx(1 / 3)
    assert p.loc[dt.date(2025, 6, 1)].revenue == pytest.approx(20.0)


def test_kpis_match_an_independent_pandas_computation(make_workspace):
    ws = make_workspace()
    df = random_orders()
    load_random(ws, df)
    as_of = dt.date(2025, 3, 31)
    write_profile(ws, as_of)
    write_kpis(ws)

    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    b = df[(df.status == "completed") & (df.ordered_at < end)].sort_values(
        ["customer_key", "ordered_at"]
    )
    g = b.groupby("customer_key")
    first = g.ordered_at.min()
    period = b[b.ordered_at >= end - pd.Timedelta(days=365)]
    active = period.groupby("customer_key").size()
    # delay to the second purchase, per first channel
    delay = g.ordered_at.apply(
        lambda s: (s.iloc[1] - s.iloc[0]).total_seconds() / 86400 if len(s) > 1 else np.nan
    )
    first_channel = g.channel.first()
    second = as_table(ws, KPI_SECOND_PURCHASE.name, "first_channel").set_index("first_channel")
    for channel, d in delay.groupby(first_channel):
        assert second.loc[channel].customers == len(d)
        assert second.loc[channel].median_days == pytest.approx(d.median())
        tenure = (pd.Timestamp(as_of) - first[d.index].dt.normalize()).dt.days
        exposed = tenure >= 90
        assert second.loc[channel].within_90_days == pytest.approx(
            (d[exposed] <= 90).sum() / exposed.sum()
        )

    seg = as_table(ws, KPI_SEGMENTS.name, ["dimension", "segment"]).set_index(
        ["dimension", "segment"]
    )
    overall = seg.loc[("all", "all")]
    assert overall.customers == b.customer_key.nunique()
    assert overall.active_customers == len(active)
    assert overall.revenue_per_active == pytest.approx(period.total_amount.sum() / len(active))
    assert overall.average_basket == pytest.approx(period.total_amount.mean())

    # renewal: median over customers of their median gap between purchases of a category
    gaps = (
        b.groupby(["customer_key", "category"])
        .ordered_at.apply(
            # One purchase of a category has no gap (and numpy warns on its empty median).
            lambda s: s.diff().dt.total_seconds().div(86400).median() if len(s) > 1 else np.nan
        )
        .dropna()
    )
    renewal = as_table(ws, KPI_RENEWAL.name, "category").set_index("category")
    for category, values in gaps.groupby(level="category"):
        assert renewal.loc[category].customers == len(values)
        assert renewal.loc[category].median_days == pytest.approx(values.median())

    # cohorts: retention of each acquisition month, month by month
    cohorts = as_table(ws, KPI_COHORTS.name, ["cohort_month", "first_channel", "months_since"])
    cohorts = cohorts[cohorts.first_channel == "all"]
    month = b.ordered_at.dt.year * 12 + b.ordered_at.dt.month
    cohort = b.customer_key.map(month.groupby(b.customer_key).min())
    offsets = (month - cohort).rename("months_since")
    active_cells = (
        b.assign(cohort=cohort, months_since=offsets)
        .groupby(["cohort", "months_since"])
        .customer_key.nunique()
    )
    cohort_month = cohorts.cohort_month.map(lambda d: d.year * 12 + d.month)
    got = dict(
        zip(
            zip(cohort_month, cohorts.months_since, strict=True),
            cohorts.active_customers,
            strict=True,
        )
    )
    for (c, m), n in active_cells.items():
        assert got[(c, m)] == n
    assert sum(got.values()) == active_cells.sum()


def test_kpis_need_a_profile(make_workspace):
    ws = make_workspace()
    with pytest.raises(UserInputError, match="no customer profile"):
        write_kpis(ws)
