"""Journeys as of a date use only what was known then."""

from __future__ import annotations

import datetime as dt

from parcours.journeys import write_journeys
from parcours.schema import CUSTOMER_EVENTS, CUSTOMER_KEY, CUSTOMER_ORDERS, JOURNEY_FUNNELS
from tests.engines import rows
from tests.metrics.handmade import load, order


def event(eid, when, kind, session="s1"):
    return {
        CUSTOMER_KEY: "K1",
        "source": "web",
        "event_id": eid,
        "occurred_at": when,
        "type": kind,
        "channel": "web",
        "customer_id": "K1",
        "session_id": session,
        "url": f"/{kind}",
    }


def checkout(ws) -> dict[str, int]:
    f = [r for r in rows(ws, JOURNEY_FUNNELS.name) if r["funnel"] == "checkout"]
    return {r["step"]: r["reached"] for r in f if r["split"] == "all"}


def test_journeys_as_of_a_date_ignore_what_happened_after_it(make_workspace):
    # DuckDB only here: the journeys stage as a whole on Spark is tested with the pipeline.
    ws = make_workspace("duckdb")
    day = dt.datetime(2025, 3, 1)
    load(
        ws,
        CUSTOMER_EVENTS,
        [
            event("e1", day + dt.timedelta(hours=10), "add_to_cart"),
            event("e2", day + dt.timedelta(hours=10, minutes=5), "checkout_start"),
            # the next morning, after the as-of date (1 March), within the checkout window
            event("e3", day + dt.timedelta(hours=33), "purchase"),
        ],
    )
    load(ws, CUSTOMER_ORDERS, [order("K1", "o1", day + dt.timedelta(hours=33), "web", 50.0)])
    range_ = {"start": day, "end": day + dt.timedelta(days=1)}

    report = write_journeys(ws, **range_, as_of=day.date())
    assert report.as_of == day.date()
    assert checkout(ws) == {"add_to_cart": 1, "checkout_start": 1, "purchase": 0}
    timeline = rows(ws, "journey_timeline")
    assert max(r["occurred_at"] for r in timeline) < day + dt.timedelta(days=1)
    assert {r["touchpoint"] for r in timeline} == {"add_to_cart", "checkout_start"}

    write_journeys(ws, **range_)
    assert checkout(ws) == {"add_to_cart": 1, "checkout_start": 1, "purchase": 1}


def test_a_funnel_step_not_in_the_data_is_a_note_and_a_typo_a_warning(make_workspace):
    ws = make_workspace(
        "duckdb",
        journeys={
            "funnels": {
                "later": {"steps": ["add_to_cart", "add_to_wishlist"]},
                "typo": {"steps": ["add_to_crt", "checkout_start"]},
            }
        },
    )
    day = dt.datetime(2025, 3, 1, 10)
    load(ws, CUSTOMER_EVENTS, [event("e1", day, "add_to_cart"), event("e2", day, "checkout_start")])
    load(ws, CUSTOMER_ORDERS, [order("K1", "o1", day, "web", 50.0)])
    report = write_journeys(ws, end=day.date() + dt.timedelta(days=1))
    assert "funnel later: step 'add_to_wishlist' never occurs in the data yet: it counts 0" in (
        report.notes
    )
    assert report.warnings == [
        "funnel typo: step 'add_to_crt' never occurs in the data; did you mean 'add_to_cart'?"
    ]
    f = [r for r in rows(ws, JOURNEY_FUNNELS.name) if r["split"] == "all"]
    assert {(r["funnel"], r["step_no"]): r["reached"] for r in f} == {
        ("later", 1): 1,
        ("later", 2): 0,
        ("typo", 1): 0,
        ("typo", 2): 0,
    }
