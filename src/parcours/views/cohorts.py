"""Cohort views: retention and cumulative revenue per customer by acquisition month."""

from __future__ import annotations

from parcours.engine import Engine
from parcours.schema import KPI_COHORTS
from parcours.views.locale import text
from parcours.views.model import Chart, Finding, View
from parcours.views.source import records

# Months after acquisition shown in the triangles: two years is what a plan looks at.
MONTHS = 24


def cohort_views(engine: Engine) -> list[View]:
    c = engine.table(KPI_COHORTS.name)
    rows = records(
        c.filter((c.first_channel == "all") & (c.months_since <= MONTHS)).order_by(
            ["cohort_month", "months_since"]
        ),
        engine,
    )
    if not rows:
        return []
    cohorts = sorted({r["cohort_month"] for r in rows})
    months = tuple(range(0, max(r["months_since"] for r in rows) + 1))
    cell = {(r["cohort_month"], r["months_since"]): r for r in rows}
    labels = tuple(m.strftime("%Y-%m") for m in cohorts)
    view = View("cohorts", text("section.cohorts"))
    for key, title, kind in (
        ("retention", "cohort.retention", "pct"),
        ("cumulative_revenue_per_customer", "cohort.revenue", "money"),
    ):
        view.charts.append(
            Chart(
                "heatmap",
                text(title),
                text("col.months_since"),
                text("col.cohort"),
                x=months,
                y=labels,
                z=tuple(
                    tuple(cell[(m, k)][key] if (m, k) in cell else None for k in months)
                    for m in cohorts
                ),
                value_kind=kind,
            )
        )
    second = [cell[(m, 2)]["retention"] for m in cohorts if (m, 2) in cell]
    if second:
        rate = sum(second) / len(second)
        view.findings.append(
            Finding(text("cohort.finding.retention", rate=(rate, "pct")), 2.5, (rate,))
        )
    year = [cell[(m, 11)]["cumulative_revenue_per_customer"] for m in cohorts if (m, 11) in cell]
    if year:
        value = sum(year) / len(year)
        view.findings.append(
            Finding(
                text("cohort.finding.value", value=(value, "money"), cohorts=(len(year), "int")),
                2.5,
                (value, len(year)),
            )
        )
    return [view]
