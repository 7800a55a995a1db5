"""Data and quality views: rows read, loaded and quarantined per file, reasons, coverage."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from parcours.engine import Engine
from parcours.schema import DATA_QUALITY, INGEST_LOG, INPUT_TABLES, ORDERS, QUARANTINE
from parcours.views.locale import text
from parcours.views.model import Chart, Column, Finding, Note, Series, Table, View, same
from parcours.views.source import has_rows, records

FILE_COLUMNS = (
    Column("file", text("col.file")),
    Column("kind", text("col.kind")),
    Column("source", text("col.source")),
    Column("read", text("col.read"), "int"),
    Column("loaded", text("col.loaded"), "int"),
    Column("new", text("col.new"), "int"),
    Column("updated", text("col.updated"), "int"),
    Column("quarantined", text("col.quarantined"), "int"),
)


def ingest_view(report: Any) -> View:
    """What an ingest did: counts per file; nulled values, duplicates, quarantine as warnings."""
    view = View("ingest", text("quality.files"))
    if report.files:
        view.tables.append(
            Table(
                FILE_COLUMNS,
                tuple(
                    (f.file, f.kind, f.source, f.read, f.loaded, f.new, f.updated, f.quarantined)
                    for f in report.files
                ),
            )
        )
    warn = view.notes.append
    for f in report.files:
        for field, finding, rows, example in f.findings:
            warn(
                _warn(f"{f.file}: {field}: {rows} values set to null ({finding}, e.g. {example!r})")
            )
        if f.duplicates:
            warn(
                _warn(
                    f"{f.file}: {f.duplicates} ids on several rows with different values, the "
                    f"last row kept (e.g. {'; '.join(f.duplicate_examples)})"
                )
            )
        if f.ignored_columns:
            warn(_warn(f"{f.file}: columns not used: {', '.join(f.ignored_columns)}"))
        for problem in f.examples:
            warn(_warn(str(problem)))
        if f.suppressed:
            warn(_warn(f"{f.file}: {f.suppressed} rows of erased persons dropped (privacy erase)"))
        if f.quarantined:
            warn(
                _warn(
                    f"{f.file}: {f.quarantined} rows quarantined, {f.loaded} loaded; "
                    'hint: parcours sql "select * from quarantine" lists every reason'
                )
            )
    for failure in report.failures:
        view.notes.append(Note(same(str(failure.problem)), "error"))
    return view


def _warn(line: str) -> Note:
    return Note(same(line), "warn")


def warehouse_view(engine: Engine) -> View:
    """Rows per input table and in quarantine."""
    rows = tuple(
        (spec.name, int(engine.execute(engine.table(spec.name).count())))
        for spec in (*INPUT_TABLES, QUARANTINE)
        if engine.has_table(spec.name)
    )
    columns = (Column("table", text("col.table")), Column("rows", text("col.rows"), "int"))
    return View(
        "warehouse",
        text("quality.warehouse"),
        tables=[Table(columns, rows, text("quality.warehouse"))],
    )


def quality_views(engine: Engine) -> list[View]:
    """The report's data section: files, quarantine reasons, nulled values, date coverage."""
    log = engine.table(INGEST_LOG.name)
    files = records(
        log.group_by(["source_file", "kind", "source"])
        .aggregate(
            read=log.rows_read.sum(),
            loaded=log.rows_loaded.sum(),
            new=log.rows_new.sum(),
            updated=log.rows_updated.sum(),
            quarantined=log.rows_quarantined.sum(),
        )
        .order_by(["kind", "source_file"]),
        engine,
    )
    rows = tuple(
        (
            f["source_file"],
            f["kind"],
            f["source"],
            f["read"],
            f["loaded"],
            f["new"],
            f["updated"],
            f["quarantined"],
        )
        for f in files
    )
    view = View("files", text("quality.files"), text("quality.files.desc"))
    view.tables.append(Table(FILE_COLUMNS, rows))
    names = tuple(f["source_file"] for f in files)
    view.charts.append(
        Chart(
            "stacked",
            text("quality.chart"),
            text("col.rows"),
            text("col.file"),
            series=(
                Series(text("col.loaded"), tuple(f["loaded"] for f in files), names),
                Series(text("col.quarantined"), tuple(f["quarantined"] for f in files), names),
            ),
        )
    )
    read = sum(f["read"] for f in files)
    quarantined = sum(f["quarantined"] for f in files)
    reasons = _reasons(engine)
    if quarantined and reasons:
        view.findings.append(
            Finding(
                text(
                    "quality.finding.quarantine",
                    quarantined=(quarantined, "int"),
                    read=(read, "int"),
                    share=(quarantined / read, "pct", 2),
                    reason=reasons[0][0],
                ),
                weight=2 + 50 * quarantined / max(read, 1),
                figures=(quarantined, read),
            )
        )
    elif read:
        view.findings.append(Finding(text("quality.finding.clean", read=(read, "int")), 1, (read,)))
    views = [view]
    if reasons:
        views.append(
            View(
                "reasons",
                text("quality.reasons"),
                tables=[
                    Table(
                        (
                            Column("reason", text("col.reason")),
                            Column("rows", text("col.rows"), "int"),
                        ),
                        tuple(reasons[:10]),
                    )
                ],
            )
        )
    if has_rows(engine, DATA_QUALITY.name):
        dq = engine.table(DATA_QUALITY.name)
        nulls = records(
            dq.group_by(["kind", "field", "finding"])
            .aggregate(rows=dq.rows.sum(), example=dq.example.max())
            .order_by([dq.rows.sum().desc()])
            .limit(15),
            engine,
        )
        views.append(
            View(
                "nulls",
                text("quality.nulls"),
                tables=[
                    Table(
                        (
                            Column("kind", text("col.kind")),
                            Column("field", text("col.field")),
                            Column("finding", text("col.finding")),
                            Column("rows", text("col.rows"), "int"),
                            Column("example", text("col.example")),
                        ),
                        tuple(
                            (n["kind"], n["field"], n["finding"], n["rows"], n["example"])
                            for n in nulls
                        ),
                    )
                ],
            )
        )
    if has_rows(engine, ORDERS.name):
        o = engine.table(ORDERS.name)
        span = records(o.aggregate(first=o.ordered_at.min(), last=o.ordered_at.max()), engine)[0]
        first, last = span["first"].date(), span["last"].date()
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        views.append(
            View(
                "coverage",
                text("quality.coverage"),
                findings=[
                    Finding(
                        text(
                            "quality.finding.coverage",
                            first=(first, "date"),
                            last=(last, "date"),
                            months=(months, "int"),
                        ),
                        0.5,
                        (months,),
                    )
                ],
            )
        )
    return views


def _reasons(engine: Engine) -> list[tuple[str, int]]:
    """Quarantine reasons by rows; a row with several reasons counts for each."""
    if not has_rows(engine, QUARANTINE.name):
        return []
    q = engine.table(QUARANTINE.name)
    # Reasons are joined by "; " and name their field first: count the field's reason kind.
    first = q.reasons.split("; ").unnest().name("reason")
    parts = q.select(reason=first)
    by = records(parts.group_by("reason").aggregate(rows=parts.count()), engine)
    counts: Counter[str] = Counter()
    for r in by:
        counts[_generic(r["reason"])] += r["rows"]
    return counts.most_common()


def _generic(reason: str) -> str:
    """``ordered_at: '31/02/2024' is not a valid date`` -> ``ordered_at: is not a valid date``."""
    field, _, rest = reason.partition(": ")
    rest = re.sub(r"\s*\(expected.*\)$", "", re.sub(r"'[^']*'\s*", "", rest)).strip()
    return f"{field}: {rest}" if rest else reason
