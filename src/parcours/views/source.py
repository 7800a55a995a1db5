"""Reading the warehouse tables a view shows: small, already aggregated results only."""

from __future__ import annotations

from typing import Any

import ibis

from parcours.engine import Engine


def has_rows(engine: Engine, name: str) -> bool:
    return engine.has_table(name) and bool(engine.execute(engine.table(name).limit(1).count()))


def records(expr: ibis.Table, engine: Engine) -> list[dict[str, Any]]:
    """The rows of an aggregated expression as dicts (never a per-customer table)."""
    return engine.to_pyarrow(expr).to_pylist()


def table_rows(
    engine: Engine, name: str, order: list[str] | None = None, **filters: Any
) -> list[dict[str, Any]]:
    """The rows of a small table (KPIs, labels, cards), filtered on equal columns."""
    if not engine.has_table(name):
        return []
    t = engine.table(name)
    for column, value in filters.items():
        t = t.filter(t[column] == value)
    if order:
        t = t.order_by(order)
    return records(t, engine)
