"""Monitoring views: the incidents found against the baselines, explained, and the run's counts."""

from __future__ import annotations

from typing import Any

import pandas as pd

from parcours.engine import Engine
from parcours.schema import MONITOR_ANOMALIES, MONITOR_CUSTOMERS
from parcours.views.locale import joined, text, word
from parcours.views.model import Column, Finding, Note, Table, View, same

INCIDENT_COLUMNS = (
    Column("start", text("col.start"), "date"),
    Column("end", text("col.end"), "date"),
    Column("kpi", text("col.kpi")),
    Column("where", text("col.where")),
    Column("kind", text("col.kind")),
    Column("severity", text("col.severity")),
    Column("relative", text("col.relative_gap"), "pct", 0),
    Column("explanation", text("col.explanation")),
)


def incidents_table(found: pd.DataFrame | None, limit: int | None = None) -> Table:
    """Incidents, the latest and largest first."""
    if found is None or found.empty:
        return Table(INCIDENT_COLUMNS, ())
    f = found.sort_values(["end", "score"], ascending=[False, False]).head(limit or len(found))
    rows = tuple(
        (
            pd.Timestamp(r["start"]).date(),
            pd.Timestamp(r["end"]).date(),
            word(r["kpi"]),
            word("overall")
            if r["dimension"] == "all"
            else joined(r["dimension"], r["dimension_value"], sep=" "),
            word(r["kind"]),
            word(r["severity"]),
            None if pd.isna(r["relative"]) else float(r["relative"]),
            r["explanation"],
        )
        for _, r in f.iterrows()
    )
    return Table(INCIDENT_COLUMNS, rows)


def monitor_run_view(report: Any) -> View:
    """What ``parcours monitor`` found and sent."""
    view = View("monitor", text("section.monitor"))
    methods = ", ".join(f"{n} {m}" for m, n in sorted(report.methods.items()))
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.kinds.items())) or "none"
    lines = [
        f"{report.series} series as of {report.as_of} ({methods})",
        f"{report.incidents} incidents ({kinds})",
        f"{report.customers} customers to review (monitor_customers)",
    ]
    if report.alerts_sent or report.alerts_failed:
        lines.append(f"alerts: {report.alerts_sent} sent, {report.alerts_failed} failed")
    view.notes.extend(Note(same(line)) for line in lines)
    if report.new is not None and len(report.new):
        table = incidents_table(report.new, 20)
        view.tables.append(
            Table(table.columns, table.rows, text("monitor.new", count=(len(report.new), "int")))
        )
    return view


def incidents_view(found: pd.DataFrame) -> View:
    """The incidents listed by ``parcours monitor --list``."""
    table = incidents_table(found)
    titled = Table(table.columns, table.rows, text("monitor.all", count=(len(found), "int")))
    return View("incidents", text("section.monitor"), tables=[titled])


def monitoring_views(engine: Engine) -> list[View]:
    """The report's monitoring section: incidents of the last run, customers to review."""
    found = engine.execute(engine.table(MONITOR_ANOMALIES.name))
    review = int(engine.execute(engine.table(MONITOR_CUSTOMERS.name).count()))
    view = View("monitor", text("section.monitor"), description=text("monitor.description"))
    view.tables.append(incidents_table(found, 30))
    view.findings.append(
        Finding(
            text("monitor.finding", incidents=(len(found), "int"), customers=(review, "int")),
            weight=0.5,
            figures=(len(found), review),
        )
    )
    return [view]
