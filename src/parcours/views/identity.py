"""Single customer view: records to persons, how they joined, sizes, what was held apart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis

from parcours.engine import Engine
from parcours.schema import CUSTOMER_KEY, IDENTITY_MAP, IDENTITY_REVIEW
from parcours.views.locale import MESSAGES, text
from parcours.views.model import Chart, Column, Finding, Note, Series, Table, Text, View, same
from parcours.views.source import has_rows, records

JOINED = (Column("method", text("col.method")), Column("records", text("col.records"), "int"))
SIZES = (Column("records", text("col.records")), Column("persons", text("col.persons"), "int"))


def resolve_view(summary: Any) -> View:
    """What a resolve did, as ``parcours resolve`` prints it."""
    view = View("resolve", text("section.identity"))
    info = view.notes.append
    info(_line(f"{summary.records:,} records -> {summary.persons:,} persons ({summary.scored})"))
    match = summary.match
    if match.threshold is not None:
        info(
            _line(
                f"match threshold {match.threshold:.3f} ({match.threshold_reason}); estimated "
                f"precision {match.estimated_precision:.3f}, recall {match.estimated_recall:.3f}"
            )
        )
    if match.compared:
        info(_line(f"compared: {', '.join(match.compared)}"))
    if match.blocking:
        missed = (
            f"; estimated share of true pairs no rule compares: {match.unblocked_share:.1%}"
            if match.unblocked_share is not None
            else ""
        )
        info(_line(f"pairs compared when equal on: {'; '.join(match.blocking)}{missed}"))
    for line in match.training:
        info(_line(f"training: {line}"))
    for line in match.priors:
        info(_line(f"prior used, too little data to estimate: {line}", "warn"))
    view.tables += [
        Table(JOINED, tuple(summary.joined_by.items()), text("identity.joined")),
        Table(SIZES, tuple(summary.cluster_sizes), text("identity.sizes")),
    ]
    if summary.changes:
        view.tables.append(
            Table(
                (Column("change", text("col.change")), Column("keys", text("col.keys"), "int")),
                tuple(summary.changes.items()),
                text("identity.changes"),
            )
        )
    view.tables.append(
        Table(
            (
                Column("source", text("col.source")),
                Column("records", text("col.records"), "int"),
                Column("no_contact", text("col.no_contact"), "int"),
                Column("no_name", text("col.no_name"), "int"),
            ),
            tuple(summary.quality),
            text("identity.sources"),
        )
    )
    for line in summary.overrides:
        info(_line(f"override honoured: {line}"))
    for item in summary.review:
        info(
            _line(
                f"held apart for review: {item.subject} ({item.records} records): {item.reason}",
                "warn",
            )
        )
    for reason, values in summary.shared_identifiers:
        info(
            _line(
                f"{values} values not used to join records: {reason}; "
                'hint: parcours sql "select * from identity_review"',
                "warn",
            )
        )
    return view


def _line(line: str, level: str = "info") -> Note:
    return Note(same(line), level)  # type: ignore[arg-type]


def identity_views(engine: Engine, workspace_dir: Path) -> list[View]:
    """The report's single-customer-view section, from identity_map and the match run."""
    m = engine.table(IDENTITY_MAP.name)
    joined = records(
        m.group_by("method").aggregate(records=m.count()).order_by(ibis.desc("records")), engine
    )
    per = m.group_by(CUSTOMER_KEY).aggregate(n=m.count())
    capped = per.mutate(size=ibis.ifelse(per.n >= 5, "5+", per.n.cast("string")))
    sizes = records(
        capped.group_by("size").aggregate(persons=capped.count()).order_by("size"), engine
    )
    total = sum(r["records"] for r in joined)
    persons = sum(r["persons"] for r in sizes)
    view = View("identity", text("section.identity"))
    view.tables += [
        Table(
            JOINED,
            tuple((method_text(r["method"]), r["records"]) for r in joined),
            text("identity.joined"),
        ),
        Table(SIZES, tuple((r["size"], r["persons"]) for r in sizes), text("identity.sizes")),
    ]
    view.charts += [
        Chart(
            "bar",
            text("identity.joined"),
            text("col.method"),
            text("col.records"),
            series=(
                Series(
                    text("col.records"),
                    tuple(method_text(r["method"]) for r in joined),
                    tuple(r["records"] for r in joined),
                ),
            ),
        ),
        Chart(
            "bar",
            text("identity.sizes"),
            text("col.records"),
            text("col.persons"),
            series=(
                Series(
                    text("col.persons"),
                    tuple(r["size"] for r in sizes),
                    tuple(r["persons"] for r in sizes),
                ),
            ),
        ),
    ]
    view.findings.append(
        Finding(
            text(
                "identity.finding.persons",
                records=(total, "int"),
                persons=(persons, "int"),
                merged=(total - persons, "int"),
            ),
            2 + 10 * (total - persons) / max(total, 1),
            (total, persons, total - persons),
        )
    )
    run = _match_run(workspace_dir)
    if run.get("threshold") is not None and run.get("estimated_precision") is not None:
        view.findings.append(
            Finding(
                text(
                    "identity.finding.precision",
                    threshold=(run["threshold"], "float", 3),
                    precision=(run["estimated_precision"], "pct", 1),
                ),
                1,
                (run["threshold"], run["estimated_precision"]),
            )
        )
    if has_rows(engine, IDENTITY_REVIEW.name):
        r = engine.table(IDENTITY_REVIEW.name)
        held = records(r.aggregate(count=r.count(), records=r.records.sum()), engine)[0]
        view.findings.append(
            Finding(
                text(
                    "identity.finding.review",
                    count=(held["count"], "int"),
                    records=(held["records"], "int"),
                ),
                1.5,
                (held["count"], held["records"]),
            )
        )
        by = r.group_by("reason").aggregate(merges=r.count(), records=r.records.sum())
        top = records(by.order_by(ibis.desc("records")).limit(10), engine)
        view.tables.append(
            Table(
                (
                    Column("reason", text("col.reason")),
                    Column("merges", text("col.merges"), "int"),
                    Column("records", text("col.records"), "int"),
                ),
                tuple((review_text(t["reason"]), t["merges"], t["records"]) for t in top),
                text("identity.review"),
            )
        )
    return [view]


# Reasons identity_review holds: "<method> <rule>", each rule translated by its code.
REVIEW_RULES = (
    ("shared", " shared by people with other names"),
    ("too_many", " held by too many records"),
)


def method_text(method: str) -> Text:
    """A joining method (``identity_map.method``) in both languages."""
    key = f"method.{method}"
    return text(key) if key in MESSAGES else same(method)


def review_text(reason: str) -> Text:
    """A reason for holding a merge apart, in both languages."""
    for code, rule in REVIEW_RULES:
        if reason.endswith(rule):
            identifier = reason[: -len(rule)]
            key = f"identifier.{identifier}"
            return text(f"review.{code}", method=text(key) if key in MESSAGES else same(identifier))
    return same(reason)


def _match_run(workspace_dir: Path) -> dict:
    from parcours.identity.matching import _threshold_file
    from parcours.identity.resolve import MODEL_FILE

    path = _threshold_file(Path(workspace_dir) / MODEL_FILE)
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
