"""Privacy requests: export everything parcours holds about one person, or erase it.

Erasure removes the person's rows from every table (orders stay, de-identified, for
accounting), suppresses their identifiers as salted hashes so no later ingest or event brings
them back, drops their messages from the collection log, and compacts the warehouse into a new
file: DuckDB leaves deleted values in freed blocks until they are overwritten, and those bytes
must not stay in the workspace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import ibis
import pyarrow as pa

from parcours.api import profiles
from parcours.api.collect_log import CollectLog
from parcours.api.errors import NotFoundError
from parcours.engine import Engine, is_work_table
from parcours.errors import UserInputError
from parcours.schema import CUSTOMER_KEY, CUSTOMERS, IDENTITY_MAP, ORDERS, QUARANTINE, SOURCE
from parcours.snapshot import discard as discard_snapshot
from parcours.suppression import ANONYMOUS, EMAIL, PHONE, RECORD, RECORD_COLUMNS, Suppression
from parcours.workspace import Workspace


def person_key(engine: Engine, who: str) -> str:
    """The customer_key of ``SOURCE:ID`` or of an email; UserInputError when unknown."""
    try:
        if "@" in who:
            return profiles.key_of(engine, email=who)
        if ":" in who:
            return profiles.key_of(engine, source_id=who)
    except Exception as e:  # NotFoundError: the person is unknown
        raise UserInputError(f"{who}: {e}", hint="give SOURCE:ID or an email") from None
    raise UserInputError(f"{who!r} is neither SOURCE:ID nor an email", hint="e.g. web:u1")


def export(engine: Engine, key: str) -> dict[str, Any]:
    """Every row of every table that is about the person ``key``, by table name."""
    ids = engine.table(IDENTITY_MAP.name)
    records = engine.to_pyarrow(ids.filter(ids[CUSTOMER_KEY] == key).select(SOURCE, "source_id"))
    if records.num_rows == 0:
        raise UserInputError(f"no person with customer_key {key!r}")
    mine = engine.from_arrow(
        pa.table({"_src": records[SOURCE], "_sid": records["source_id"]}), "_person_records"
    )
    out: dict[str, Any] = {CUSTOMER_KEY: key, "tables": {}}
    for name in sorted(engine.con.list_tables()):
        if is_work_table(name) or name.startswith("_"):
            continue
        t = engine.table(name)
        if CUSTOMER_KEY in t.columns:
            rows = t.filter(t[CUSTOMER_KEY] == key)
        elif name in RECORD_COLUMNS and SOURCE in t.columns:
            col = RECORD_COLUMNS[name]
            rows = t.semi_join(mine, (t[SOURCE] == mine._src) & (t[col] == mine._sid))
        else:
            continue
        found = engine.to_pyarrow(rows.limit(100_000)).to_pylist()
        if found:
            out["tables"][name] = found
    return out


@dataclass
class ErasureSummary:
    """What an erasure removed: rows per table, orders de-identified, log messages dropped."""

    customer_key: str
    records: int
    rows: dict[str, int] = field(default_factory=dict)
    orders_deidentified: int = 0
    log_messages: int = 0


@dataclass
class _Person:
    key: str
    records: list[tuple[str, str]]  # (source, source_id)
    emails: list[str]
    phones: list[str]
    visitors: list[str]  # anonymous ids seen with the person's records

    @property
    def rids(self) -> list[str]:
        return [f"{s}:{i}" for s, i in self.records]

    @property
    def tokens(self) -> list[str]:
        """Values unique enough to be searched inside any text (a raw row, a JSON)."""
        return [t for t in (*self.emails, *self.phones, *self.visitors) if len(t) >= 6]


def _person(engine: Engine, key: str) -> _Person:
    ids = engine.table(IDENTITY_MAP.name)
    records = engine.to_pyarrow(ids.filter(ids[CUSTOMER_KEY] == key).select(SOURCE, "source_id"))
    pairs = list(zip(records[SOURCE].to_pylist(), records["source_id"].to_pylist(), strict=True))
    if not pairs:
        raise NotFoundError(f"no person with customer_key {key!r}")
    rids = [f"{s}:{i}" for s, i in pairs]
    emails, phones, visitors = set(), set(), set()
    if engine.has_table(CUSTOMERS.name):
        c = engine.table(CUSTOMERS.name)
        found = engine.to_pyarrow(
            c.filter((c[SOURCE] + ":" + c.source_id).isin(rids)).select("email", "phone")
        )
        emails = {e for e in found["email"].to_pylist() if e}
        phones = {p for p in found["phone"].to_pylist() if p}
    if engine.has_table("events"):
        e = engine.table("events")
        found = engine.to_pyarrow(
            e.filter((e[SOURCE] + ":" + e.customer_id).isin(rids) & e.anonymous_id.notnull())
            .select("anonymous_id")
            .distinct()
        )
        visitors = set(found["anonymous_id"].to_pylist())
    return _Person(key, pairs, sorted(emails), sorted(phones), sorted(visitors))


def _column_hit(column: ibis.StringValue, person: _Person) -> ibis.BooleanValue:
    hit = column.isin(person.rids)
    for token in person.tokens:
        hit = hit | column.contains(token)
    return hit.fill_null(False)


def _person_rows(name: str, t: ibis.Table, person: _Person) -> ibis.BooleanValue:
    """True on the rows of table ``name`` that hold the person's data."""
    found = ibis.literal(False)
    if CUSTOMER_KEY in t.columns:
        found = found | (t[CUSTOMER_KEY] == person.key).fill_null(False)
    column = RECORD_COLUMNS.get(name)
    if column in t.columns and SOURCE in t.columns:
        found = found | (t[SOURCE] + ":" + t[column]).isin(person.rids).fill_null(False)
    if name == QUARANTINE.name:  # a refused row of the person's record, found by its id
        for source, sid in person.records:
            found = found | ((t[SOURCE] == source) & t.raw.contains(json.dumps(sid))).fill_null(
                False
            )
    for c, dtype in t.schema().items():
        if dtype.is_string():
            found = found | _column_hit(t[c], person)
    return found


def erase(ws: Workspace, key: str, collect_log: CollectLog | None = None) -> ErasureSummary:
    """Erase the person ``key`` from the workspace; the caller holds the write lock.

    Parameters
    ----------
    ws
        The workspace, its engine open for writing.
    key
        The person's customer_key.
    collect_log
        The running server's collection log; None opens the workspace's own.
    """
    engine = ws.engine
    person = _person(engine, key)
    summary = ErasureSummary(key, len(person.records))
    with engine.batch():
        for name in sorted(engine.con.list_tables()):
            if is_work_table(name) or name.startswith("_"):
                continue
            t = engine.table(name)
            found = _person_rows(name, t, person)
            hits = int(engine.execute(t.filter(found).count()))
            if not hits:
                continue
            if name == ORDERS.name:
                engine.write(name, _deidentified(t, person), stage="privacy")
                summary.orders_deidentified = hits
            else:
                engine.write(name, t.filter(~found), stage="privacy")
                summary.rows[name] = hits
    Suppression(ws.dir).add(
        [(RECORD, r) for r in person.rids]
        + [(EMAIL, e) for e in person.emails]
        + [(PHONE, p) for p in person.phones]
        + [(ANONYMOUS, v) for v in person.visitors]
    )
    log = collect_log or CollectLog(ws.dir, max_bytes=1 << 62)
    user_ids = {sid for _, sid in person.records}
    summary.log_messages = log.rewrite(lambda m: not _about(m, person, user_ids))
    engine.compact()
    discard_snapshot(ws.dir / ws.config.database)
    return summary


def _deidentified(orders: ibis.Table, person: _Person) -> ibis.Table:
    """The orders with the person's ids and any value holding their data set to null."""
    mine = (orders[SOURCE] + ":" + orders.customer_id).isin(person.rids).fill_null(False)
    changes = {"customer_id": ibis.ifelse(mine, ibis.null(str), orders.customer_id)}
    for c, dtype in orders.schema().items():
        if dtype.is_string() and c not in (SOURCE, "order_id", "customer_id"):
            changes[c] = ibis.ifelse(_column_hit(orders[c], person), ibis.null(str), orders[c])
    return orders.mutate(**changes)


def _about(message: Any, person: _Person, user_ids: set[str]) -> bool:
    if not isinstance(message, dict):
        return False
    if str(message.get("userId")) in user_ids:
        return True
    text = json.dumps(message, default=str)
    return any(token in text for token in person.tokens)


__all__ = ["ErasureSummary", "erase", "export", "person_key"]
