"""Profile and KPIs on the demo, against the generator's planted parameters."""

from __future__ import annotations

import pytest

from parcours.schema import KPI_RENEWAL, KPI_SEGMENTS
from tests.engines import rows
from tests.metrics.knowledge import knowledge, knowledge_workspace


@pytest.fixture(scope="module")
def world(demo_world):
    knowledge(demo_world)
    return demo_world


def test_profile_has_one_row_per_true_person_with_their_orders(world):
    p = knowledge(world)
    truth = world.truth("persons").set_index("person_id")
    assert len(p) == len(truth) == p.customer_key.nunique()
    orders = world.truth("orders")
    completed = orders[orders.person_id.notna() & (orders.status == "completed")]
    expected = completed.groupby("person_id").total_amount.sum()
    got = p.set_index("customer_key").revenue
    assert got[expected.index].to_numpy() == pytest.approx(expected.to_numpy())
    assert (p.first_channel.to_numpy() == p.true_first_channel.to_numpy()).mean() == 1.0


def test_multichannel_customers_are_more_active_and_worth_more(world):
    seg = {
        (r["dimension"], r["segment"]): r
        for r in rows(knowledge_workspace(world), KPI_SEGMENTS.name)
    }
    multi = seg[("channel_mix", "multichannel")]
    mono = [r for (d, s), r in seg.items() if d == "channel_mix" and s.endswith("_only")]
    mono_customers = sum(r["customers"] for r in mono)
    mono_activity = sum(r["active_customers"] for r in mono) / mono_customers
    mono_value = sum(r["revenue_per_customer"] * r["customers"] for r in mono) / mono_customers
    assert multi["activity_rate"] > mono_activity
    assert multi["revenue_per_customer"] > 1.5 * mono_value
    planted = world.planted["realised"]["revenue_per_customer"]
    assert multi["revenue_per_customer"] == pytest.approx(planted["multichannel"], rel=0.05)
    assert mono_value == pytest.approx(planted["monochannel"], rel=0.05)


@pytest.mark.parametrize("channel", ["store", "web", "app"])
def test_delay_to_second_purchase_is_the_planted_one(world, channel):
    p = knowledge(world)
    ruled = p[p.second_purchase_rule & (p.first_channel == channel)]
    measured = ruled.days_to_second_order.mean()
    planted = world.planted["parameters"]["second_purchase_delay"]["mean_days"][channel]
    realised = world.planted["realised"]["second_purchase_delay_days"][channel]
    assert measured == pytest.approx(planted, rel=0.10)
    assert measured == pytest.approx(realised, rel=0.02)


@pytest.mark.parametrize("category", ["cafe", "croquettes", "engrais"])
def test_category_renewal_time_is_the_planted_cycle(world, category):
    renewal = {r["category"]: r for r in rows(knowledge_workspace(world), KPI_RENEWAL.name)}
    planted = world.planted["parameters"]["renewal_days"][category]
    assert renewal[category]["median_days"] == pytest.approx(planted, rel=0.10)
