"""customer_profile on a hand-made warehouse, each figure worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from parcours.errors import UserInputError
from parcours.facts import PROFILE
from parcours.metrics import write_profile
from parcours.schema import CUSTOMER_CATEGORIES, CUSTOMER_PROFILE, KNOWLEDGE_TABLES
from parcours.segments import write_segments
from tests.metrics.handmade import AS_OF, as_table, load_hand


@pytest.fixture
def hand(make_workspace):
    ws = make_workspace()
    load_hand(ws)
    report = write_profile(ws, AS_OF)
    return ws, report, as_table(ws, PROFILE, "customer_key").set_index("customer_key")


def test_profile_is_the_same_on_every_engine(workspace):
    load_hand(workspace)
    write_profile(workspace, AS_OF)
    p = as_table(workspace, PROFILE, "customer_key").set_index("customer_key")
    assert list(p.index) == ["a", "b", "c", "e"]
    assert list(p.orders) == [3, 1, 0, 2]
    assert list(p.revenue) == pytest.approx([170.0, 80.0, 0.0, 100.0])
    assert list(p.days_since_last_order.fillna(-1)) == [0, 197, -1, 901]
    assert list(p.active) == [True, True, False, False]
    assert p.loc["a"].usual_interval_days == pytest.approx((59.5 + 112 + 1 / 24) / 2)
    assert p.loc["a"].channels == "store,web,app" and p.loc["a"].preferred_channel == "store"
    assert p.loc["a"].category_mix == '{"epicerie": 0.765, "jardin": 0.235}'
    assert p.loc["b"].festive_share == pytest.approx(1.0)
    assert p.loc["b"].tourist_store and not p.loc["b"].local_customer
    assert list(p.age_band.fillna("")) == ["25-34", "", "", "65+"]


def test_customer_categories_on_every_engine(workspace):
    load_hand(workspace)
    write_profile(workspace, AS_OF)
    c = as_table(workspace, CUSTOMER_CATEGORIES.name, ["customer_key", "category"])
    c = c.set_index(["customer_key", "category"])
    # Cancelled, returned and later orders are not purchases: a bought plantes once.
    assert list(c.index) == [
        ("a", "cafe"),
        ("a", "cave"),
        ("a", "plantes"),
        ("b", "cave"),
        ("e", "cafe"),
    ]
    assert list(c.purchases) == [2, 1, 1, 1, 2]
    assert list(c.amount) == pytest.approx([80.0, 50.0, 40.0, 80.0, 100.0])
    assert list(c.family) == ["epicerie", "epicerie", "jardin", "epicerie", "epicerie"]
    # 2025-01-10 10:00 to 2025-06-30 23:00; e's second purchase holds two cafe lines.
    assert c.loc[("a", "cafe")].usual_interval_days == pytest.approx(171 + 13 / 24)
    assert c.loc[("e", "cafe")].usual_interval_days == pytest.approx(10.0)
    assert c.usual_interval_days.isna().tolist() == [False, True, True, True, False]
    assert c.loc[("e", "cafe")].first_purchase_at == dt.datetime(2023, 1, 1, 12)
    assert c.loc[("e", "cafe")].last_purchase_at == dt.datetime(2023, 1, 11, 12)


def test_profile_before_any_purchase_has_empty_categories(make_workspace):
    ws = make_workspace()
    load_hand(ws)
    report = write_profile(ws, dt.date(2022, 1, 1))
    p = as_table(ws, PROFILE, "customer_key")
    assert report.buyers == 0 and (p.orders == 0).all()
    assert p.category_mix.isna().all() and p.favourite_category.isna().all()
    assert as_table(ws, CUSTOMER_CATEGORIES.name, "customer_key").empty


def test_rerunning_the_profile_says_which_later_columns_it_dropped(hand):
    ws, first, _ = hand
    assert first.cleared == ()
    write_segments(ws)
    again = write_profile(ws, AS_OF)
    assert "rfm_segment" in again.cleared and "lifecycle_segment" in again.cleared
    assert "rfm_segment" not in ws.engine.table(PROFILE).columns


def test_profile_table_is_the_facts_profile_and_declared():
    assert CUSTOMER_PROFILE.name == PROFILE
    assert CUSTOMER_PROFILE in KNOWLEDGE_TABLES


def test_profile_counts_purchases_only_up_to_the_end_of_the_as_of_day(hand):
    _, report, p = hand
    a = p.loc["a"]
    # a1, a2 and a5 (23:00 on the as-of day); cancelled a3, returned a4 and a6 after as-of
    # never count.
    assert a.orders == 3
    assert a.revenue == pytest.approx(170.0)
    assert a.average_basket == pytest.approx(170 / 3)
    assert a.first_channel == "store" and a.last_channel == "app"
    assert a.last_order_at == dt.datetime(2025, 6, 30, 23)
    assert a.days_since_last_order == 0
    assert a.days_to_second_order == pytest.approx(59.5)
    assert a.usual_interval_days == pytest.approx((59.5 + 112 + 1 / 24) / 2)
    assert a.tenure_days == 171
    assert a.purchase_frequency == 3 and a.period_revenue == pytest.approx(170.0) and a.active
    assert report.customers == 4 and report.buyers == 3 and report.active == 2
    assert report.revenue == pytest.approx(170 + 80 + 100)


def test_profile_channels_categories_and_discounts(hand):
    _, _, p = hand
    a = p.loc["a"]
    # One purchase per channel: the tie goes to the channel with the most revenue.
    assert a.preferred_channel == "store"
    assert a.channels == "store,web,app" and a.channels_used == 3
    assert a.channel_mix == "multichannel"
    assert a.category_mix == '{"epicerie": 0.765, "jardin": 0.235}'
    assert a.favourite_family == "epicerie" and a.favourite_category == "cafe"
    assert a.discount_share == pytest.approx(1 / 3)
    assert a.festive_share == 0 and a.festive_orders == 0
    assert a.main_store == "S1" and not a.tourist_store and a.local_customer
    # Born 1990-07-01: still 34 on 2025-06-30.
    assert a.age_band == "25-34"
    assert p.loc["e"].age_band == "65+"


def test_profile_of_a_one_purchase_festive_tourist(hand):
    _, _, p = hand
    b = p.loc["b"]
    assert b.orders == 1 and b.revenue == pytest.approx(80.0)
    assert b.days_since_last_order == 197 and b.tenure_days == 197
    assert b.days_to_second_order != b.days_to_second_order  # NaN: no second purchase
    assert b.usual_interval_days != b.usual_interval_days
    assert b.channel_mix == "store_only" and b.channels_used == 1
    assert b.festive_share == pytest.approx(1.0) and b.festive_orders == 1
    assert b.tourist_store and not b.local_customer
    assert b.active and b.purchase_frequency == 1


def test_profile_keeps_persons_without_purchase_and_drops_anonymous_sales(hand):
    _, _, p = hand
    assert sorted(p.index) == ["a", "b", "c", "e"]
    c = p.loc["c"]
    assert c.orders == 0 and c.revenue == 0 and not c.active and c.purchase_frequency == 0
    assert c.channels_used == 0 and pd.isna(c.channel_mix) and c.festive_orders == 0
    e = p.loc["e"]
    assert e.days_since_last_order == 901 and not e.active and e.period_revenue == 0
    assert e.days_to_second_order == pytest.approx(10.0)
    assert all(d == AS_OF for d in p["as_of"])


def test_profile_default_as_of_is_the_last_order_day(make_workspace):
    workspace = make_workspace()
    load_hand(workspace)
    report = write_profile(workspace)
    # The last order of the warehouse (a6, 2025-07-02) sets the date; it then counts.
    assert report.as_of == dt.date(2025, 7, 2)
    p = as_table(workspace, PROFILE, "customer_key").set_index("customer_key")
    assert p.loc["a"].orders == 4


def test_profile_without_resolved_orders_is_a_user_error(make_workspace):
    ws = make_workspace()
    with pytest.raises(UserInputError, match="no resolved orders"):
        write_profile(ws)
