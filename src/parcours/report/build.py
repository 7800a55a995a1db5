"""Build the report: sections of views from the warehouse, rendered by one Jinja2 template."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from parcours.pipeline import missing_input, run, stage
from parcours.report.charts import figure_json
from parcours.schema import CUSTOMER_PROFILE
from parcours.views.locale import fmt, text
from parcours.views.model import Lang, Section
from parcours.views.sections import SECTIONS
from parcours.views.source import has_rows, records
from parcours.workspace import Workspace

REPORT_FILE = "report.html"
TOP_FINDINGS = 10


def sections(ws: Workspace) -> list[Section]:
    """Every section with its views, or the line saying why it is left out."""
    out = []
    for source in SECTIONS:
        section = Section(source.key, text(f"section.{source.key}"))
        if has_rows(ws.engine, source.table):
            section.views = source.build(ws)
        else:
            need = missing_input(ws, stage(source.stage).needs) if source.stage else None
            if need is not None:
                reason = text("report.skipped.need", missing=need.text, command=need.command)
            else:
                command = source.command or f"parcours {source.stage or 'ingest'}"
                reason = text("report.skipped.run", command=command)
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
        as_of=_as_of(ws),
    )


def _as_of(ws: Workspace) -> dict | None:
    """The date the profile describes and its buyers, for the report's subtitle."""
    engine = ws.engine
    if not has_rows(engine, CUSTOMER_PROFILE.name):
        return None
    p = engine.table(CUSTOMER_PROFILE.name)
    row = records(p.aggregate(as_of=p.as_of.max(), buyers=(p.orders > 0).sum()), engine)[0]
    return {"as_of": (row["as_of"], "date"), "customers": (row["buyers"], "int")}


def write_report(
    ws: Workspace, out: Path | None = None, lang: Lang = "en", as_of: dt.date | None = None
) -> Path:
    """Write the report (default: report.html in the workspace) and return its path.

    With ``as_of``, the pipeline runs first as of that date (every stage uses only what was
    known then, and its tables are replaced, as ``parcours run --as-of`` does).
    """
    if as_of is not None:
        run(ws, as_of, show=False)
    path = Path(out) if out else ws.dir / REPORT_FILE
    path.write_text(render(ws, lang), encoding="utf-8")
    return path
