"""The benefit of each plan: treated against holdout, conversion and revenue, with intervals.

Exposures come from two places that read alike: the journal (``sent`` and ``holdout`` rows,
timed at their ``due_at``) and ``campaign_send`` events whose properties name the ``plan``
and the ``group`` (``treated`` or ``holdout``), so a retailer's own past campaigns are measured
the same way. A person converts with a purchase in the ``measure_days`` after the exposure;
only exposures whose window has ended by the last order are counted.
"""

from __future__ import annotations

import math

import ibis
import pyarrow as pa
from scipy.stats import norm

from parcours.engine import conform
from parcours.errors import MissingInputError
from parcours.facts import purchases, resolve_as_of
from parcours.schema import (
    CRM_ACTIONS,
    CRM_EVALUATION,
    CUSTOMER_EVENTS,
    CUSTOMER_KEY,
    SOURCE,
)
from parcours.workspace import Workspace

CAMPAIGN_EVENT = "campaign_send"
GROUPS = ("treated", "holdout")
DEFAULT_MEASURE_DAYS = 30


def exposures(ws: Workspace) -> ibis.Table | None:
    """One row per plan, person and exposure: ``source``, ``group``, ``exposed_at``."""
    engine = ws.engine
    parts = []
    if engine.has_table(CRM_ACTIONS.name):
        j = engine.table(CRM_ACTIONS.name)
        j = j.filter(j.status.isin(["sent", "holdout"]))
        parts.append(
            j.select(
                plan=j.plan,
                **{CUSTOMER_KEY: j[CUSTOMER_KEY]},
                group=ibis.ifelse(j.status == "sent", "treated", "holdout"),
                exposed_at=j.due_at,
                **{SOURCE: ibis.literal("journal")},
            )
        )
    if engine.has_table(CUSTOMER_EVENTS.name):
        e = engine.table(CUSTOMER_EVENTS.name)
        e = e.filter(e.type == CAMPAIGN_EVENT, e[CUSTOMER_KEY].notnull())
        e = e.select(
            plan=engine.json_text(e.properties, "plan"),
            **{CUSTOMER_KEY: e[CUSTOMER_KEY]},
            group=engine.json_text(e.properties, "group"),
            exposed_at=e.occurred_at,
            **{SOURCE: ibis.literal("events")},
        )
        parts.append(e.filter(e.plan.notnull(), e.group.isin(GROUPS)))
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p)
    return out


def wald_interval(p1: float, n1: int, p0: float, n0: int, level: float = 0.95):
    """Interval of ``p1 - p0`` for two independent proportions (normal approximation)."""
    z = norm.ppf(0.5 + level / 2)
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return p1 - p0 - z * se, p1 - p0 + z * se


def evaluate_plans(ws: Workspace) -> list[dict]:
    """Measure every plan with exposures; write and return the rows of ``crm_evaluation``."""
    engine = ws.engine
    x = exposures(ws)
    if x is None:
        raise MissingInputError(
            "no CRM actions nor campaign_send events to measure",
            hint="parcours plan run --send, or ingest your past campaigns as events",
        )
    last = resolve_as_of(engine, None)
    windows = engine.from_arrow(
        pa.Table.from_pylist(
            [{"w_plan": n, "w_days": p.measure_days} for n, p in ws.config.plans.scenarios.items()],
            schema=pa.schema([("w_plan", pa.string()), ("w_days", pa.int64())]),
        ),
        "crm_windows",
    )
    x = x.left_join(windows, x.plan == windows.w_plan)
    x = x.mutate(days=ibis.coalesce(x.w_days, DEFAULT_MEASURE_DAYS)).drop("w_plan", "w_days")
    x = x.mutate(exposure=ibis.row_number().over(order_by=[x.plan, x[CUSTOMER_KEY], x.exposed_at]))
    end_seconds = x.exposed_at.epoch_seconds() + x.days * 86400
    x = x.filter(end_seconds <= ibis.timestamp(last).epoch_seconds() + 86400)
    p = purchases(engine, last).select(
        p_key=lambda t: t[CUSTOMER_KEY],
        p_at=lambda t: t.ordered_at,
        amount=lambda t: t.total_amount,
    )
    hit = x.join(
        p,
        (x[CUSTOMER_KEY] == p.p_key)
        & (p.p_at > x.exposed_at)
        & (p.p_at.epoch_seconds() <= x.exposed_at.epoch_seconds() + x.days * 86400),
    )
    spent = hit.group_by("exposure").aggregate(revenue=hit.amount.sum())
    per = x.left_join(spent, "exposure").drop("exposure_right")
    per = per.mutate(
        converted=per.revenue.notnull().cast("int64"), revenue=ibis.coalesce(per.revenue, 0.0)
    )
    g = per.group_by(["plan", SOURCE, "group"]).aggregate(
        n=per.count(),
        conversions=per.converted.sum(),
        revenue=per.revenue.sum(),
        days=per.days.max(),
    )
    cells = engine.to_pyarrow(g).to_pylist()
    rows = _rows(cells)
    schema = pa.schema(
        [
            (
                c.name,
                pa.int64()
                if c.dtype == "int64"
                else pa.float64()
                if c.dtype == "float64"
                else pa.string(),
            )
            for c in CRM_EVALUATION.columns
        ]
    )
    table = engine.from_arrow(pa.Table.from_pylist(rows, schema=schema), "crm_evaluation_rows")
    with engine.batch():
        engine.write(CRM_EVALUATION.name, conform(table, CRM_EVALUATION), stage="activation")
    return rows


def _rows(cells: list[dict]) -> list[dict]:
    by: dict[tuple[str, str], dict[str, dict]] = {}
    for c in cells:
        by.setdefault((c["plan"], c[SOURCE]), {})[c["group"]] = c
    out = []
    for (plan, source), groups in sorted(by.items()):
        t, h = groups.get("treated"), groups.get("holdout")
        row = {
            "plan": plan,
            SOURCE: source,
            "treated": t["n"] if t else 0,
            "holdout": h["n"] if h else 0,
            "treated_conversion": t["conversions"] / t["n"] if t else None,
            "holdout_conversion": h["conversions"] / h["n"] if h else None,
            "uplift": None,
            "ci_low": None,
            "ci_high": None,
            "treated_revenue": t["revenue"] / t["n"] if t else None,
            "holdout_revenue": h["revenue"] / h["n"] if h else None,
            "incremental_revenue": None,
            "measure_days": max(g["days"] for g in groups.values()),
        }
        if t and h:
            p1, p0 = row["treated_conversion"], row["holdout_conversion"]
            row["uplift"] = p1 - p0
            row["ci_low"], row["ci_high"] = wald_interval(p1, t["n"], p0, h["n"])
            row["incremental_revenue"] = (row["treated_revenue"] - row["holdout_revenue"]) * t["n"]
        out.append(row)
    return out
