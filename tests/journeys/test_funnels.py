"""Funnels on small hand-made timelines, each count worked out by hand, on both engines.

Each case names its units after what they show; the expected count per step is in the test.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from parcours.config import FunnelConfig
from parcours.engine import ibis_schema
from parcours.journeys.funnels import (
    Exclusion,
    FunnelSpec,
    FunnelStep,
    check_steps,
    funnel,
    funnel_entries,
    funnel_spec,
    lost_pages,
)
from parcours.journeys.paths import (
    journey_paths,
    paths_around,
    runs,
    top_paths,
    transition_graph,
    transitions,
)
from parcours.schema import JOURNEY_TIMELINE

T0 = dt.datetime(2025, 3, 1, 10, 0, 0)
MIN = 60
STAGE_OF = {
    "page_view": ("information_search", 2),
    "product_view": ("evaluation_of_options", 3),
    "add_to_cart": ("purchase_decision", 4),
    "checkout_start": ("purchase_decision", 4),
    "purchase": ("purchase", 5),
}
CART, CHECKOUT, BUY, VIEW = "add_to_cart", "checkout_start", "purchase", "page_view"


def rows(journeys: dict[str, list[tuple]]) -> list[dict]:
    """Touchpoints (type, minutes after T0[, session]) per journey, in the order recorded."""
    out = []
    for jid, events in journeys.items():
        for seq, (kind, minutes, *session) in enumerate(events):
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
                    "session_id": f"s-{jid}-{session[0] if session else 0}",
                    "url": f"/{kind}",
                    "amount": 50.0 if kind == BUY else None,
                    "source": "web",
                    "ref": f"{jid}-{seq}",
                }
            )
    return out


def load(ws, journeys):
    schema = ibis_schema(JOURNEY_TIMELINE).to_pyarrow()
    return ws.engine.from_arrow(pa.Table.from_pylist(rows(journeys), schema=schema), "hand")


def step(name, within_minutes=None):
    return FunnelStep(name, within_seconds=None if within_minutes is None else within_minutes * MIN)


def spec(*steps, window_minutes=14 * 1440, **options) -> FunnelSpec:
    steps = tuple(step(s) if isinstance(s, str) else s for s in steps)
    return FunnelSpec("hand", steps, window_minutes * MIN, **options)


def counts(ws, timeline, s: FunnelSpec, split="all", **kwargs) -> dict:
    """Units reached per step number (and per split value when split is not 'all')."""
    f = ws.engine.execute(funnel(funnel_entries(timeline, s, **kwargs), s, ["channel"]))
    f = f[f.split == split]
    if split == "all":
        return {int(r.step_no): int(r.reached) for r in f.itertuples()}
    return {(r.split_value, int(r.step_no)): int(r.reached) for r in f.itertuples()}


def test_window_from_the_entry_includes_its_bound(workspace):
    t = load(
        workspace,
        {
            "at_bound": [(CART, 0), (CHECKOUT, 30), (BUY, 60)],
            "past_bound": [(CART, 0), (CHECKOUT, 30), (BUY, 61)],
            # 50 minutes between steps, but 100 from the entry
            "slow": [(CART, 0), (CHECKOUT, 50), (BUY, 100)],
        },
    )
    assert counts(workspace, t, spec(CART, CHECKOUT, BUY, window_minutes=60)) == {1: 3, 2: 3, 3: 1}


def test_within_limits_a_step_from_the_previous_one_on_top_of_the_window(workspace):
    t = load(
        workspace,
        {
            "at_limit": [(CART, 0), (CHECKOUT, 10), (BUY, 70)],
            "too_slow": [(CART, 0), (CHECKOUT, 10), (BUY, 71)],
            # within 60 minutes of the checkout, beyond the 2-hour window from the cart
            "past_window": [(CART, 0), (CHECKOUT, 100), (BUY, 121)],
        },
    )
    s = spec(CART, CHECKOUT, step(BUY, 60), window_minutes=120)
    assert counts(workspace, t, s) == {1: 3, 2: 3, 3: 1}


def test_a_unit_converts_when_any_choice_of_events_fits_not_only_the_earliest(workspace):
    # The example: the first checkout leaves the purchase 99 minutes later, the
    # second one 45 minutes later, within the 60-minute limit.
    t = load(
        workspace,
        {
            "greedy_fails": [(CART, 0), (CHECKOUT, 1), (CHECKOUT, 55), (BUY, 100)],
            "no_choice": [(CART, 0), (CHECKOUT, 1), (BUY, 100)],
        },
    )
    s = spec(CART, step(CHECKOUT, 60), step(BUY, 60), window_minutes=1440)
    assert counts(workspace, t, s) == {1: 2, 2: 2, 3: 1}


JOURNEYS_ATTEMPTS = {
    # abandons, then converts on a later attempt (checkout 10 min, purchase 10 min later)
    "retry": [(CART, 0), (CHECKOUT, 10), (CART, 200), (CHECKOUT, 210), (BUY, 220)],
    # two attempts reach the checkout: the earliest (5 minutes) is counted, not 20 minutes
    "twice": [(CART, 0), (CHECKOUT, 5), (CART, 100), (CHECKOUT, 120)],
}


def test_best_attempt_counts_each_unit_by_its_furthest_attempt(workspace):
    t = load(workspace, JOURNEYS_ATTEMPTS)
    s = spec(CART, CHECKOUT, BUY, window_minutes=60)
    assert counts(workspace, t, s) == {1: 2, 2: 2, 3: 1}
    f = workspace.engine.execute(funnel(funnel_entries(t, s), s))
    times = f.set_index("step_no")
    # checkout: 600 s (retry's converting attempt) and 300 s (twice's earliest attempt)
    assert times.loc[2, "mean_seconds"] == pytest.approx(450.0)
    assert times.loc[2, "median_seconds"] == pytest.approx(450.0)
    assert times.loc[2, "p90_seconds"] == pytest.approx(570.0)
    assert times.loc[3, "mean_seconds"] == pytest.approx(600.0)


def test_first_entry_counts_the_first_attempt_only(workspace):
    t = load(workspace, JOURNEYS_ATTEMPTS)
    s = spec(CART, CHECKOUT, BUY, window_minutes=60, counting="first_entry")
    assert counts(workspace, t, s) == {1: 2, 2: 2, 3: 0}


def test_strict_ordering_is_broken_by_any_event_even_of_no_step(workspace):
    t = load(
        workspace,
        {
            "page_between": [(CART, 0), (VIEW, 1), (CHECKOUT, 2)],
            "back_to_back": [(CART, 0), (CHECKOUT, 1), (BUY, 2)],
            # the second cart starts an attempt that the checkout follows at once
            "cart_twice": [(CART, 0), (CART, 1), (CHECKOUT, 2)],
        },
    )
    assert counts(workspace, t, spec(CART, CHECKOUT, BUY, ordering="strict")) == {
        1: 3,
        2: 2,
        3: 1,
    }
    first = spec(CART, CHECKOUT, BUY, ordering="strict", counting="first_entry")
    assert counts(workspace, t, first) == {1: 3, 2: 1, 3: 1}
    assert counts(workspace, t, spec(CART, CHECKOUT, BUY)) == {1: 3, 2: 3, 3: 1}


def test_any_order_counts_distinct_steps_within_one_window(workspace):
    t = load(
        workspace,
        {
            # purchase then cart: two steps in any order
            "reversed": [(BUY, 0), (CART, 10)],
            # from the checkout only itself within 60 min; from the purchase, purchase and cart
            "two_windows": [(CHECKOUT, 0), (BUY, 70), (CART, 80)],
            "one": [(CART, 0)],
            "all_three": [(CHECKOUT, 0), (CART, 30), (BUY, 60)],
        },
    )
    s = spec(CART, CHECKOUT, BUY, window_minutes=60, ordering="any")
    assert counts(workspace, t, s) == {1: 4, 2: 3, 3: 1}


def test_events_at_one_instant_fill_consecutive_steps_in_step_order(workspace):
    # recorded purchase first, yet at the same instant: cart, checkout, purchase
    t = load(workspace, {"same_instant": [(BUY, 0), (CHECKOUT, 0), (CART, 0)]})
    assert counts(workspace, t, spec(CART, CHECKOUT, BUY)) == {1: 1, 2: 1, 3: 1}
    assert counts(workspace, t, spec(CART, CHECKOUT, BUY, ordering="strict")) == {
        1: 1,
        2: 1,
        3: 1,
    }


def test_a_repeated_step_needs_one_event_per_step(workspace):
    t = load(
        workspace,
        {
            "once": [(CART, 0)],
            "twice": [(CART, 0), (CART, 5)],
            "twice_same_instant": [(CART, 0), (CART, 0)],
        },
    )
    assert counts(workspace, t, spec(CART, CART)) == {1: 3, 2: 2}
    assert counts(workspace, t, spec(CART, CART, ordering="any")) == {1: 3, 2: 2}


def test_exclusions_void_attempts_between_two_steps(workspace):
    t = load(
        workspace,
        {
            # a page view between cart and checkout: its only attempt is void, counted nowhere
            "voided": [(CART, 0), (VIEW, 1), (CHECKOUT, 2), (BUY, 3)],
            # the void attempt is dropped; a later clean attempt reaches the checkout
            "clean_later": [(CART, 0), (VIEW, 1), (CHECKOUT, 2), (CART, 10), (CHECKOUT, 11)],
            # the page view comes after the checkout: not between steps 1 and 2
            "after": [(CART, 0), (CHECKOUT, 1), (VIEW, 2), (BUY, 3)],
            # no checkout, a page view within the window after the cart: void
            "open": [(CART, 0), (VIEW, 5)],
            # first attempt clean (the page view is past its 60-minute window), second void
            "clean_earlier": [(CART, 0), (CART, 100), (VIEW, 101), (CHECKOUT, 102), (BUY, 103)],
        },
    )
    s = spec(
        CART,
        CHECKOUT,
        BUY,
        window_minutes=60,
        exclude=(Exclusion(FunnelStep(VIEW), (1, 2)),),
    )
    assert counts(workspace, t, s) == {1: 3, 2: 2, 3: 1}


def test_exclusion_between_far_steps_does_not_void_a_choice_that_avoids_it(workspace):
    # cart(0) checkout(1) view(5) checkout(6) purchase(7) with a view excluded between
    # steps 2 and 3: the checkout at 6 leaves no view before the purchase.
    t = load(workspace, {"avoid": [(CART, 0), (CHECKOUT, 1), (VIEW, 5), (CHECKOUT, 6), (BUY, 7)]})
    s = spec(CART, CHECKOUT, BUY, exclude=(Exclusion(FunnelStep(VIEW), (2, 3)),))
    assert counts(workspace, t, s) == {1: 1, 2: 1, 3: 1}


def test_date_range_bounds_entries_and_conversions_stop_at_the_as_of_date(workspace):
    day = 1440
    t = load(
        workspace,
        {
            # entered before the range
            "early": [(CART, -day), (CHECKOUT, -day + 1), (BUY, -day + 2)],
            # entered in the range, checkout past its end, purchase after the as-of date
            "late": [(CART, 23 * 60), (CHECKOUT, 25 * 60), (BUY, 40 * 60)],
            # no step 1 in the range: appears nowhere
            "no_entry": [(CHECKOUT, 60), (BUY, 120)],
        },
    )
    s = spec(CART, CHECKOUT, BUY, window_minutes=2 * day)
    start, end = T0, T0 + dt.timedelta(days=1)
    # as of 2 March: known until 3 March 00:00, the purchase (3 March 02:00) is not
    as_of = dt.date(2025, 3, 2)
    assert counts(workspace, t, s, start=start, end=end, as_of=as_of) == {1: 1, 2: 1, 3: 0}
    assert counts(workspace, t, s, start=start, end=end) == {1: 1, 2: 1, 3: 1}


def test_a_step_not_in_the_data_counts_zero(workspace):
    t = load(workspace, {"a": [(CART, 0), (CHECKOUT, 1)]})
    assert counts(workspace, t, spec(CART, "add_to_wishlist", CHECKOUT)) == {1: 1, 2: 0, 3: 0}
    # nobody enters: every step still has its row, with 0
    assert counts(workspace, t, spec("add_to_wishlist", CART)) == {1: 0, 2: 0}


def test_check_steps_notes_missing_steps_and_warns_on_typos():
    s = spec(
        "add_to_crt", "add_to_wishlist", BUY, exclude=(Exclusion(FunnelStep("refund"), (1, 2)),)
    )
    notes, warnings = check_steps(s, [CART, CHECKOUT, BUY], ["purchase_decision"])
    assert warnings == [
        "funnel hand: step 'add_to_crt' never occurs in the data; did you mean 'add_to_cart'?"
    ]
    assert notes == [
        "funnel hand: step 'add_to_wishlist' never occurs in the data yet: it counts 0",
        "funnel hand: exclusion 'refund' never occurs in the data yet: it voids nothing",
    ]


def test_session_scope_keeps_steps_in_the_entry_session_and_splits_by_channel(workspace):
    t = load(
        workspace,
        {
            # cart in one session, purchase in the next: not converted in session scope
            "two_sessions": [(CART, 0, 1), (CHECKOUT, 1, 1), (BUY, 30, 2)],
            "one_session": [(CART, 0), (CHECKOUT, 1), (BUY, 2)],
            "app1": [(CART, 0), (CHECKOUT, 1)],
        },
    )
    s = spec(CART, CHECKOUT, BUY, scope="session")
    assert counts(workspace, t, s) == {1: 3, 2: 3, 3: 1}
    assert counts(workspace, t, spec(CART, CHECKOUT, BUY)) == {1: 3, 2: 3, 3: 2}
    by_channel = counts(workspace, t, s, split="channel")
    assert by_channel[("web", 3)] == 1
    assert by_channel[("app", 2)] == 1
    assert by_channel[("app", 3)] == 0


def test_lost_pages_name_the_last_page_of_units_that_stopped(workspace):
    t = load(workspace, {"a": [(CART, 0), (CHECKOUT, 1)], "b": [(CART, 0)], "c": [(CART, 0)]})
    s = spec(CART, CHECKOUT, BUY)
    lost = workspace.engine.execute(lost_pages(funnel_entries(t, s), s))
    got = {(int(r.step_no), r.page): int(r.lost) for r in lost.itertuples()}
    assert got == {(2, "/add_to_cart"): 2, (3, "/checkout_start"): 1}


def test_shipped_funnels_keep_their_windows():
    checkout = funnel_spec(
        "checkout",
        FunnelConfig(steps=[CART, CHECKOUT, BUY], window="2d", within="1d", scope="session"),
        [],
    )
    assert checkout.window_seconds == 2 * 86400
    assert [s.within_seconds for s in checkout.steps] == [None, 86400, 86400]
    config = FunnelConfig(
        steps=["email_open", {"step": "information_search", "within": "2d"}, BUY], window="16d"
    )
    email = funnel_spec("email", config, ["information_search"])
    assert [s.within_seconds for s in email.steps] == [None, 2 * 86400, None]
    assert [s.on for s in email.steps] == ["touchpoint", "stage", "touchpoint"]


def test_paths_top_and_other_bucket_add_up_to_every_journey(workspace):
    t = load(
        workspace,
        {
            "p1": [(VIEW, 0), ("product_view", 1), (BUY, 2)],
            "p2": [(VIEW, 0), (VIEW, 1), ("product_view", 2), (BUY, 3)],
            "p3": [(VIEW, 0), (CART, 1)],
            "p4": [("product_view", 0)],
            "p5": [(BUY, 0), (VIEW, 5), ("product_view", 6), (BUY, 7)],
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
            "p1": [(VIEW, 0), ("product_view", 1), (BUY, 2)],
            "p2": [(BUY, 0), (VIEW, 1)],
        },
    )
    around = workspace.engine.execute(paths_around(runs(t), BUY, 2, 1))
    got = around.set_index("journey_id")
    assert got.loc["p1", "before"] == "information_search > evaluation_of_options > purchase"
    assert got.loc["p1", "after"] == "purchase > (end)"
    assert got.loc["p2", "before"] == "(start) > purchase"
    assert got.loc["p2", "after"] == "purchase > information_search"


def test_events_of_one_step_at_one_instant_fill_repeated_steps_one_each(workspace):
    t = load(
        workspace,
        {
            "three_at_once": [(CART, 0), (CART, 0), (CART, 0)],
            "two_at_once_one_later": [(CART, 0), (CART, 0), (CART, 5)],
            "two_at_once": [(CART, 0), (CART, 0)],
        },
    )
    assert counts(workspace, t, spec(CART, CART, CART, window_minutes=60)) == {1: 3, 2: 3, 3: 2}
    # the third cart 5 minutes after the entry, past a 4-minute window
    assert counts(workspace, t, spec(CART, CART, CART, window_minutes=4)) == {1: 3, 2: 3, 3: 1}
    strict = spec(CART, CART, CART, ordering="strict")
    assert counts(workspace, t, strict) == {1: 3, 2: 3, 3: 2}


def test_a_stage_step_takes_another_event_than_the_touchpoint_step_before_it(workspace):
    # a cart is also a purchase_decision: the step after it needs a second such event
    t = load(
        workspace,
        {
            "cart_only": [(CART, 0), (BUY, 1)],
            "recorded_backwards": [(BUY, 0), (CHECKOUT, 0), (CART, 0)],
            "two_carts_at_once": [(CART, 0), (CART, 0), (BUY, 1)],
        },
    )
    decision = FunnelStep("purchase_decision", on="stage")
    assert counts(workspace, t, spec(CART, decision, BUY)) == {1: 3, 2: 2, 3: 2}


def test_attempts_at_one_instant_count_the_unit_once(workspace):
    t = load(workspace, {"twin_entries": [(CART, 0), (CART, 0), (CHECKOUT, 1)], "one": [(CART, 0)]})
    assert counts(workspace, t, spec(CART, CHECKOUT)) == {1: 2, 2: 1}
    assert counts(workspace, t, spec(CART, CHECKOUT, ordering="any")) == {1: 2, 2: 1}


def test_a_later_attempt_converts_where_within_and_window_stop_the_first(workspace):
    # From the cart at 0, the purchase at 100 is past the 90-minute window; the cart at 50
    # starts an attempt where checkout(55) -> purchase(100) fits both limits.
    retry = [(CART, 0), (CHECKOUT, 1), (CART, 50), (CHECKOUT, 55), (BUY, 100)]
    t = load(workspace, {"retry": retry})
    s = spec(CART, step(CHECKOUT, 60), step(BUY, 60), window_minutes=90)
    assert counts(workspace, t, s) == {1: 1, 2: 1, 3: 1}
    times = workspace.engine.execute(funnel(funnel_entries(t, s), s)).set_index("step_no")
    assert times.loc[2, "mean_seconds"] == pytest.approx(5 * MIN)
    assert times.loc[3, "mean_seconds"] == pytest.approx(45 * MIN)


def test_the_entry_reported_is_the_one_of_the_attempt_counted(workspace):
    # a web visit abandons, an app visit later converts: the unit counts on the app
    journeys = {"switch": [(CART, 0), (CART, 100), (CHECKOUT, 101), (BUY, 102)]}
    events = rows(journeys)
    for e in events[1:]:
        e["channel"], e["device"] = "app", "phone"
    schema = ibis_schema(JOURNEY_TIMELINE).to_pyarrow()
    t = workspace.engine.from_arrow(pa.Table.from_pylist(events, schema=schema), "switch")
    s = spec(CART, CHECKOUT, BUY, window_minutes=60)
    (entry,) = workspace.engine.to_pyarrow(funnel_entries(t, s)).to_pylist()
    assert entry["channel"] == "app"
    assert entry["device"] == "phone"
    assert entry["entered_at"] == T0 + dt.timedelta(minutes=100)
    assert (entry["page"], entry["amount"]) == ("/purchase", 50.0)
    assert counts(workspace, t, s, split="channel") == {("app", 1): 1, ("app", 2): 1, ("app", 3): 1}


def test_transitions_go_from_the_end_of_a_run_to_the_start_of_the_next(workspace):
    t = load(
        workspace,
        {
            "p1": [(VIEW, 0), ("product_view", 60), ("product_view", 120), (BUY, 300)],
            "p2": [(VIEW, 0), (VIEW, 1440), ("product_view", 2880)],
        },
    )
    got = workspace.engine.to_pyarrow(runs(t).order_by(["journey_id", "run"])).to_pylist()
    at = [T0 + dt.timedelta(minutes=m) for m in (0, 60, 120, 300, 1440, 2880)]
    assert [(r["run"], r["touchpoints"], r["started_at"], r["ended_at"]) for r in got] == [
        (1, 1, at[0], at[0]),
        (2, 2, at[1], at[2]),
        (3, 1, at[3], at[3]),
        (1, 2, at[0], at[4]),
        (2, 1, at[5], at[5]),
    ]
    moves = workspace.engine.to_pyarrow(transitions(runs(t))).to_pylist()
    got = {(m["journey_id"], m["from_stage"], m["to_stage"]): m["days"] for m in moves}
    info, evaluation = "information_search", "evaluation_of_options"
    assert got == {
        ("p1", "(start)", info): None,
        ("p1", info, evaluation): pytest.approx(1 / 24),
        # from the second product view (120) to the purchase (300)
        ("p1", evaluation, "purchase"): pytest.approx(3 / 24),
        ("p1", "purchase", "(end)"): None,
        ("p2", "(start)", info): None,
        # from the second page view (1 day) to the product view (2 days)
        ("p2", info, evaluation): pytest.approx(1.0),
        ("p2", evaluation, "(end)"): None,
    }
    graph = workspace.engine.execute(transition_graph(transitions(runs(t))))
    edges = graph.set_index(["from_stage", "to_stage"])
    assert (int(edges.loc[(info, evaluation)].transitions), len(edges)) == (2, 5)
    assert int(edges.loc[("(start)", info)].customers) == 2
