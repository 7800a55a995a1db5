"""Funnels and paths on small hand-made timelines, with answers counted by hand, on both engines."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from parcours.engine import ibis_schema
from parcours.journeys.funnels import FunnelSpec, FunnelStep, funnel, funnel_entries
from parcours.journeys.paths import journey_paths, paths_around, runs, top_paths
from parcours.schema import JOURNEY_TIMELINE

T0 = dt.datetime(2025, 3, 1, 10, 0, 0)
STAGE_OF = {
    "page_view": ("information_search", 2),
    "product_view": ("evaluation_of_options", 3),
    "add_to_cart": ("purchase_decision", 4),
    "checkout_start": ("purchase_decision", 4),
    "purchase": ("purchase", 5),
}


def rows(journeys: dict[str, list[tuple[str, float]]]) -> list[dict]:
    """Touchpoints (type, minutes after T0) per journey, each journey one session."""
    out = []
    for jid, events in journeys.items():
        for seq, (kind, minutes) in enumerate(events):
            stage, no = STAGE_OF[kind]
            out.append(
                {
                    "journey_id": jid,
                    "customer_key": jid,
                    "seq": seq,
                    "occurred_at": T0 + dt.timedelta(minutes=minutes),
                    "touchpoint": kind,
                    "stage": stage,
                    "stage_no": no,
                    "channel": "app" if jid.startswith("app") else "web",
                    "session_id": f"s-{jid}",
                    "url": f"/{kind}",
                    "amount": 50.0 if kind == "purchase" else None,
                    "source": "web",
                    "ref": f"{jid}-{seq}",
                }
            )
    return out


def load(ws, journeys) -> object:
    schema = ibis_schema(JOURNEY_TIMELINE).to_pyarrow()
    data = pa.Table.from_pylist(rows(journeys), schema=schema)
    return ws.engine.from_arrow(data, "hand_timeline")


CHECKOUT = [("add_to_cart", 60.0), ("checkout_start", 60.0), ("purchase", 60.0)]


def spec(steps=CHECKOUT, ordering="loose", scope="session") -> FunnelSpec:
    return FunnelSpec(
        "hand",
        tuple(FunnelStep(name, "touchpoint", (), minutes * 60) for name, minutes in steps),
        scope,
        ordering,
    )


def reached(ws, timeline, s: FunnelSpec, start=None, end=None, split="all") -> dict:
    f = ws.engine.execute(funnel(funnel_entries(timeline, s, start, end), s, ["channel"]))
    f = f[f.split == split]
    return {(r.split_value, r.step): int(r.reached) for r in f.itertuples()}


JOURNEYS = {
    # every step, with a product view between cart and checkout
    "a": [("add_to_cart", 0), ("product_view", 1), ("checkout_start", 2), ("purchase", 3)],
    # checkout 2 hours after the cart: beyond the 60-minute window
    "b": [("add_to_cart", 0), ("checkout_start", 120), ("purchase", 121)],
    # the cart twice: one entry; steps straight after each other
    "c": [("add_to_cart", 0), ("add_to_cart", 1), ("checkout_start", 2), ("purchase", 3)],
    # purchase before checkout: the purchase does not count for step 3
    "d": [("add_to_cart", 0), ("purchase", 1), ("checkout_start", 2)],
    # an app session that stops at the checkout
    "app1": [("add_to_cart", 0), ("checkout_start", 1)],
}


def test_loose_funnel_counts_each_entry_once_within_windows(workspace):
    t = load(workspace, JOURNEYS)
    got = reached(workspace, t, spec())
    # entries a b c d; checkout reached by a, c, d (b is too late); purchase after it: a, c
    assert got == {("all", "add_to_cart"): 5, ("all", "checkout_start"): 4, ("all", "purchase"): 2}
    by_channel = reached(workspace, t, spec(), split="channel")
    assert by_channel[("web", "purchase")] == 2
    assert by_channel[("app", "checkout_start")] == 1
    assert by_channel[("app", "purchase")] == 0


def test_strict_funnel_refuses_any_touchpoint_between_steps(workspace):
    t = load(workspace, JOURNEYS)
    got = reached(workspace, t, spec(ordering="strict"))
    # a: a product view between cart and checkout; b: too late; c: the entry is the first
    # cart, followed by another cart, so the checkout is not next; d: purchase comes next.
    # app1: cart then checkout at once.
    assert got == {("all", "add_to_cart"): 5, ("all", "checkout_start"): 1, ("all", "purchase"): 0}


def test_date_range_bounds_entry_only_so_late_entrants_convert_after_it(workspace):
    late = {
        "early": [("add_to_cart", -30), ("checkout_start", -29), ("purchase", -28)],
        "late": [("add_to_cart", 50), ("checkout_start", 70), ("purchase", 90)],
    }
    t = load(workspace, late)
    start, end = T0, T0 + dt.timedelta(hours=1)
    got = reached(workspace, t, spec(), start, end)
    # 'early' entered before the range; 'late' entered in it and bought after its end.
    assert got == {("all", "add_to_cart"): 1, ("all", "checkout_start"): 1, ("all", "purchase"): 1}


def test_time_to_convert_is_measured_from_the_previous_step(workspace):
    t = load(workspace, {"a": JOURNEYS["a"], "c": JOURNEYS["c"]})
    s = spec()
    f = workspace.engine.execute(funnel(funnel_entries(t, s), s))
    # One row per step (no split): unpacking checks it, whatever order the engine returns.
    (second,) = f[f.step == "checkout_start"].itertuples()
    # a: 2 minutes from its first cart; c: 2 minutes from its first cart
    assert second.median_seconds == pytest.approx(120.0)
    (third,) = f[f.step == "purchase"].itertuples()
    assert third.median_seconds == pytest.approx(60.0)
    assert int(third.dropped) == 0


def test_paths_top_and_other_bucket_add_up_to_every_journey(workspace):
    t = load(
        workspace,
        {
            "p1": [("page_view", 0), ("product_view", 1), ("purchase", 2)],
            "p2": [("page_view", 0), ("page_view", 1), ("product_view", 2), ("purchase", 3)],
            "p3": [("page_view", 0), ("add_to_cart", 1)],
            "p4": [("product_view", 0)],
            "p5": [("purchase", 0), ("page_view", 5), ("product_view", 6), ("purchase", 7)],
        },
    )
    r = runs(t)
    top = workspace.engine.execute(top_paths(journey_paths(r, 3), 1).order_by("rank"))
    assert list(top.path) == [
        "information_search > evaluation_of_options > purchase",
        "other",
    ]
    assert list(top.customers) == [2, 3]
    assert top.share.sum() == pytest.approx(1.0)
    # p5 has 4 runs: its path of 3 is marked as going on
    longer = workspace.engine.execute(journey_paths(r, 3))
    assert longer.set_index("journey_id").path["p5"] == (
        "purchase > information_search > evaluation_of_options > …"
    )


def test_paths_around_a_step_show_what_comes_before_and_after(workspace):
    t = load(
        workspace,
        {
            "p1": [("page_view", 0), ("product_view", 1), ("purchase", 2)],
            "p2": [("purchase", 0), ("page_view", 1)],
        },
    )
    around = workspace.engine.execute(paths_around(runs(t), "purchase", 2, 1))
    got = around.set_index("journey_id")
    assert got.loc["p1", "before"] == "information_search > evaluation_of_options > purchase"
    assert got.loc["p1", "after"] == "purchase > (end)"
    assert got.loc["p2", "before"] == "(start) > purchase"
    assert got.loc["p2", "after"] == "purchase > information_search"
