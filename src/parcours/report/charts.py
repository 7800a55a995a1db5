"""Chart specifications to Plotly figures (JSON), for the report; nothing is computed here."""

from __future__ import annotations

import json

import plotly.graph_objects as go
from plotly.utils import PlotlyJSONEncoder

from parcours.views.locale import text
from parcours.views.model import Chart, Lang, Series, Text

HEIGHT = 380


def _values(values: tuple, lang: Lang) -> list:
    """Points as drawn: a label given in both languages is drawn in the report's."""
    return [v(lang) if isinstance(v, Text) else v for v in values]


def _trace(chart: Chart, series: Series, lang: Lang) -> go.BaseTraceType:
    name, x, y = series.name(lang), _values(series.x, lang), _values(series.y, lang)
    if chart.kind in ("hbar", "stacked"):
        return go.Bar(name=name, x=x, y=y, orientation="h")
    if chart.kind == "funnel":
        return go.Funnel(name=name, y=x, x=y, texttemplate="%{x:.0%}")
    if chart.kind == "errorbar":
        bars = {"type": "data", "symmetric": False}
        bars |= {"array": list(series.high), "arrayminus": list(series.low)}
        return go.Scatter(name=name, x=x, y=y, mode="markers", error_y=bars)
    if chart.kind == "line":
        return go.Scatter(name=name, x=x, y=y, mode="lines+markers")
    return go.Bar(name=name, x=x, y=y)


def figure(chart: Chart, lang: Lang) -> go.Figure:
    fig = go.Figure()
    height = HEIGHT
    if chart.kind == "sankey":
        s, t, v = zip(*chart.links, strict=True) if chart.links else ((), (), ())
        fig.add_trace(
            go.Sankey(
                node={"label": [n(lang) for n in chart.nodes], "pad": 18},
                link={"source": list(s), "target": list(t), "value": list(v)},
            )
        )
    elif chart.kind == "heatmap":
        fig.add_trace(
            go.Heatmap(
                x=_values(chart.x, lang),
                y=_values(chart.y, lang),
                z=[list(r) for r in chart.z],
                colorscale="Blues",
            )
        )
        fig.update_xaxes(title_text=chart.x_label(lang), type="category")
        fig.update_yaxes(title_text=chart.y_label(lang), type="category")
    else:
        for series in chart.series:
            fig.add_trace(_trace(chart, series, lang))
            if any(r is not None for r in series.reference):
                fig.add_trace(
                    go.Scatter(
                        name=text("col.threshold")(lang),
                        x=_values(series.x, lang),
                        y=list(series.reference),
                        mode="markers",
                        marker={"symbol": "line-ew-open", "size": 28, "line": {"width": 3}},
                    )
                )
        if chart.kind == "stacked":
            fig.update_layout(barmode="stack")
        if chart.kind in ("hbar", "stacked"):
            # One bar per row: the chart grows with the labels instead of squeezing them.
            rows = max((len(s.x) for s in chart.series), default=0)
            height = max(HEIGHT, 120 + 28 * rows)
            fig.update_yaxes(automargin=True)
        if chart.kind != "funnel":
            fig.update_xaxes(title_text=chart.x_label(lang))
            fig.update_yaxes(title_text=chart.y_label(lang))
        if chart.value_kind == "pct":
            axis = fig.update_xaxes if chart.kind in ("hbar", "stacked") else fig.update_yaxes
            if chart.kind != "funnel":
                axis(tickformat=".2~%")
    fig.update_layout(
        title_text=chart.title(lang),
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        separators=",\u202f" if lang == "fr" else ".,",
        showlegend=len(fig.data) > 1,
    )
    return fig


def figure_json(chart: Chart, lang: Lang) -> str:
    return json.dumps(figure(chart, lang).to_plotly_json(), cls=PlotlyJSONEncoder)
