"""Presentation-neutral views: what a capability has to show, whatever draws it.

A view holds a title, a description, tables with typed columns, chart specifications and
findings in French and English. The terminal, the HTML report (and later the dashboard and
the API) draw the same views; nothing is computed while drawing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")

# How a column's values are formatted: counts, amounts, shares, durations, dates, text.
Kind = Literal["text", "int", "float", "money", "pct", "days", "date", "duration"]


@dataclass(frozen=True)
class Text:
    """The same text in English and French."""

    en: str
    fr: str

    def __call__(self, lang: Lang) -> str:
        return self.fr if lang == "fr" else self.en


def same(text: str) -> Text:
    """Text that reads the same in both languages (data: names, codes, paths)."""
    return Text(text, text)


@dataclass(frozen=True)
class Column:
    """A table column: its key in the rows, its header, how its values are formatted."""

    key: str
    label: Text
    kind: Kind = "text"
    # Decimals of a share or a float; None keeps the kind's default.
    digits: int | None = None


@dataclass(frozen=True)
class Table:
    """Rows of values keyed by column; values stay raw (numbers, dates) until drawn."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    title: Text | None = None

    def column(self, key: str) -> list[Any]:
        i = [c.key for c in self.columns].index(key)
        return [r[i] for r in self.rows]


ChartKind = Literal["bar", "hbar", "stacked", "line", "heatmap", "sankey", "funnel", "errorbar"]


@dataclass(frozen=True)
class Series:
    """One trace: a name and its points (already aggregated in the engine)."""

    name: Text
    x: tuple[Any, ...]
    y: tuple[Any, ...]
    # Error bars (errorbar charts): distance below and above y.
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()
    # A reference line drawn with the series (alert thresholds).
    reference: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class Chart:
    """A chart specification; renderers map it to their library (Plotly in the report).

    Heatmaps use ``x``, ``y`` and ``z`` (rows of values); Sankeys use ``nodes`` and
    ``links`` (source index, target index, value).
    """

    kind: ChartKind
    title: Text
    x_label: Text
    y_label: Text
    series: tuple[Series, ...] = ()
    z: tuple[tuple[float | None, ...], ...] = ()
    x: tuple[Any, ...] = ()
    y: tuple[Any, ...] = ()
    nodes: tuple[Text, ...] = ()
    links: tuple[tuple[int, int, float], ...] = ()
    # How hover values read: a column kind.
    value_kind: Kind = "int"


@dataclass(frozen=True)
class Finding:
    """A plain-language sentence with its numbers; ``weight`` ranks the report's summary."""

    text: Text
    weight: float
    figures: tuple[float, ...] = ()


Level = Literal["info", "warn", "error"]


@dataclass(frozen=True)
class Note:
    """A line said beside the tables: information, a warning or an error."""

    text: Text
    level: Level = "info"


@dataclass
class View:
    """What one capability shows: title, description, tables, charts, findings, notes."""

    key: str
    title: Text
    description: Text | None = None
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # Cards (personas): one small table each, printed side by side.
    cards: list[Table] = field(default_factory=list)


@dataclass
class Section:
    """A report section: views of one capability, or the one line saying why it is left out."""

    key: str
    title: Text
    views: list[View] = field(default_factory=list)
    skipped: Text | None = None

    @property
    def findings(self) -> list[Finding]:
        return [f for v in self.views for f in v.findings]
