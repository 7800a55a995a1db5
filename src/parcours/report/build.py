"""Build the report: sections of views from the warehouse, rendered by one Jinja2 template."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from parcours.report.charts import figure_json
from parcours.schema import (
    CUSTOMER_PREDICTIONS,
    IDENTITY_MAP,
    INGEST_LOG,
    KPI_COHORTS,
    KPI_SEGMENTS,
    SEGMENT_LABELS,
)
from parcours.views.locale import fmt, text
from parcours.views.model import Lang, Section
from parcours.views.source import has_rows
from parcours.workspace import Workspace

REPORT_FILE = "report.html"
TOP_FINDINGS = 10


def sections(ws: Workspace) -> list[Section]:
    """Every section, or the line saying why it is left out."""
    from parcours.pipeline import missing_input, stage
    from parcours.views.cohorts import cohort_views
    from parcours.views.identity import identity_views
    from parcours.views.knowledge import kpi_view
    from parcours.views.prediction import prediction_views
    from parcours.views.quality import quality_views
    from parcours.views.segments import segment_views

    engine = ws.engine
    built = [
        ("quality", INGEST_LOG.name, None, lambda: quality_views(engine)),
        ("identity", IDENTITY_MAP.name, "resolve", lambda: identity_views(engine, ws.dir)),
        ("knowledge", KPI_SEGMENTS.name, "kpis", lambda: [kpi_view(engine)]),
        ("segments", SEGMENT_LABELS.name, "segments", lambda: segment_views(engine)),
        ("cohorts", KPI_COHORTS.name, "kpis", lambda: cohort_views(engine)),
        ("prediction", CUSTOMER_PREDICTIONS.name, "clv", lambda: prediction_views(engine)),
    ]
    out = []
    for key, table, stage_name, views in built:
        section = Section(key, text(f"section.{key}"))
        if has_rows(engine, table):
            section.views = views()
        else:
            need = missing_input(ws, stage(stage_name).needs) if stage_name else None
            if need is not None:
                reason = f"{need.missing} ({need.command})"
            else:
                reason = text("report.skipped.run", command=f"parcours {stage_name or 'ingest'}").en
            section.skipped = text("report.skipped", reason=reason)
        out.append(section)
    return out


def render(ws: Workspace, lang: Lang = "en") -> str:
    """The report as one HTML page with Plotly's JS inlined: it opens offline."""
    from plotly.offline import get_plotlyjs

    parts = sections(ws)
    findings = sorted(((f, s) for s in parts for f in s.findings), key=lambda p: -p[0].weight)[
        :TOP_FINDINGS
    ]
    env = Environment(
        loader=PackageLoader("parcours.report", "templates"), autoescape=select_autoescape()
    )
    return env.get_template("report.html.j2").render(
        lang=lang,
        t=lambda key, **v: text(key, **v)(lang),
        fmt=lambda value, column: fmt(value, column.kind, lang, column.digits),
        sections=parts,
        findings=findings,
        chart_json=lambda chart: figure_json(chart, lang),
        plotly_js=get_plotlyjs(),
        today=fmt(dt.date.today(), "date", lang),
    )


def write_report(ws: Workspace, out: Path | None = None, lang: Lang = "en") -> Path:
    """Write the report (default: report.html in the workspace) and return its path."""
    path = Path(out) if out else ws.dir / REPORT_FILE
    path.write_text(render(ws, lang), encoding="utf-8")
    return path
