"""Journeys of the demo retailer against what its generator planted."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from parcours.journeys import timeline, write_journeys
from parcours.schema import (
    JOURNEY_FRICTION,
    JOURNEY_FUNNELS,
    JOURNEY_KPIS,
    JOURNEY_MOMENTS,
    JOURNEY_PATHS,
    JOURNEY_TIMELINE,
)


@pytest.fixture(scope="module")
def journeys_ws(demo_world, tmp_path_factory):
    """A copy of the keyed demo, without a profile: journeys are its only stage."""
    ws = demo_world.keyed_copy(tmp_path_factory.mktemp("journeys") / "ws")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def journeys(demo_world, journeys_ws):
    """The journey tables of the demo, every funnel entry of the history included."""
    as_of = dt.date.fromisoformat(demo_world.planted["history"]["as_of"])
    report = write_journeys(journeys_ws, end=as_of + dt.timedelta(days=1))
    engine = journeys_ws.engine

    def table(spec) -> pd.DataFrame:
        return engine.execute(engine.table(spec.name))

    return report, table


def checkout_by_channel(table) -> pd.DataFrame:
    f = table(JOURNEY_FUNNELS)
    f = f[(f.funnel == "checkout") & (f.split == "channel")]
    return f.pivot(index="split_value", columns="step", values="reached")


@pytest.mark.parametrize("channel", ["web", "app"])
def test_checkout_funnel_counts_the_planted_sessions(demo_world, journeys, channel):
    _, table = journeys
    realised = demo_world.planted["realised"]["funnels"][channel]
    got = checkout_by_channel(table).loc[channel]
    assert got["add_to_cart"] == realised["cart_sessions"]
    assert got["checkout_start"] == realised["checkout_sessions"]
    assert got["purchase"] == realised["purchase_sessions"]


@pytest.mark.parametrize("channel", ["web", "app"])
def test_cart_abandonment_is_the_planted_rate(demo_world, journeys, channel):
    _, table = journeys
    k = table(JOURNEY_KPIS).set_index(["kpi", "channel"]).value
    planted = demo_world.planted
    assert k["cart_abandonment", channel] == pytest.approx(
        planted["realised"]["funnels"][channel]["abandonment"], abs=5e-5
    )
    assert k["cart_abandonment", channel] == pytest.approx(
        planted["parameters"]["funnels"][channel]["abandonment"], abs=0.015
    )


def test_planted_friction_step_tops_the_checkout_friction_points(demo_world, journeys):
    _, table = journeys
    friction = demo_world.planted["parameters"]["friction"]
    f = table(JOURNEY_FRICTION)
    top = f[f.funnel == "checkout"].sort_values("rank").iloc[0]
    assert (top.channel, top.from_step, top.to_step) == (
        friction["channel"],
        friction["from_step"],
        friction["to_step"],
    )
    assert top.page == friction["page"]
    assert top.drop_off == pytest.approx(friction["drop_off"], abs=0.02)
    assert top.reference_drop_off == pytest.approx(friction["reference_drop_off"], abs=0.02)
    assert top.excess_lost > 0


@pytest.mark.parametrize(
    ("touchpoint", "outcome", "case", "reference_case"),
    [
        ("order_delivered", "late", "late", "on_time"),
        ("ticket_closed", "unresolved", "unresolved", "resolved"),
    ],
)
def test_planted_moment_of_truth_is_found_with_its_sign_and_an_interval_without_zero(
    demo_world, journeys, touchpoint, outcome, case, reference_case
):
    _, table = journeys
    realised = demo_world.planted["realised"]["moment_of_truth"]
    m = table(JOURNEY_MOMENTS).set_index(["touchpoint", "outcome"]).loc[(touchpoint, outcome)]
    assert m.events == realised[f"{case}_n"]
    assert m.reference_events == realised[f"{reference_case}_n"]
    assert m.difference < 0 and m.ci_high < 0 and m.significant
    planted = realised[f"{case}_repurchase_rate"] - realised[f"{reference_case}_repurchase_rate"]
    # The generator counts any later order; parcours counts purchases (completed orders) only.
    assert m.ci_low <= planted <= m.ci_high


def test_moments_of_truth_lead_the_table(journeys):
    _, table = journeys
    m = table(JOURNEY_MOMENTS)
    # The table leads with the significant moments, largest difference first; the engine
    # returns rows in no particular order, so read them in that order.
    m = m.assign(size=m.difference.abs()).sort_values(["significant", "size"], ascending=False)
    assert set(m.iloc[:2].touchpoint) == {"order_delivered", "ticket_closed"}


def test_top_paths_and_other_bucket_cover_every_customer(demo_world, journeys):
    _, table = journeys
    p = table(JOURNEY_PATHS)
    persons = demo_world.truth("persons")
    assert p.customers.sum() == (persons.orders > 0).sum()
    assert p.share.sum() == pytest.approx(1.0)
    assert p.sort_values("rank").path.iloc[-1] == "other"


def test_timeline_of_a_person_holds_all_their_orders_in_time_order(
    demo_world, journeys_ws, journeys
):
    orders = demo_world.truth("orders")
    person = orders.dropna(subset=["person_id"]).person_id.value_counts().index[0]
    rows = timeline(journeys_ws, person)
    assert (rows.touchpoint == "order").sum() == (orders.person_id == person).sum()
    assert rows.occurred_at.is_monotonic_increasing
    assert list(rows.seq) == list(range(len(rows)))


def test_report_says_when_segment_splits_are_missing(journeys_ws, journeys):
    report, _ = journeys
    assert not journeys_ws.engine.has_table("customer_profile")
    assert any("customer_profile" in n for n in report.notes)
    assert report.rows[JOURNEY_TIMELINE.name] > 0
