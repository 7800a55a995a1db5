"""Engine-neutral ways for tests to look at tables."""

from __future__ import annotations

from parcours.workspace import Workspace


def rows(ws: Workspace, table: str, order_by: str | list[str] | None = None) -> list[dict]:
    expr = ws.engine.table(table)
    if order_by:
        expr = expr.order_by(order_by)
    return ws.engine.to_pyarrow(expr).to_pylist()


def count(ws: Workspace, table: str) -> int:
    return int(ws.engine.execute(ws.engine.table(table).count()))
