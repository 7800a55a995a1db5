"""The loader: sealed segments of the collection log into the canonical tables.

Each message becomes canonical rows (``segment.canonical_rows``), written as JSON-lines files
per source and kind and loaded by the ordinary ingestion: the same validation, quarantine and
upsert by key, so a segment loaded twice adds nothing. Messages refused at collection go to
``quarantine`` with their reasons. Everything of one load commits together; the segments are
deleted only after.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from parcours.api.collect_log import CollectLog, read_segment
from parcours.api.paths import service_dir
from parcours.api.segment import canonical_rows
from parcours.engine import arrow_rows, conform
from parcours.ingest import ingest_files
from parcours.schema import (
    FILE_PATH,
    INGESTED_AT,
    ORDERS,
    QUARANTINE,
    SHA256,
    SOURCE,
    SOURCE_FILE,
    SOURCE_LINE,
)
from parcours.workspace import Workspace

log = logging.getLogger(__name__)

STAGING_DIR = "staging"
# Order matters: lines and statuses refer to orders loaded just before.
KINDS = ("customers", "orders", "order-lines", "events", "consents")
SEGMENT_KIND = "segment"


@dataclass
class LoadSummary:
    segments: int = 0
    messages: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0
    # (source, source_id) of the customer records an identify, order or consent touched.
    records: set[tuple[str, str]] = field(default_factory=set)


def staged_rows(
    segments: list[Path],
) -> tuple[dict[tuple[str, str], list[dict[str, Any]]], list[dict[str, Any]], int]:
    """Canonical rows per (source, kind), the refused messages as quarantine rows, the count."""
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    refused: list[dict[str, Any]] = []
    messages = 0
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    for path in segments:
        for line_no, record in enumerate(read_segment(path), start=1):
            source, channel = record["source"], record["channel"]
            for msg in record.get("valid", []):
                messages += 1
                for kind, kind_rows in canonical_rows(msg, channel).items():
                    rows.setdefault((source, kind), []).extend(kind_rows)
            for item in record.get("invalid", []):
                messages += 1
                raw = json.dumps(item["item"], sort_keys=True, default=str)
                refused.append(
                    {
                        "kind": SEGMENT_KIND,
                        SOURCE: source,
                        SOURCE_FILE: path.name,
                        FILE_PATH: f"api:{path.name}",
                        SHA256: hashlib.sha256(raw.encode()).hexdigest(),
                        SOURCE_LINE: line_no,
                        "raw": raw,
                        "reasons": "; ".join(item["reasons"]),
                        INGESTED_AT: now,
                    }
                )
    return rows, refused, messages


# Per kind of canonical row, the column naming the customer record; events only when they
# link a visitor or an alias to a customer.
_RECORD_OF = {"customers": "source_id", "orders": "customer_id", "consents": "customer_id"}
_LINKING_EVENTS = ("identify", "alias")


def touched_records(rows: dict[tuple[str, str], list[dict[str, Any]]]) -> set[tuple[str, str]]:
    """The customer records whose person a load changes (see ``api.live``)."""
    out = set()
    for (source, kind), kind_rows in rows.items():
        column = _RECORD_OF.get(kind, "customer_id" if kind == "events" else None)
        if column is None:
            continue
        for r in kind_rows:
            if r.get(column) and (kind != "events" or r.get("type") in _LINKING_EVENTS):
                out.add((source, str(r[column])))
    return out


def load_segments(ws: Workspace, collect_log: CollectLog) -> LoadSummary:
    """Move every sealed segment into the warehouse; the caller holds the write lock."""
    segments = collect_log.seal()
    summary = LoadSummary(segments=len(segments))
    if not segments:
        return summary
    rows, refused, summary.messages = staged_rows(segments)
    summary.records = touched_records(rows)
    staging = service_dir(ws.dir) / STAGING_DIR / segments[0].stem
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with ws.engine.batch():
            for kind in KINDS:
                for (source, k), kind_rows in sorted(rows.items()):
                    if k != kind or not kind_rows:
                        continue
                    path = staging / f"{source}-{kind}.jsonl"
                    path.write_text(
                        "".join(json.dumps(r, default=str) + "\n" for r in kind_rows),
                        encoding="utf-8",
                    )
                    report = ingest_files(ws, kind, [path], source=source, canonical=True)
                    if report.failures:
                        raise report.failures[0]
                    summary.rows[kind] = summary.rows.get(kind, 0) + len(kind_rows)
            statuses = [
                {SOURCE: source, **r}
                for (source, k), rs in rows.items()
                if k == "order-status"
                for r in rs
            ]
            if statuses:
                _set_order_status(ws, statuses)
            if refused:
                _quarantine(ws, refused)
                summary.quarantined = len(refused)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    collect_log.remove(segments)
    return summary


def _set_order_status(ws: Workspace, statuses: list[dict[str, Any]]) -> None:
    engine = ws.engine
    if not engine.has_table(ORDERS.name):
        return
    latest = {(s[SOURCE], s["order_id"]): s["status"] for s in statuses}  # the last one wins
    data = pa.Table.from_pylist(
        [{"_src": s, "_oid": o, "_status": st} for (s, o), st in latest.items()],
        schema=pa.schema([("_src", pa.string()), ("_oid", pa.string()), ("_status", pa.string())]),
    )
    table = engine.from_arrow(data, "_order_status")
    orders = engine.table(ORDERS.name)
    joined = orders.left_join(
        table, (orders[SOURCE] == table._src) & (orders.order_id == table._oid)
    )
    updated = joined.mutate(status=ibis.coalesce(joined._status, joined.status))
    engine.write(ORDERS.name, conform(updated, ORDERS), stage="collect")


def _quarantine(ws: Workspace, refused: list[dict[str, Any]]) -> None:
    engine = ws.engine
    new = engine.from_arrow(arrow_rows(refused, QUARANTINE), "_refused")
    if engine.has_table(QUARANTINE.name):
        old = engine.table(QUARANTINE.name)
        paths = sorted({r[FILE_PATH] for r in refused})
        new = conform(old.filter(~old[FILE_PATH].isin(paths)), QUARANTINE).union(
            conform(new, QUARANTINE)
        )
    engine.write(QUARANTINE.name, new, stage="collect")
