"""Privacy requests: everything parcours holds about one person, as one JSON document."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from parcours.api import profiles
from parcours.engine import Engine, is_work_table
from parcours.errors import UserInputError
from parcours.schema import CUSTOMER_KEY, CUSTOMERS, IDENTITY_MAP, SOURCE

# Input tables holding a source's customer id, and the column that holds it.
_RECORD_COLUMNS = {
    CUSTOMERS.name: "source_id",
    "orders": "customer_id",
    "events": "customer_id",
    "consents": "customer_id",
}


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
        elif name in _RECORD_COLUMNS and SOURCE in t.columns:
            col = _RECORD_COLUMNS[name]
            rows = t.semi_join(mine, (t[SOURCE] == mine._src) & (t[col] == mine._sid))
        else:
            continue
        found = engine.to_pyarrow(rows.limit(100_000)).to_pylist()
        if found:
            out["tables"][name] = found
    return out


__all__ = ["export", "person_key"]
