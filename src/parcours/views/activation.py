"""CRM plan views: the plans declared, a day's decisions, and each plan measured on its holdout."""

from __future__ import annotations

from collections import Counter
from typing import Any

from parcours.config import PlansConfig
from parcours.engine import Engine
from parcours.schema import CRM_ACTIONS, CRM_EVALUATION
from parcours.views.locale import text, word
from parcours.views.model import Chart, Column, Finding, Note, Series, Table, Text, View, same
from parcours.views.source import has_rows, records, table_rows

PLAN_COLUMNS = (
    Column("plan", text("col.plan")),
    Column("trigger", text("col.trigger")),
    Column("audience", text("col.audience")),
    Column("channel", text("col.channel")),
    Column("priority", text("col.priority"), "int"),
    Column("cooldown", text("col.cooldown"), "int"),
    Column("holdout", text("col.holdout_share"), "pct"),
    Column("enabled", text("col.enabled")),
)
ACTION_COLUMNS = (
    Column("plan", text("col.plan")),
    Column("status", text("col.status")),
    Column("channel", text("col.channel")),
    Column("persons", text("col.persons"), "int"),
)
REASON_COLUMNS = (
    Column("reason", text("col.reason")),
    Column("persons", text("col.persons"), "int"),
)
EVALUATION_COLUMNS = (
    Column("plan", text("col.plan")),
    Column("source", text("col.source")),
    Column("treated", text("col.treated"), "int"),
    Column("holdout", text("col.holdout"), "int"),
    Column("treated_conversion", text("col.conv_treated"), "pct", 1),
    Column("holdout_conversion", text("col.conv_holdout"), "pct", 1),
    Column("uplift", text("col.uplift"), "pct", 1),
    Column("interval", text("col.interval95")),
    Column("incremental_revenue", text("col.incremental_revenue"), "money"),
)


def plan_list_view(plans: PlansConfig) -> View:
    """The plans of ``parcours.yaml``: trigger, audience, channel, priority, cooldown, holdout."""
    rows = []
    for name, p in plans.scenarios.items():
        t = p.trigger
        when = t.kind + (f" +{t.days}" + ("" if t.days == "auto" else "d") if t.days else "")
        audience = ", ".join(f"{k}={v}" for k, v in p.audience.items())
        rows.append(
            (
                name,
                when,
                audience or text("everyone"),
                word(p.channel),
                p.priority,
                p.cooldown_days,
                p.holdout_share,
                text("yes" if p.enabled else "no"),
            )
        )
    return View("plans", text("plans.list"), tables=[Table(PLAN_COLUMNS, tuple(rows))])


def plan_run_view(report: Any, *, preview: bool = False) -> View:
    """A day of plans (``PlanRun``): actions per plan, status and channel, suppressions, samples."""
    view = View("plan-run", text("plans.preview" if preview else "plans.run"))
    due = f"{report.due_at:%Y-%m-%d %H:%M}"
    view.notes.append(Note(text("plans.due", as_of=(report.as_of, "date"), due=due)))
    view.notes += [Note(text("plans.skipped", why=line), "warn") for line in report.skipped]
    per: Counter[tuple[str, str, str]] = Counter()
    reasons: Counter[str] = Counter()
    for c in report.counts:
        per[(c["plan"], c["status"], c["channel"] or "")] += c["persons"]
        if c["reason"]:
            reasons[c["reason"]] += c["persons"]
    if per:
        view.tables.append(
            Table(
                ACTION_COLUMNS,
                tuple((p, word(s), word(ch), n) for (p, s, ch), n in sorted(per.items())),
                text("plans.would" if preview else "plans.decided"),
            )
        )
    else:
        view.notes.append(Note(text("plans.nothing")))
    if reasons:
        view.tables.append(
            Table(
                REASON_COLUMNS,
                tuple((word(r), n) for r, n in sorted(reasons.items())),
                text("plans.suppressed"),
            )
        )
    for s in report.samples:
        head = f"── {s['plan']} · {s['channel']} · {s['language']} ──"
        view.notes.append(
            Note(same(f"{head}\nto: {s['to']}\nsubject: {s['subject']}\n\n{s['body']}"))
        )
    if not preview and (report.sent or report.failed):
        view.notes.append(Note(text("plans.sent", sent=report.sent, failed=report.failed)))
    return view


def evaluation_view(rows: list[dict[str, Any]]) -> View:
    """Each plan's treated and holdout conversion, the uplift with its 95% interval, revenue."""
    view = View("plan-evaluation", text("plans.evaluation"), text("plans.evaluation.about"))
    view.tables.append(
        Table(
            EVALUATION_COLUMNS,
            tuple(
                tuple(_interval(r) if c.key == "interval" else r[c.key] for c in EVALUATION_COLUMNS)
                for r in rows
            ),
            text("plans.evaluation"),
        )
    )
    measured = [r for r in rows if r["uplift"] is not None and r["ci_low"] is not None]
    if measured:
        view.charts.append(
            Chart(
                "errorbar",
                text("plans.evaluation"),
                text("col.plan"),
                text("col.uplift"),
                series=(
                    Series(
                        text("col.uplift"),
                        tuple(f"{r['plan']} ({r['source']})" for r in measured),
                        tuple(r["uplift"] for r in measured),
                        low=tuple(r["uplift"] - r["ci_low"] for r in measured),
                        high=tuple(r["ci_high"] - r["uplift"] for r in measured),
                    ),
                ),
                value_kind="pct",
            )
        )
        proven = [r for r in measured if r["ci_low"] > 0]
        if proven:
            best = max(proven, key=lambda r: r["uplift"])
            view.findings.append(
                Finding(
                    text(
                        "plans.finding",
                        plan=best["plan"],
                        uplift=(100 * best["uplift"], "float"),
                        low=(100 * best["ci_low"], "float"),
                        high=(100 * best["ci_high"], "float"),
                        revenue=(best["incremental_revenue"] or 0.0, "money"),
                    ),
                    2,
                    (best["uplift"], best["incremental_revenue"] or 0.0),
                )
            )
    return view


def _interval(r: dict[str, Any]) -> Text | None:
    if r["ci_low"] is None:
        return None
    return text(
        "plans.interval", low=(100 * r["ci_low"], "float"), high=(100 * r["ci_high"], "float")
    )


def activation_views(engine: Engine) -> list[View]:
    """The report's CRM section: the journal by plan and status, then each plan measured."""
    views = []
    if has_rows(engine, CRM_ACTIONS.name):
        j = engine.table(CRM_ACTIONS.name)
        by = j.group_by(["plan", "status"]).aggregate(persons=j.count())
        counts = records(by.order_by(["plan", "status"]), engine)
        view = View("plan-journal", text("plans.journal"))
        view.tables.append(
            Table(
                (ACTION_COLUMNS[0], ACTION_COLUMNS[1], ACTION_COLUMNS[3]),
                tuple((r["plan"], word(r["status"]), r["persons"]) for r in counts),
                text("plans.journal"),
            )
        )
        views.append(view)
    if has_rows(engine, CRM_EVALUATION.name):
        views.append(evaluation_view(table_rows(engine, CRM_EVALUATION.name, ["plan", "source"])))
    return views
