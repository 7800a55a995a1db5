"""A hand-made warehouse: welcome and win-back decided by hand, consent, rerun, priority."""

import csv
import datetime as dt

from parcours.activation import run_plans
from parcours.cli import main
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


def hand_made_world(make_workspace, engine="duckdb", plans=TWO_PLANS):
    """A new (A), a lapsing (B), a new without consent (C) and a new opted out (D) person."""
    ws = make_workspace(engine, plans=plans)
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


def test_a_capped_occurrence_is_decided_again_once_the_cap_allows(make_workspace):
    one_a_week = {**TWO_PLANS, "caps": [{"days": 7, "max": 1}]}
    ws = hand_made_world(make_workspace, plans=one_a_week)
    # B was sent another message two days ago: the win-back waits for the week to pass.
    earlier = {
        "action_id": "earlier",
        "plan": "welcome",
        CUSTOMER_KEY: "B",
        "occurrence": "2025-06-27",
        "channel": "email",
        "route": "web",
        "decided_on": AS_OF - dt.timedelta(days=2),
        "due_at": ts("2025-06-28"),
        "status": "sent",
        "attempts": 1,
    }
    load(ws, CRM_ACTIONS, [earlier])
    days = [AS_OF + dt.timedelta(days=d) for d in range(6)]
    for day in days:
        run_plans(ws, day)
    winback = sorted(
        (r["decided_on"], r["status"], r["reason"])
        for r in rows(ws, CRM_ACTIONS.name)
        if r[CUSTOMER_KEY] == "B" and r["plan"] == "winback"
    )
    # Held back while the week lasts (a row a day), decided the first day it has passed.
    assert winback == [(d, "suppressed", "cap_7d") for d in days[:5]] + [(days[5], "decided", None)]
    # C and D, without consent, stay suppressed once: consent is not pressure.
    journal = rows(ws, CRM_ACTIONS.name)
    assert [(r["status"], r["reason"]) for r in journal if r[CUSTOMER_KEY] == "D"] == [
        ("suppressed", "no_consent")
    ]
    assert len({r["action_id"] for r in journal}) == len(journal)


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


def test_plan_commands_show_the_plans_the_day_and_the_evaluation(make_workspace, capsys):
    ws = hand_made_world(make_workspace)
    w = str(ws.dir)
    ws.close()  # the commands open the workspace themselves
    assert main(["plan", "list", "-w", w]) == 0
    out = capsys.readouterr().out
    assert "first_purchase +1d" in out and "lapsing" in out
    assert main(["plan", "preview", "--as-of", "2025-06-30", "-w", w]) == 0
    out = capsys.readouterr().out
    assert "Actions that would be decided" in out
    # C and D, without consent: suppressed, with the reason in words; a message rendered.
    assert "Suppressed, by reason" in out and "no consent" in out
    assert "subject: Hi" in out or "subject: Back" in out
    assert main(["plan", "run", "--as-of", "2025-06-30", "-w", w]) == 0
    assert "Actions decided" in capsys.readouterr().out
    assert main(["plan", "run", "--as-of", "2025-06-30", "-w", w]) == 0
    assert "nothing new to decide" in capsys.readouterr().out
    assert main(["plan", "evaluate", "-w", w]) == 0
    assert "Plan evaluation (treated vs holdout)" in capsys.readouterr().out
