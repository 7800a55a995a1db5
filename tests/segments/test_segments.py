"""RFM scores and segments, lifecycle rules, on hand-made data with hand-worked answers."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import yaml

from parcours.config import LIFECYCLE_SEGMENTS, LifecycleConfig
from parcours.errors import ConfigError
from parcours.facts import PROFILE
from parcours.metrics import write_profile
from parcours.metrics.rfm import RFM_SEGMENTS
from parcours.schema import (
    CUSTOMER_ORDERS,
    ORDER_LINES,
    PRODUCTS,
    SEGMENT_LABELS,
)
from parcours.segments import write_segments
from parcours.workspace import Workspace
from tests.metrics.handmade import (
    AS_OF,
    PRODUCT_ROWS,
    as_table,
    line,
    load,
    load_hand,
    load_single_record_persons,
    order,
)


def test_every_rfm_score_pair_has_exactly_one_named_segment():
    for r, f in itertools.product(range(1, 6), repeat=2):
        cells = [
            s.code
            for s in RFM_SEGMENTS
            if s.recency[0] <= r <= s.recency[1] and s.frequency[0] <= f <= s.frequency[1]
        ]
        assert len(cells) == 1, (r, f, cells)
    assert len(RFM_SEGMENTS) == 10


def test_segments_on_hand_made_data_on_every_engine(workspace):
    load_hand(workspace)
    write_profile(workspace, AS_OF)
    report = write_segments(workspace)
    p = as_table(workspace, PROFILE, "customer_key").set_index("customer_key")
    # Recency 0 / 197 / 901 days, 3 / 1 / 2 purchases, 170 / 80 / 100 revenue: ranks give
    # scores 5 / 3 / 1, 5 / 1 / 3 and 5 / 1 / 3.
    assert p.loc["a"].rfm_score == "555" and p.loc["a"].rfm_segment == "champions"
    assert p.loc["b"].rfm_score == "311" and p.loc["b"].rfm_segment == "need_attention"
    assert p.loc["e"].rfm_score == "133" and p.loc["e"].rfm_segment == "at_risk"
    assert p.loc["c"].rfm_segment is None or p.loc["c"].rfm_segment != p.loc["c"].rfm_segment
    # a: top of the two active customers by period revenue; b: one purchase in a tourist
    # store, living elsewhere; c: no purchase; e: silent 901 > 730 days.
    assert p.lifecycle_segment.to_dict() == {
        "a": "vip",
        "b": "tourist",
        "c": "prospect",
        "e": "lost",
    }
    assert report.lifecycle == {"vip": 1, "tourist": 1, "prospect": 1, "lost": 1}
    labels = as_table(workspace, SEGMENT_LABELS.name, ["dimension", "priority"])
    life = labels[labels.dimension == "lifecycle_segment"]
    assert life.segment.tolist() == ["prospect", *LIFECYCLE_SEGMENTS, "occasional"]
    assert life.set_index("segment").loc["lost"].rule == "no purchase for more than 730 days"
    assert (labels.label_fr.str.len() > 0).all()


def test_lifecycle_priorities_and_thresholds_come_from_the_config(make_workspace):
    ws = make_workspace(
        lifecycle={"priority": ["inactive", "tourist"], "lost_days": 1000, "vip_share": 0.5}
    )
    load_hand(ws)
    write_profile(ws, AS_OF)
    write_segments(ws)
    p = as_table(ws, PROFILE, "customer_key").set_index("customer_key")
    # e is now inactive (no lost rule); vip is not in the priorities: a is occasional.
    assert p.lifecycle_segment.to_dict() == {
        "a": "occasional",
        "b": "tourist",
        "c": "prospect",
        "e": "inactive",
    }


def test_a_lapsing_customer_is_silent_beyond_twice_their_usual_interval(make_workspace):
    ws = make_workspace(lifecycle={"lapsing_factor": 1.1})
    load_hand(ws)
    write_profile(ws, AS_OF)
    write_segments(ws)
    p = as_table(ws, PROFILE, "customer_key").set_index("customer_key")
    assert p.loc["a"].lifecycle_segment == "vip"  # silent 0 days: never lapsing
    ws2 = make_workspace(lifecycle={"lapsing_factor": 1.1, "lost_days": 5000})
    load_hand(ws2)
    write_profile(ws2, AS_OF)
    write_segments(ws2)
    p2 = as_table(ws2, PROFILE, "customer_key").set_index("customer_key")
    # e: usual interval 10 days, silent 901 > 365 -> inactive comes before lapsing.
    assert p2.loc["e"].lifecycle_segment == "inactive"


def load_lapsing(ws) -> None:
    """Four customers of two purchases each, silent for a known number of days at AS_OF.

    l: 30 days apart, silent 270 days; o: 20 apart, silent 44; n: 20 apart, silent 36;
    p: 5 apart, silent 25. No date falls in a festive window.
    """
    days = {"l": (300, 270), "o": (64, 44), "n": (56, 36), "p": (30, 25)}
    as_of = dt.datetime.combine(AS_OF, dt.time(12))
    orders, lines = [], []
    for key, silences in days.items():
        for i, silent in enumerate(silences):
            oid = f"{key}{i}"
            orders.append(order(key, oid, as_of - dt.timedelta(days=silent), "web", 50.0))
            lines.append(line(oid, "CAF", 50.0, "cafe"))
    load(ws, CUSTOMER_ORDERS, orders)
    load(ws, ORDER_LINES, lines)
    load(ws, PRODUCTS, PRODUCT_ROWS)
    load_single_record_persons(ws, days)


def test_lapsing_is_silence_beyond_factor_times_the_usual_interval_and_the_minimum(
    make_workspace,
):
    ws = make_workspace(lifecycle={"priority": ["lapsing"]})
    load_lapsing(ws)
    write_profile(ws, AS_OF)
    write_segments(ws)
    p = as_table(ws, PROFILE, "customer_key").set_index("customer_key")
    assert p.usual_interval_days.to_dict() == {"l": 30, "n": 20, "o": 20, "p": 5}
    assert p.days_since_last_order.to_dict() == {"l": 270, "n": 36, "o": 44, "p": 25}
    # Default factor 2 and minimum 30 days: l 270 > 60, o 44 > 40, n 36 <= 40, p 25 <= 30
    # (more than twice its 5-day interval, but within the 30-day minimum).
    assert p.lifecycle_segment.to_dict() == {
        "l": "lapsing",
        "n": "occasional",
        "o": "lapsing",
        "p": "occasional",
    }


def test_a_lapsing_customer_is_classed_lapsing_with_the_default_priorities(make_workspace):
    ws = make_workspace()
    load_lapsing(ws)
    write_profile(ws, AS_OF)
    write_segments(ws)
    p = as_table(ws, PROFILE, "customer_key").set_index("customer_key")
    # l is active (silent under a year), not new, not seasonal: lapsing is the first match.
    assert p.loc["l"].lifecycle_segment == "lapsing"


def test_unknown_lifecycle_rule_is_a_config_error(tmp_path):
    (tmp_path / "parcours.yaml").write_text(yaml.safe_dump({"lifecycle": {"priority": ["vipp"]}}))
    with pytest.raises(ConfigError, match="lifecycle.priority"):
        Workspace.open(tmp_path)
    assert LifecycleConfig().priority[0] == "tourist"
