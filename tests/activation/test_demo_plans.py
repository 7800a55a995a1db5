"""CRM plans on the demo, against what was planted: the past win-back's uplift, and daily runs
of the seven default plans from late November to the new year (caps, consent, holdouts,
win-back, the festive season and the weeks around it)."""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import yaml

from parcours.activation import run_plans
from parcours.activation.evaluate import evaluate_plans
from parcours.metrics import write_kpis, write_profile
from parcours.metrics.seasons import festive_periods
from parcours.schema import (
    CRM_ACTIONS,
    CUSTOMER_CONSENTS,
    CUSTOMER_EVENTS,
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    IDENTITY_MAP,
)
from parcours.segments import write_segments
from parcours.workspace import Workspace
from tests.engines import rows

PER_BEHAVIOUR = 40
# Off season, the Christmas window (12-01 to 12-24), off season again. Each run costs seconds
# of query compilation whatever the size, so the runs span five weeks, not a year (about a
# minute on a quiet machine).
DAYS = (dt.date(2025, 11, 26), dt.date(2025, 12, 28))
TIGHT_CAPS = [{"days": 7, "max": 1}, {"days": 30, "max": 3}]


def test_evaluate_recovers_the_planted_winback_uplift_within_four_points(demo_world, tmp_path):
    truth = demo_world.planted["realised"]["winback_history"]
    ws = demo_world.keyed_copy(tmp_path / "ws")
    got = {(r["plan"], r["source"]): r for r in evaluate_plans(ws)}
    w = got[("winback", "events")]
    # Every planted exposure is read back, with the conversions the generator counted.
    assert (w["treated"], w["holdout"]) == (truth["treated_n"], truth["holdout_n"])
    assert w["treated_conversion"] == pytest.approx(truth["treated_conversion"], abs=1e-6)
    assert w["holdout_conversion"] == pytest.approx(truth["holdout_conversion"], abs=1e-6)
    assert w["ci_low"] <= truth["uplift"] <= w["ci_high"]
    assert (w["ci_high"] - w["ci_low"]) / 2 <= 0.04
    assert w["treated"] / (w["treated"] + w["holdout"]) == pytest.approx(0.9, abs=0.02)
    assert w["incremental_revenue"] > 0
    assert rows(ws, "crm_evaluation")[0]["plan"] == "winback"


def _small_world(world, directory: Path):
    """The keyed demo cut to PER_BEHAVIOUR persons of each planted behaviour, stages run."""
    persons = world.truth("persons")
    keep = persons.sort_values("person_id").groupby("behaviour").head(PER_BEHAVIOUR)[["person_id"]]
    world.keyed_copy(directory).close()
    # Caps tighter than the defaults, so that they bind within five weeks whatever the draw.
    path = directory / "parcours.yaml"
    config = yaml.safe_load(path.read_text("utf-8")) or {}
    config.setdefault("plans", {})["caps"] = TIGHT_CAPS
    path.write_text(yaml.safe_dump(config), "utf-8")
    ws = Workspace.open(directory)
    engine = ws.engine
    kept = engine.from_arrow(
        pa.Table.from_pandas(keep.rename(columns={"person_id": "k"}), preserve_index=False),
        "plans_kept",
    )
    for spec in (IDENTITY_MAP, CUSTOMER_ORDERS, CUSTOMER_EVENTS, CUSTOMER_CONSENTS):
        t = engine.table(spec.name)
        engine.write(spec.name, t.semi_join(kept, t[CUSTOMER_KEY] == kept.k), stage="test")
    write_profile(ws)
    write_segments(ws)
    write_kpis(ws)
    return ws, persons.set_index("person_id").behaviour


@pytest.fixture(scope="module")
def daily(demo_world):
    """Daily runs (the last day run twice): the journal, the profile, the behaviours."""
    ws, behaviour = _small_world(
        demo_world, Path(tempfile.mkdtemp(prefix="parcours-plans-")) / "ws"
    )
    day = DAYS[0]
    while day <= DAYS[1]:
        run_plans(ws, day)
        day += dt.timedelta(days=1)
    before = len(rows(ws, CRM_ACTIONS.name))
    run_plans(ws, DAYS[1])
    journal = pd.DataFrame(rows(ws, CRM_ACTIONS.name))
    profile = pd.DataFrame(rows(ws, "customer_profile"))
    orders = pd.DataFrame(rows(ws, CUSTOMER_ORDERS.name))
    consents = pd.DataFrame(rows(ws, CUSTOMER_CONSENTS.name))
    yield {
        "ws": ws,
        "journal": journal,
        "rerun_added": len(journal) - before,
        "profile": profile.set_index(CUSTOMER_KEY),
        "behaviour": behaviour,
        "churned": set(demo_world.truth("persons").dropna(subset=["churned_at"]).person_id),
        "consents": consents,
        "orders": orders,
    }
    ws.close()


def _contacts(journal: pd.DataFrame) -> pd.DataFrame:
    return journal[journal.status.isin(["decided", "sent"])]


@pytest.mark.slow
def test_a_rerun_of_the_same_day_decides_nothing_new(daily):
    assert daily["rerun_added"] == 0
    j = daily["journal"]
    # An occurrence is contacted or held out once at most; capped ones have a row a day.
    reached = j[j.status != "suppressed"]
    assert not reached.duplicated(["plan", CUSTOMER_KEY, "occurrence"]).any()
    assert not j.duplicated("action_id").any()


@pytest.mark.slow
def test_nobody_exceeds_a_cap_in_any_window_over_weeks_of_daily_runs(daily):
    config = daily["ws"].config.plans
    c = _contacts(daily["journal"])
    days = pd.to_datetime(c.decided_on)
    rules = [(None, 1, 1)] + [(None, cap.days, cap.max) for cap in config.caps]
    rules += [(ch, cap.days, cap.max) for ch, caps in config.channel_caps.items() for cap in caps]
    for channel, window, most in rules:
        mine = c if channel is None else c[c.channel == channel]
        d = days[mine.index]
        # For every contact, the contacts of the same person in the window ending that day.
        for _, group in d.groupby(mine[CUSTOMER_KEY]):
            t = group.sort_values().to_numpy()
            start = t - pd.Timedelta(days=window - 1)
            counts = t.searchsorted(t, side="right") - t.searchsorted(start, side="left")
            assert counts.max() <= most, (channel, window, group.name)
    # The caps did bind: plans wanted more than the caps let through.
    reasons = set(daily["journal"].reason.dropna())
    assert any(r.startswith("cap_") for r in reasons), reasons


@pytest.mark.slow
def test_nobody_is_contacted_on_a_channel_without_a_granted_consent(daily):
    c = _contacts(daily["journal"])
    cons = daily["consents"]
    assert len(c) > 0
    for row in c.itertuples():
        said = cons[
            (cons[CUSTOMER_KEY] == getattr(row, CUSTOMER_KEY))
            & (cons.channel == row.channel)
            & (pd.to_datetime(cons.recorded_at).dt.date <= row.decided_on)
        ]
        latest = said.sort_values("recorded_at").tail(1)
        assert len(latest) == 1 and bool(latest.granted.iloc[0]), (row.plan, row.channel)


@pytest.mark.slow
def test_holdout_shares_are_within_a_99_percent_binomial_interval(daily):
    j = daily["journal"]
    eligible = j[j.status.isin(["decided", "sent", "holdout"])]
    assert eligible.plan.nunique() >= 5
    overall = (eligible.status == "holdout").mean()
    n = len(eligible)
    assert abs(overall - 0.1) <= 2.576 * math.sqrt(0.1 * 0.9 / n), (overall, n)
    for plan, g in eligible.groupby("plan"):
        share, m = (g.status == "holdout").mean(), len(g)
        assert abs(share - 0.1) <= 2.576 * math.sqrt(0.1 * 0.9 / m) + 1 / m, (plan, share, m)


def _lapsing_on(orders: pd.DataFrame, day: dt.date) -> set[str]:
    """Persons silent beyond twice their median gap (at least 60 days, at most 720) on ``day``,
    one-time buyers measured against the median of everyone's median gap."""
    end = pd.Timestamp(day) + pd.Timedelta(days=1)
    o = orders[(orders.status == "completed") & (orders.ordered_at < end)]
    o = o.sort_values([CUSTOMER_KEY, "ordered_at", "order_id"])
    gap = o.groupby(CUSTOMER_KEY).ordered_at.diff().dt.total_seconds() / 86400
    p = (
        o.assign(gap=gap)
        .groupby(CUSTOMER_KEY)
        .agg(last=("ordered_at", "max"), usual=("gap", "median"))
    )
    silence = (end - p["last"]).dt.total_seconds() / 86400
    limit = (2 * p.usual.fillna(p.usual.median())).clip(lower=60)
    return set(p.index[(silence > limit) & (silence <= 720)])


@pytest.mark.slow
def test_planted_lapsing_customers_get_the_winback(daily):
    j, behaviour = daily["journal"], daily["behaviour"]
    planted = set(behaviour[behaviour == "lapsing"].index)
    due = planted & _lapsing_on(daily["orders"], DAYS[0])
    assert len(due) >= 10
    first = j[(j.plan == "winback") & (j.decided_on == DAYS[0])]
    assert due <= set(first[CUSTOMER_KEY])
    # Those with a channel: contacted or held out, unless a festive window comes first.
    mine = first[first[CUSTOMER_KEY].isin(due) & (first.reason != "no_consent")]
    assert len(mine) > 0 and mine.status.isin(["decided", "holdout"]).mean() >= 0.9
    # Weekly regulars do not lapse, so they never get it, unless a bad experience made them
    # leave (the demo plants that too).
    regulars = set(behaviour[behaviour == "weekly_regular"].index) - daily["churned"]
    assert regulars and not regulars & set(j[j.plan == "winback"][CUSTOMER_KEY])


@pytest.mark.slow
def test_festive_customers_get_the_festive_plan_in_season_and_nothing_off_season(daily):
    j, behaviour, profile = daily["journal"], daily["behaviour"], daily["profile"]
    seasonal = set(profile.index[profile.lifecycle_segment == "seasonal"])
    o = daily["orders"]
    buyers = set(o[o.ordered_at < pd.Timestamp(DAYS[0])][CUSTOMER_KEY])
    festive = set(behaviour[behaviour == "festive"].index) & seasonal & buyers
    assert len(festive) >= PER_BEHAVIOUR // 2
    windows = daily["ws"].config.profile.festive_windows
    periods = festive_periods(windows, DAYS[0].year, DAYS[1].year)

    def in_season(d):
        return any(a <= d <= b for _, a, b in periods)

    mine = j[j[CUSTOMER_KEY].isin(festive)]
    reached = mine[mine.status.isin(["decided", "sent", "holdout"])]
    assert len(reached) > 0
    # Nothing off season.
    assert all(in_season(d) for d in reached.decided_on), reached[["plan", "decided_on"]]
    off = mine[~mine.decided_on.map(in_season)]
    assert set(off.reason.dropna()) <= {"off_season", "no_consent", "cooldown", "priority"}
    # In season: the festive plan for every one of them, sent to those with a channel.
    fest = mine[mine.plan == "festive"]
    assert set(fest[CUSTOMER_KEY]) == festive
    assert all(in_season(d) for d in fest.decided_on)
    # Held back by a cap, they are tried again the next days: reached within the season.
    ok = fest[fest.reason != "no_consent"]
    reached = ok[ok.status.isin(["decided", "holdout"])]
    assert len(ok) > 0 and reached[CUSTOMER_KEY].nunique() / ok[CUSTOMER_KEY].nunique() >= 0.8
