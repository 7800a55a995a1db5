"""The CRM journal, ``crm_actions``: every decision, keyed by plan, person and occurrence.

Decisions are appended in one batch, so a run stopped midway leaves the journal as it was and
the next run decides the same candidates again; an occurrence already in the journal is never
decided twice, except one held back by pressure (a cap, another plan first), decided again on
later days while its trigger holds: each such suppression keeps its own row. Deliveries
update their rows in small batches as they go.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from parcours.engine import Engine, arrow_rows, conform
from parcours.schema import CRM_ACTIONS, CUSTOMER_KEY

STAGE = "activation"


def journal_or_none(engine: Engine) -> ibis.Table | None:
    """The journal, or None before the first run."""
    return engine.table(CRM_ACTIONS.name) if engine.has_table(CRM_ACTIONS.name) else None


def action_id(plan: ibis.StringValue, person: ibis.StringValue, occurrence: ibis.StringValue):
    """A stable id per decision, also its message id and idempotency key at the provider."""
    return (plan + "|" + person + "|" + occurrence).hexdigest("md5").substr(0, 24)


def journal_rows(decisions: ibis.Table, as_of: dt.date, due: dt.datetime) -> ibis.Table:
    """Decisions as rows of ``crm_actions``."""
    d = decisions
    # A suppression may be followed by others and a decision on later days: each keeps a row of
    # its own, and the decision's id (its message id) stays the occurrence's.
    day = ibis.ifelse(d.status == "suppressed", "|" + ibis.literal(as_of.isoformat()), "")
    return conform(
        d.select(
            action_id=action_id(d.plan, d[CUSTOMER_KEY], d.occurrence + day),
            plan=d.plan,
            **{CUSTOMER_KEY: d[CUSTOMER_KEY]},
            occurrence=d.occurrence,
            detail=d.detail,
            channel=d.channel,
            route=d.route,
            decided_on=ibis.date(as_of),
            due_at=ibis.timestamp(due),
            status=d.status,
            reason=d.reason,
            subject=ibis.null("string"),
            sent_at=ibis.null("timestamp"),
            attempts=ibis.literal(0, "int64"),
        ),
        CRM_ACTIONS,
    )


def append(engine: Engine, rows: ibis.Table) -> None:
    """Add ``rows`` to the journal (inside the caller's batch)."""
    old = journal_or_none(engine)
    engine.write(CRM_ACTIONS.name, rows if old is None else old.union(rows), stage=STAGE)


def record_outcomes(engine: Engine, outcomes: list[dict]) -> None:
    """Write delivery outcomes; the other rows of the journal stay as they are.

    Each outcome holds ``action_id``, ``status``, ``reason``, ``subject``, ``sent_at`` and
    ``attempts``.
    """
    if not outcomes:
        return
    schema = pa.schema(
        [
            ("o_id", pa.string()),
            ("o_status", pa.string()),
            ("o_reason", pa.string()),
            ("o_subject", pa.string()),
            ("o_sent_at", pa.timestamp("us")),
            ("o_attempts", pa.int64()),
        ]
    )
    data = pa.Table.from_pylist(
        [
            {
                "o_id": o["action_id"],
                "o_status": o["status"],
                "o_reason": o.get("reason"),
                "o_subject": o.get("subject"),
                "o_sent_at": o.get("sent_at"),
                "o_attempts": o.get("attempts", 1),
            }
            for o in outcomes
        ],
        schema=schema,
    )
    with engine.batch():
        new = engine.from_arrow(data, "crm_outcomes")
        j = engine.table(CRM_ACTIONS.name)
        t = j.left_join(new, j.action_id == new.o_id)
        hit = t.o_id.notnull()
        updated = t.select(
            *[
                ibis.ifelse(hit, t[f"o_{c}"], t[c]).name(c)
                if c in ("status", "reason", "subject", "sent_at")
                else ibis.ifelse(hit, t[c] + t.o_attempts, t[c]).name(c)
                if c == "attempts"
                else t[c]
                for c in CRM_ACTIONS.column_names
            ]
        )
        engine.write(CRM_ACTIONS.name, updated, stage=STAGE)


def empty_journal(engine: Engine) -> ibis.Table:
    return engine.from_arrow(arrow_rows([], CRM_ACTIONS), "crm_actions_empty")
