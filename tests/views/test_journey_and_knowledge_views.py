"""Views on hand-made tables whose figures are known: paths, funnels, friction, delays, runs."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pyarrow as pa
import pytest

from parcours.errors import UserInputError
from parcours.views.journeys import journeys_views, timeline_view
from parcours.views.knowledge import second_purchase_distribution
from parcours.views.model import Text
from parcours.views.prediction import clv_distribution
from parcours.views.run import outcomes_view
from parcours.views.segments import contact_means


def _write(ws, name: str, rows: list[dict]) -> None:
    ws.engine.write(name, ws.engine.from_arrow(pa.Table.from_pylist(rows), name), stage="test")


def _funnel(channel: str, entries: int, reached: tuple[int, ...]) -> list[dict]:
    steps = ("add_to_cart", "checkout_start", "purchase")
    return [
        {
            "funnel": "checkout",
            "split": "all" if channel == "all" else "channel",
            "split_value": channel,
            "step_no": i + 1,
            "step": step,
            "entries": entries,
            "reached": n,
            "conversion": n / entries,
            "step_conversion": n / (reached[i - 1] if i else entries),
            "dropped": (reached[i - 1] if i else entries) - n,
            "mean_seconds": None if i == 0 else 60.0,
            "median_seconds": None if i == 0 else 50.0,
            "p90_seconds": None if i == 0 else 120.0,
        }
        for i, (step, n) in enumerate(zip(steps, reached, strict=True))
    ]


@pytest.fixture
def journeys_ws(make_workspace):
    ws = make_workspace("duckdb")
    _write(
        ws,
        "journey_funnels",
        _funnel("all", 100, (100, 60, 40)) + _funnel("web", 80, (80, 50, 36)),
    )
    # Two paths share their first two stages; "other" and one-stage paths draw no link.
    _write(
        ws,
        "journey_paths",
        [
            {
                "rank": 1,
                "path": "search > compare > buy > …",
                "customers": 10,
                "share": 0.5,
                "revenue": 100.0,
            },
            {"rank": 2, "path": "search > compare", "customers": 5, "share": 0.25, "revenue": 50.0},
            {"rank": 3, "path": "buy", "customers": 2, "share": 0.1, "revenue": 20.0},
            {"rank": 4, "path": "other", "customers": 3, "share": 0.15, "revenue": 30.0},
        ],
    )
    _write(
        ws,
        "journey_transitions",
        [
            {
                "from_stage": "(start)",
                "to_stage": "search",
                "transitions": 15,
                "customers": 15,
                "median_days": 0.0,
                "p90_days": 0.0,
                "threshold_days": None,
                "beyond_threshold": None,
                "customers_beyond": None,
            },
            {
                "from_stage": "buy",
                "to_stage": "delivery",
                "transitions": 8,
                "customers": 8,
                "median_days": 2.5,
                "p90_days": 6.0,
                "threshold_days": 5.0,
                "beyond_threshold": 2,
                "customers_beyond": 2,
            },
        ],
    )
    _write(
        ws,
        "journey_friction",
        [
            {
                "rank": 1,
                "funnel": "checkout",
                "channel": "app",
                "from_step": "checkout_start",
                "to_step": "purchase",
                "reached": 20,
                "lost": 12,
                "drop_off": 0.6,
                "reference_drop_off": 0.28,
                "excess_lost": 6.4,
                "revenue_lost": 960.0,
                "page": "/pay",
            },
        ],
    )
    _write(
        ws,
        "journey_moments_of_truth",
        [
            {
                "touchpoint": "order_delivered",
                "outcome": "late",
                "reference": "on_time",
                "events": 50,
                "repurchased": 20,
                "rate": 0.4,
                "reference_events": 200,
                "reference_rate": 0.7,
                "difference": -0.3,
                "ci_low": -0.45,
                "ci_high": -0.15,
                "significant": True,
                "horizon_days": 90,
            },
        ],
    )
    return ws


def test_journey_views_draw_the_funnel_paths_durations_friction_and_moments(journeys_ws):
    funnel, paths, durations, friction, moments = journeys_views(journeys_ws.engine)
    # Funnel: one series per split, conversion per step; the finding names the overall rate.
    chart = funnel.charts[0]
    assert [s.name.en for s in chart.series] == ["all", "web"]
    assert chart.series[1].y == (1.0, 50 / 80, 36 / 80)
    assert funnel.findings[0].text.en == "40.0% of checkout funnel entries convert (100 entries)."
    # parcours' own words are named in each language; the retailer's are shown as they are.
    assert funnel.tables[0].rows[2][1] == Text("3. purchase", "3. achat")
    # Paths Sankey: a node per stage and position; search->compare carries both paths (15).
    sankey = paths.charts[0]
    labels = [n.en for n in sankey.nodes]
    assert labels == ["search", "compare", "buy"]
    assert sorted(sankey.links) == [(0, 1, 15), (1, 2, 10)]
    # Durations: the journey's start is not a stage; the threshold is drawn beside the median.
    assert durations.tables[0].rows == (
        ("buy", Text("delivery", "livraison"), 8, 2.5, 6.0, 5.0, 2),
    )
    assert durations.charts[0].series[0].reference == (5.0,)
    assert friction.findings[0].text.fr == (
        "Principal point de friction : appli début de commande → achat, 12 entrées perdues "
        "(60\u202f% d'abandon contre 28\u202f% ailleurs), environ 960\u00a0€ de CA."
    )
    bars = moments.charts[0].series[0]
    assert bars.y == (-0.3,)
    assert bars.low == pytest.approx((0.15,)) and bars.high == pytest.approx((0.15,))
    assert moments.tables[0].rows[0][-1].en == "[-45.0, -15.0]"


def test_unknown_funnel_names_those_there_are(journeys_ws):
    with pytest.raises(UserInputError, match="unknown funnel 'basket'") as e:
        journeys_views(journeys_ws.engine, "basket")
    assert "checkout" in e.value.hint


def test_delay_to_second_purchase_is_binned_per_first_channel(make_workspace):
    ws = make_workspace("duckdb")
    _write(
        ws,
        "customer_profile",
        [
            {"first_channel": "store", "days_to_second_order": d}
            for d in (3.0, 10.0, 30.0, 400.0, None)
        ]
        + [{"first_channel": "web", "days_to_second_order": 50.0}],
    )
    chart = second_purchase_distribution(ws.engine)
    store, web = chart.series
    # 0-7, 8-30, 31-90, 91-180, 181-365, over 365; the customer with no second purchase is out.
    assert store.y == (0.25, 0.5, 0.0, 0.0, 0.0, 0.25)
    assert web.y == (0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    assert [b.fr for b in store.x][-1] == "plus de 365 jours"


def test_timeline_keeps_the_last_touchpoints_and_says_so():
    frame = pd.DataFrame(
        {
            "occurred_at": pd.date_range("2026-01-01", periods=5, freq="D"),
            "stage": ["search"] * 5,
            "touchpoint": ["page_view"] * 5,
            "outcome": [None] * 5,
            "channel": ["web"] * 5,
            "amount": [None, None, None, None, 12.5],
            "order_id": [None, None, None, None, "o1"],
            "url": ["/p"] * 5,
        }
    )
    view = timeline_view(frame, "k1", limit=2)
    assert view.title.en == "Timeline of k1: 5 touchpoints (the last 2)"
    rows = view.tables[0].rows
    assert len(rows) == 2 and rows[-1][5] == 12.5 and rows[0][5] is None


def test_run_outcomes_list_every_stage_with_its_status():
    outcomes = [
        SimpleNamespace(stage="resolve", status="ran", seconds=1.25, reason=""),
        SimpleNamespace(stage="journeys", status="skipped", seconds=None, reason="no events"),
    ]
    table = outcomes_view(outcomes).tables[0]
    assert table.title.en == "Pipeline"
    assert table.rows == (("resolve", "ran", 1.25, ""), ("journeys", "skipped", None, "no events"))


def test_persona_contact_means_are_shares_of_its_customers(make_workspace):
    ws = make_workspace("duckdb")
    _write(
        ws,
        "customer_profile",
        [{"customer_key": k, "persona": p} for k, p in [("a", "p1"), ("b", "p1"), ("c", "p2")]],
    )
    _write(
        ws,
        "customers_golden",
        [
            {"customer_key": "a", "email": "a@x.fr", "phone": None},
            {"customer_key": "b", "email": None, "phone": "+33600000000"},
            {"customer_key": "c", "email": "c@x.fr", "phone": "+33600000001"},
        ],
    )
    # a opted in to email; c opted out.
    _write(
        ws,
        "customer_consents",
        [
            {"customer_key": "a", "channel": "email", "granted": True},
            {"customer_key": "c", "channel": "email", "granted": False},
        ],
    )
    reach = contact_means(ws.engine)
    assert reach["p1"].en == "email 50% (opted in 50%), phone 50%"
    assert reach["p2"].fr == "e-mail 100\u202f% (dont accord 0\u202f%), téléphone 100\u202f%"


def test_clv_distribution_counts_customers_per_value_band(make_workspace):
    ws = make_workspace("duckdb")
    _write(ws, "customer_predictions", [{"clv": v} for v in (5.0, 20.0, 49.9, 3000.0, None)])
    series = clv_distribution(ws.engine).series[0]
    # 0-10, 10-50, 50-100, 100-250, 250-500, 500-1000, 1000-2500, 2500 and more.
    assert series.y == (1, 2, 0, 0, 0, 0, 0, 1)
    assert series.x[0].en == "€0 to €10" and series.x[-1].fr == "2\u202f500\u00a0€ et plus"
