"""Small hand-made identity cases, ingested through the real path."""

from __future__ import annotations

from pathlib import Path

from parcours.ingest import ingest_files
from parcours.workspace import Workspace
from tests.conftest import write

HEADER = (
    "source_id,email,phone,first_name,last_name,birth_date,address_line1,postal_code,city,"
    "loyalty_id,created_at\n"
)


def ingest_customers(ws: Workspace, tmp_path: Path, source: str, rows: list[str]) -> None:
    path = write(tmp_path / f"{source}-customers-{len(rows)}.csv", HEADER + "\n".join(rows) + "\n")
    report = ingest_files(ws, "customers", [path], source=source)
    assert not report.failures and not report.files[0].quarantined


def keys(ws: Workspace) -> dict[str, str]:
    """``source:source_id`` -> customer_key."""
    m = ws.engine.to_pyarrow(ws.engine.table("identity_map")).to_pylist()
    return {f"{r['source']}:{r['source_id']}": r["customer_key"] for r in m}
