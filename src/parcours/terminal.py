"""The terminal renderer: draws views with Rich, in English, as the commands always printed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from parcours import console
from parcours.views.locale import missing
from parcours.views.model import Column, Lang, Table, Text, View


def cell(value: Any, column: Column, lang: Lang = "en") -> str:
    """A value as the terminal prints it: thousands separators, shares in percent."""
    if missing(value):
        return ""
    if isinstance(value, Text):
        return value(lang)
    kind = column.kind
    if kind == "pct":
        return f"{value:.{0 if column.digits is None else column.digits}%}"
    if kind == "int":
        return f"{int(value):,}"
    if kind in ("float", "money", "days"):
        return f"{float(value):,.{2 if column.digits is None else column.digits}f}"
    if kind == "duration":
        return _duration(float(value))
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def draw_table(table: Table, lang: Lang = "en") -> None:
    console.table(
        table.title(lang) if table.title else None,
        [c.label(lang) for c in table.columns],
        [[cell(v, c, lang) for v, c in zip(r, table.columns, strict=True)] for r in table.rows],
    )


def show(view: View, lang: Lang = "en") -> None:
    """Information lines, then the tables and cards, then warnings and errors (stderr)."""
    for note in view.notes:
        if note.level == "info":
            console.out.print(note.text(lang), markup=False, soft_wrap=True)
    for table in [*view.tables, *view.cards]:
        draw_table(table, lang)
    for note in view.notes:
        if note.level == "warn":
            console.warn(note.text(lang))
        elif note.level == "error":
            console.error(note.text(lang))
