"""A hand-made warehouse: welcome and win-back decided by hand, consent, rerun, priority."""

import csv
import datetime as dt

from parcours.activation import run_plans
from parcours.schema import (
    CRM_ACTIONS,
    CUSTOMER_CONSENTS,
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    CUSTOMER_PROFILE,
    CUSTOMERS_GOLDEN,
)
from tests.engines import count, rows
from tests.metrics.handmade import load, order, ts

AS_OF = dt.date(2025, 6, 30)


def profile(key, **more):
    return {
        CUSTOMER_KEY: key,
        "as_of": AS_OF,
        "orders": 1,
        "revenue": 10.0,
        "purchase_frequency": 1,
        "period_revenue": 10.0,
        "active": True,
        "channels_used": 1,
        "festive_orders": 0,
        **more,
    }


def consent(key, channel, granted, day="2025-01-01"):
    return {
        CUSTOMER_KEY: key,
        "channel": channel,
        "granted": granted,
        "recorded_at": ts(day),
        "source": "pos",
        "customer_id": key,
    }


TWO_PLANS = {
    "scenarios": {
        "welcome": {
            "trigger": {"kind": "first_purchase", "days": 1},
            "priority": 2,
            "holdout_share": 0.0,
            "subject": {"en": "Hi", "fr": "Bonjour"},
            "body": {"en": "Hello {{ first_name }}", "fr": "Bonjour {{ first_name }}"},
        },
        "winback": {
            "trigger": {"kind": "lapsing", "min_days": 60},
            "priority": 1,
            "holdout_share": 0.0,
            "subject": {"en": "Back"},
        },
    }
}


def hand_made_world(make_workspace, engine="duckdb"):
    """A new (A), a lapsing (B), a new without consent (C) and a new opted out (D) person."""
    ws = make_workspace(engine, plans=TWO_PLANS)
    with ws.engine.batch():
        load(
            ws,
            CUSTOMER_ORDERS,
            [
                order("A", "1", ts("2025-06-29"), "web", 10.0),  # new yesterday: welcome
                order("B", "2", ts("2025-01-10"), "web", 10.0),  # silent 171 days: win-back
                order("B", "3", ts("2025-02-10"), "web", 10.0),
                order("C", "4", ts("2025-06-29"), "web", 10.0),  # new, but no consent record
                order("D", "5", ts("2025-06-29"), "web", 10.0),  # opted out by e-mail
            ],
        )
        load(ws, CUSTOMER_PROFILE, [profile(k) for k in "ABCD"])
        load(
            ws,
            CUSTOMERS_GOLDEN,
            [
                {
                    CUSTOMER_KEY: k,
                    "first_name": name,
                    "email": f"{k.lower()}@example.fr",
                    "country": country,
                    "records": 1,
                    "sources": "pos",
                }
                for k, name, country in (("A", "Inès", "FR"), ("B", "Bob", "GB"))
            ],
        )
        # customer_consents holds each person's latest decision: D's is an e-mail opt-out.
        load(
            ws,
            CUSTOMER_CONSENTS,
            [
                consent("A", "email", True),
                consent("B", "email", True),
                consent("D", "email", False, "2025-03-01"),
            ],
        )
    return ws


def test_plans_on_hand_made_people_decide_by_hand_and_a_rerun_adds_nothing(
    make_workspace, engine_name
):
    ws = hand_made_world(make_workspace, engine_name)
    run_plans(ws, AS_OF)
    got = {
        (r[CUSTOMER_KEY], r["plan"]): (r["status"], r["reason"], r["channel"])
        for r in rows(ws, CRM_ACTIONS.name)
    }
    assert got == {
        ("A", "welcome"): ("decided", None, "email"),
        ("B", "winback"): ("decided", None, "email"),
        ("C", "welcome"): ("suppressed", "no_consent", None),
        ("D", "welcome"): ("suppressed", "no_consent", None),
    }
    run_plans(ws, AS_OF)
    assert count(ws, CRM_ACTIONS.name) == 4


def test_a_suppression_is_decided_again_on_a_later_day_while_its_trigger_holds(make_workspace):
    ws = hand_made_world(make_workspace)
    # E is lapsing like B, with no consent yet: the win-back is suppressed on the first day.
    lapsing = [
        order("E", "6", ts("2025-01-10"), "web", 10.0),
        order("E", "7", ts("2025-02-10"), "web", 10.0),
    ]
    load(ws, CUSTOMER_ORDERS, rows(ws, CUSTOMER_ORDERS.name) + lapsing)
    load(ws, CUSTOMER_PROFILE, [*rows(ws, CUSTOMER_PROFILE.name), profile("E")])
    run_plans(ws, AS_OF)
    winback = [r for r in rows(ws, CRM_ACTIONS.name) if r[CUSTOMER_KEY] == "E"]
    assert [(r["status"], r["reason"]) for r in winback] == [("suppressed", "no_consent")]
    # E opts in the next morning: the same occurrence is decided again, and sent for.
    consents = rows(ws, CUSTOMER_CONSENTS.name)
    load(ws, CUSTOMER_CONSENTS, [*consents, consent("E", "email", True, "2025-07-01")])
    next_day = AS_OF + dt.timedelta(days=1)
    run_plans(ws, next_day)
    winback = [r for r in rows(ws, CRM_ACTIONS.name) if r[CUSTOMER_KEY] == "E"]
    assert [(r["plan"], r["status"], r["channel"], r["decided_on"]) for r in winback] == [
        ("winback", "decided", "email", next_day)
    ]
    # D, still opted out, stays suppressed; nothing else was decided twice.
    journal = rows(ws, CRM_ACTIONS.name)
    assert [(r["status"], r["reason"]) for r in journal if r[CUSTOMER_KEY] == "D"] == [
        ("suppressed", "no_consent")
    ]
    assert len({(r["plan"], r[CUSTOMER_KEY], r["occurrence"]) for r in journal}) == len(journal)


def test_winback_waits_for_twice_the_median_gap_not_the_mean(make_workspace):
    from parcours.activation.plans import Day, candidates

    ws = make_workspace(
        plans={
            "scenarios": {"winback": {"trigger": {"kind": "lapsing", "factor": 2, "min_days": 0}}}
        }
    )
    plan = ws.config.plans.scenarios["winback"]
    with ws.engine.batch():
        load(
            ws,
            CUSTOMER_ORDERS,
            [
                # E: gaps of 10, 10 and 100 days: median 10, mean 40; silent 30 days.
                order("E", "e1", ts("2025-01-01"), "web", 10.0),
                order("E", "e2", ts("2025-01-11"), "web", 10.0),
                order("E", "e3", ts("2025-01-21"), "web", 10.0),
                order("E", "e4", ts("2025-05-01"), "web", 10.0),
                # F: gaps of 10 and 50 days: median 30; silent 20 days, not lapsing.
                order("F", "f1", ts("2025-03-12"), "web", 10.0),
                order("F", "f2", ts("2025-03-22"), "web", 10.0),
                order("F", "f3", ts("2025-05-11"), "web", 10.0),
            ],
        )
        load(ws, CUSTOMER_PROFILE, [profile(k) for k in "EF"])
    day = Day.of(dt.date(2025, 5, 31), ws.config)
    got = ws.engine.to_pyarrow(
        candidates(ws.engine, "winback", plan, day, ws.config, ws.engine.table("customer_profile"))
    ).to_pylist()
    # E: silent 30 days + the day > 2 x 10 -> lapsing; F: 21 days < 2 x 30 -> not.
    assert [(r[CUSTOMER_KEY], r["occurrence"]) for r in got] == [("E", "last:2025-05-01")]


def test_send_exports_one_csv_row_per_decided_email_ready_to_import(make_workspace):
    ws = hand_made_world(make_workspace)
    report = run_plans(ws, AS_OF, send=True)
    assert (report.sent, report.failed) == (2, 0)
    with (ws.dir / "exports" / "crm_email.csv").open(encoding="utf-8", newline="") as f:
        got = sorted(csv.DictReader(f), key=lambda r: r["to"])
    assert [(r["to"], r["plan"], r["language"], r["subject"]) for r in got] == [
        ("a@example.fr", "welcome", "fr", "Bonjour"),
        ("b@example.fr", "winback", "en", "Back"),
    ]
    assert got[0]["body"] == "Bonjour Inès"
    journal = {r["action_id"]: r for r in rows(ws, CRM_ACTIONS.name)}
    assert {r["message_id"] for r in got} <= set(journal)
    assert all(journal[r["message_id"]]["status"] == "sent" for r in got)
    # Sending again exports nothing twice.
    run_plans(ws, AS_OF, send=True)
    with (ws.dir / "exports" / "crm_email.csv").open(encoding="utf-8", newline="") as f:
        assert len(list(csv.DictReader(f))) == 2
