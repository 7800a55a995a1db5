"""Chart specifications to Plotly figures (JSON), for the report; nothing is computed here."""

from __future__ import annotations

import json

import plotly.graph_objects as go
from plotly.utils import PlotlyJSONEncoder

from parcours.views.locale import text
from parcours.views.model import Chart, Lang


def figure(chart: Chart, lang: Lang) -> go.Figure:
    name = {"x": chart.x_label(lang), "y": chart.y_label(lang)}
    fig = go.Figure()
    if chart.kind == "sankey":
        s, t, v = zip(*chart.links, strict=True) if chart.links else ((), (), ())
        fig.add_trace(
            go.Sankey(
                node={"label": [n(lang) for n in chart.nodes], "pad": 18},
                link={"source": list(s), "target": list(t), "value": list(v)},
            )
        )
    elif chart.kind == "heatmap":
        fig.add_trace(go.Heatmap(x=list(chart.x), y=list(chart.y), z=[list(r) for r in chart.z]))
    else:
        for series in chart.series:
            if chart.kind == "hbar":
                fig.add_trace(
                    go.Bar(
                        name=series.name(lang), x=list(series.x), y=list(series.y), orientation="h"
                    )
                )
            elif chart.kind == "stacked":
                fig.add_trace(
                    go.Bar(
                        name=series.name(lang), x=list(series.x), y=list(series.y), orientation="h"
                    )
                )
                fig.update_layout(barmode="stack")
            elif chart.kind == "funnel":
                fig.add_trace(
                    go.Funnel(
                        name=series.name(lang),
                        y=list(series.x),
                        x=list(series.y),
                        texttemplate="%{x:.0%}",
                    )
                )
            elif chart.kind == "errorbar":
                fig.add_trace(
                    go.Scatter(
                        name=series.name(lang),
                        x=list(series.x),
                        y=list(series.y),
                        mode="markers",
                        error_y={
                            "type": "data",
                            "symmetric": False,
                            "array": list(series.high),
                            "arrayminus": list(series.low),
                        },
                    )
                )
            elif chart.kind == "line":
                fig.add_trace(
                    go.Scatter(
                        name=series.name(lang),
                        x=list(series.x),
                        y=list(series.y),
                        mode="lines+markers",
                    )
                )
            else:
                fig.add_trace(go.Bar(name=series.name(lang), x=list(series.x), y=list(series.y)))
            if any(r is not None for r in series.reference):
                fig.add_trace(
                    go.Scatter(
                        name=text("col.threshold")(lang),
                        x=list(series.x),
                        y=list(series.reference),
                        mode="markers",
                        marker={"symbol": "line-ew-open", "size": 28, "line": {"width": 3}},
                    )
                )
        fig.update_xaxes(title_text=name["x"])
        fig.update_yaxes(title_text=name["y"])
        if chart.value_kind == "pct":
            fig.update_yaxes(tickformat=".0%")
    fig.update_layout(
        title_text=chart.title(lang),
        height=380,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        separators=",\u202f" if lang == "fr" else ".,",
        showlegend=len(fig.data) > 1,
    )
    return fig


def figure_json(chart: Chart, lang: Lang) -> str:
    return json.dumps(figure(chart, lang).to_plotly_json(), cls=PlotlyJSONEncoder)
