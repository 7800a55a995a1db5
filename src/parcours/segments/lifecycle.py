"""Lifecycle segments from the explicit rules of ``lifecycle:``, and ``write_segments``.

Every customer gets exactly one segment: ``prospect`` without a purchase, else the first rule
of ``lifecycle.priority`` that matches, else ``occasional``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import pyarrow as pa

from parcours.config import LifecycleConfig
from parcours.engine import Engine
from parcours.facts import add_profile_columns
from parcours.metrics.categories import renewal_times
from parcours.metrics.kpis import read_profile
from parcours.metrics.profile import attach
from parcours.metrics.rfm import RFM_SEGMENTS, rfm_scores
from parcours.schema import CUSTOMER_CATEGORIES, CUSTOMER_KEY, SEGMENT_LABELS
from parcours.segments.seasonal import seasonal_buyers
from parcours.workspace import Workspace

STAGE = "segments"
PROSPECT = "prospect"
OCCASIONAL = "occasional"


@dataclass(frozen=True)
class Label:
    """Names and rule of a lifecycle segment (``{x}`` are the config values)."""

    label_en: str
    label_fr: str
    rule: str


LIFECYCLE_LABELS: dict[str, Label] = {
    PROSPECT: Label("Prospect", "Prospect", "no purchase yet"),
    "tourist": Label(
        "One-off tourist",
        "Touriste de passage",
        "a single purchase, in a tourist-area store, living outside its region",
    ),
    "lost": Label("Lost", "Perdu", "no purchase for more than {lost_days} days"),
    "new": Label("New", "Nouveau", "first purchase within the last {new_days} days"),
    "seasonal": Label(
        "Seasonal / festive",
        "Saisonnier des fêtes",
        "at least {seasonal_min_share:.0%} of spend and {seasonal_min_orders} purchase(s) "
        "in the festive windows",
    ),
    "inactive": Label("Inactive", "Inactif", "no purchase in the active period"),
    "lapsing": Label(
        "Lapsing",
        "Décrocheur",
        "silent for more than {lapsing_factor} x the usual interval (or, with one purchase, "
        "the renewal time of the favourite category), and at least {lapsing_min_days} days",
    ),
    "vip": Label("VIP", "VIP", "top {vip_share:.0%} of active customers by period revenue"),
    "promo_driven": Label(
        "Promotion-driven occasional",
        "Occasionnel promophile",
        "at least {promo_min_share:.0%} of purchases discounted, {promo_min_orders}+ purchases",
    ),
    "active_regular": Label(
        "Active regular",
        "Régulier actif",
        "at least {regular_min_orders} purchases in the active period",
    ),
    OCCASIONAL: Label("Occasional", "Occasionnel", "active, no other rule matched"),
}


def lifecycle_segments(
    profile: ibis.Table, renewal: ibis.Table | None, rules: LifecycleConfig
) -> ibis.Table:
    """The lifecycle segment of every customer.

    Parameters
    ----------
    profile : ibis.Table
        ``customer_profile``.
    renewal : ibis.Table or None
        ``kpi_renewal`` rows (``category``, ``median_days``): the renewal time of what a
        one-purchase customer bought.
    rules : LifecycleConfig
        Thresholds and priorities.

    Returns
    -------
    ibis.Table
        ``customer_key`` and ``lifecycle_segment``.
    """
    p = profile
    if renewal is not None:
        r = renewal.select(favourite_category=renewal.category, _renewal=renewal.median_days)
        p = attach(p, r, "favourite_category")
        renewal_days = p._renewal
    else:
        renewal_days = ibis.null("float64")
    p = p.mutate(
        _vip_rank=ibis.percent_rank().over(group_by=p.active, order_by=p.period_revenue),
        _expected=ibis.cases((p.orders >= 2, p.usual_interval_days), else_=renewal_days),
    )
    silence = p.days_since_last_order
    tests = {
        "tourist": (p.orders == 1)
        & p.tourist_store.fill_null(False)
        & ~p.local_customer.fill_null(False),
        "lost": silence > rules.lost_days,
        "new": p.tenure_days < rules.new_days,
        "seasonal": seasonal_buyers(p, rules),
        "inactive": ~p.active,
        "lapsing": p._expected.notnull()
        & (silence > ibis.greatest(p._expected * rules.lapsing_factor, rules.lapsing_min_days)),
        "vip": p.active & (p._vip_rank >= 1 - rules.vip_share),
        "promo_driven": (p.discount_share >= rules.promo_min_share)
        & (p.orders >= rules.promo_min_orders),
        "active_regular": p.purchase_frequency >= rules.regular_min_orders,
    }
    segment = ibis.cases(
        (p.orders == 0, PROSPECT),
        *((tests[name].fill_null(False), name) for name in rules.priority),
        else_=OCCASIONAL,
    )
    return p.select(CUSTOMER_KEY, lifecycle_segment=segment)


def segment_labels(rules: LifecycleConfig) -> pa.Table:
    """The ``segment_labels`` rows: RFM and lifecycle segments, names and rules."""
    rows = [
        {
            "dimension": "rfm_segment",
            "segment": s.code,
            "label_en": s.label_en,
            "label_fr": s.label_fr,
            "rule": s.rule,
            "priority": i,
        }
        for i, s in enumerate(RFM_SEGMENTS)
    ]
    order = [PROSPECT, *rules.priority, OCCASIONAL]
    values = rules.model_dump()
    for i, code in enumerate(order):
        label = LIFECYCLE_LABELS[code]
        rows.append(
            {
                "dimension": "lifecycle_segment",
                "segment": code,
                "label_en": label.label_en,
                "label_fr": label.label_fr,
                "rule": label.rule.format(**values),
                "priority": i,
            }
        )
    return pa.Table.from_pylist(rows)


@dataclass(frozen=True)
class SegmentsReport:
    """What ``write_segments`` wrote: customers per lifecycle and RFM segment."""

    as_of: dt.date
    lifecycle: dict[str, int]
    rfm: dict[str, int]


def _counts(engine: Engine, table: ibis.Table, column: str) -> dict[str, int]:
    rows = engine.to_pyarrow(table.group_by(column).aggregate(n=table.count())).to_pylist()
    return {r[column]: int(r["n"]) for r in sorted(rows, key=lambda r: -r["n"])}


def write_segments(ws: Workspace) -> SegmentsReport:
    """Add the RFM scores and segments and the lifecycle segment to ``customer_profile``.

    Parameters
    ----------
    ws : Workspace
        The workspace; ``parcours profile`` must have run.

    Returns
    -------
    SegmentsReport
        Customers per segment.
    """
    engine = ws.engine
    rules = ws.config.lifecycle
    profile, as_of = read_profile(engine)
    renewal = None
    if engine.has_table(CUSTOMER_CATEGORIES.name):
        renewal = renewal_times(engine.table(CUSTOMER_CATEGORIES.name))
    rfm = rfm_scores(profile)
    lifecycle = lifecycle_segments(profile, renewal, rules)
    extra = attach(lifecycle, rfm)
    # Materialise first: the profile is rewritten from these columns.
    engine.write("segments__new", extra, stage=STAGE)
    add_profile_columns(engine, engine.table("segments__new"), stage=STAGE)
    engine.drop("segments__new")
    labels = engine.from_arrow(segment_labels(rules), "segment_labels__rows")
    engine.write(SEGMENT_LABELS.name, labels, stage=STAGE)
    p = engine.table("customer_profile")
    return SegmentsReport(
        as_of,
        _counts(engine, p, "lifecycle_segment"),
        _counts(engine, p.filter(p.rfm_segment.notnull()), "rfm_segment"),
    )
