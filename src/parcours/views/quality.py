"""Data and quality views: rows read, loaded and quarantined per file, reasons, coverage."""

from __future__ import annotations

from collections import Counter
from typing import Any

import ibis

from parcours.engine import Engine
from parcours.schema import (
    DATA_QUALITY,
    INGEST_LOG,
    INPUT_TABLES,
    ORDERS,
    QUARANTINE,
    SOURCE_FILE,
)
from parcours.views.locale import MESSAGES, text
from parcours.views.model import Chart, Column, Finding, Note, Series, Table, Text, View, same
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
    # Quarantine beside loaded rows is a sliver: its share per file reads at any size.
    flagged = [f for f in files if f["quarantined"]]
    if flagged:
        view.charts.append(
            Chart(
                "hbar",
                text("quality.chart"),
                text("col.quarantined_share"),
                text("col.file"),
                series=(
                    Series(
                        text("col.quarantined_share"),
                        tuple(f["quarantined"] / f["read"] for f in flagged),
                        tuple(f["source_file"] for f in flagged),
                    ),
                ),
                value_kind="pct",
            )
        )
    read = sum(f["read"] for f in files)
    quarantined = sum(f["quarantined"] for f in files)
    by_file = _reasons_by_file(engine)
    reasons = _reasons(by_file)
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
        count = Column("rows", text("col.rows"), "int")
        reason = Column("reason", text("col.reason"))
        per_file = [r for r in by_file if _rank_in_file(by_file, r) < REASONS_PER_FILE]
        views.append(
            View(
                "reasons",
                text("quality.reasons"),
                tables=[
                    Table((reason, count), tuple(reasons[:10]), text("quality.reasons")),
                    Table(
                        (Column("file", text("col.file")), reason, count),
                        tuple(
                            (r["file"], reason_text(r["field"], r["code"], r["limit"]), r["rows"])
                            for r in sorted(per_file, key=lambda r: (r["file"], -r["rows"]))
                        ),
                        text("quality.reasons.file"),
                    ),
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
                            (
                                n["kind"],
                                n["field"],
                                _finding_text(n["field"], n["finding"]),
                                n["rows"],
                                n["example"],
                            )
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


# Quarantine reasons are sentences written by ingest's row rules (``field: 'value' is below
# 0``); each rule is known here by a code, translated through the catalogue (``reason.<code>``).
# The first rule whose pattern the sentence holds gives its code; order matters.
REASON_RULES = (
    ("json", r"^not a JSON object"),
    ("missing", r"^[^:]+: missing value"),
    ("all_missing", r"^[^:]+: all missing"),
    ("below", r" is below "),
    ("above", r" is above the plausible maximum"),
    ("dates", r" is outside the plausible dates"),
    ("ambiguous", r" is ambiguous"),
    ("vocabulary", r" is not one of "),
    ("birth_date", r" is not a plausible birth date"),
    ("invalid", r" is not "),
)
# Reasons shown per file: the main ones.
REASONS_PER_FILE = 3
# Data-quality findings (values set to empty) are the same rules' short labels.
FINDING_CODES = {
    "below the minimum": "below",
    "above the plausible maximum": "above",
    "outside the plausible dates": "dates",
    "ambiguous decimal mark": "ambiguous",
    "not a known value": "vocabulary",
    "implausible": "birth_date",
}


def _reasons_by_file(engine: Engine) -> list[dict[str, Any]]:
    """Quarantined rows per file, field and rule, in the engine; a row counts once per reason."""
    if not has_rows(engine, QUARANTINE.name):
        return []
    q = engine.table(QUARANTINE.name)
    one = q.select(file=q[SOURCE_FILE], reason=q.reasons.split("; ").unnest())
    code = ibis.cases(
        *((one.reason.re_search(pattern), name) for name, pattern in REASON_RULES), else_="other"
    )
    coded = one.mutate(
        code=code,
        field=ibis.ifelse(one.reason.startswith("not a JSON"), "", one.reason.split(": ")[0]),
        limit=one.reason.re_extract(r" is below (\S+)$", 1),
    )
    grouped = coded.group_by(["file", "field", "code", "limit"]).aggregate(rows=coded.count())
    return records(grouped.order_by([ibis.desc("rows"), "file", "field"]), engine)


def reason_text(field: str, code: str, limit: str | None = None) -> Text:
    """A quarantine reason or a data-quality finding, in both languages, from its code."""
    key = f"reason.{code}" if f"reason.{code}" in MESSAGES else "reason.other"
    return text(key, field=field, limit=limit or "")


def _rank_in_file(by_file: list[dict[str, Any]], row: dict[str, Any]) -> int:
    """0 for the file's most frequent reason, 1 for the next... (rows come sorted by count)."""
    same_file = [r for r in by_file if r["file"] == row["file"]]
    return same_file.index(row)


def _finding_text(field: str, finding: str) -> Text:
    code = FINDING_CODES.get(finding, "invalid" if finding.startswith("not ") else "other")
    return reason_text(field, code) if code != "other" else same(f"{field}: {finding}")


def _reasons(by_file: list[dict[str, Any]]) -> list[tuple[Text, int]]:
    """Quarantine reasons over every file, most frequent first."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for r in by_file:
        counts[(r["field"], r["code"], r["limit"] or "")] += r["rows"]
    return [(reason_text(*key), n) for key, n in counts.most_common()]
