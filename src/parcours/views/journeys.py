"""Journey views: funnels by channel, top paths, stage durations, friction, moments of truth."""

from __future__ import annotations

from typing import Any

import pandas as pd

from parcours.engine import Engine
from parcours.errors import UserInputError
from parcours.schema import (
    JOURNEY_FRICTION,
    JOURNEY_FUNNELS,
    JOURNEY_MOMENTS,
    JOURNEY_PATHS,
    JOURNEY_TRANSITIONS,
)
from parcours.views.locale import joined, text, word
from parcours.views.model import (
    LANGS,
    Chart,
    Column,
    Finding,
    Note,
    Series,
    Table,
    Text,
    View,
    same,
)
from parcours.views.source import table_rows

# The path separator of journey_paths and its mark of a journey that goes on.
PATH_SEPARATOR, GOES_ON = " > ", "…"
# Friction points and transitions shown: what a reader can take in.
TOP = 10

FUNNEL_COLUMNS = (
    Column("split_value", text("col.split")),
    Column("step", text("col.step")),
    Column("reached", text("col.reached"), "int"),
    Column("conversion", text("col.conversion"), "pct", 1),
    Column("step_conversion", text("col.step_conversion"), "pct", 1),
    Column("dropped", text("col.dropped"), "int"),
    Column("mean_seconds", text("col.mean"), "duration"),
    Column("median_seconds", text("col.median"), "duration"),
    Column("p90_seconds", text("col.p90"), "duration"),
)
PATH_COLUMNS = (
    Column("rank", text("col.rank"), "int"),
    Column("path", text("col.path")),
    Column("customers", text("col.customers"), "int"),
    Column("share", text("col.share"), "pct", 1),
    Column("revenue", text("col.revenue"), "money"),
)
FRICTION_COLUMNS = (
    Column("rank", text("col.rank"), "int"),
    Column("channel", text("col.channel")),
    Column("step", text("col.step")),
    Column("lost", text("col.lost"), "int"),
    Column("drop_off", text("col.drop_off"), "pct", 1),
    Column("reference_drop_off", text("col.elsewhere"), "pct", 1),
    Column("excess_lost", text("col.excess"), "int"),
    Column("revenue_lost", text("col.revenue_lost"), "money"),
    Column("page", text("col.page")),
)
DURATION_COLUMNS = (
    Column("from_stage", text("col.from_stage")),
    Column("to_stage", text("col.to_stage")),
    Column("transitions", text("col.transitions"), "int"),
    Column("median_days", text("col.median_days"), "days", 1),
    Column("p90_days", text("col.p90"), "days", 1),
    Column("threshold_days", text("col.threshold"), "days", 1),
    Column("beyond_threshold", text("col.beyond"), "int"),
)
MOMENT_COLUMNS = (
    Column("touchpoint", text("col.touchpoint")),
    Column("outcome", text("col.outcome")),
    Column("events", text("col.events"), "int"),
    Column("rate", text("col.rate"), "pct", 1),
    Column("reference", text("col.reference")),
    Column("reference_rate", text("col.reference_rate"), "pct", 1),
    Column("difference", text("col.difference_pts"), "float", 1),
    Column("interval", text("col.interval")),
)


def journeys_views(
    engine: Engine, funnel: str | None = None, descriptions: dict[str, str] | None = None
) -> list[View]:
    """One funnel by channel, top paths, durations, friction points and moments of truth.

    ``funnel`` defaults to ``checkout`` when there is one, else the first funnel; an unknown
    funnel is a :class:`UserInputError` naming those there are.
    """
    rows = table_rows(engine, JOURNEY_FUNNELS.name, ["funnel", "split", "split_value", "step_no"])
    if not rows:
        raise UserInputError("no journey tables yet", hint="run: parcours journeys")
    names = list(dict.fromkeys(r["funnel"] for r in rows))
    name = funnel or ("checkout" if "checkout" in names else names[0])
    if name not in names:
        raise UserInputError(f"unknown funnel {name!r}", hint=f"funnels: {', '.join(names)}")
    views = [_funnel_view(name, rows, (descriptions or {}).get(name, ""))]
    views.append(_paths_view(engine))
    views.append(_durations_view(engine))
    views.append(_friction_view(engine, name))
    views.append(_moments_view(engine))
    return views


def _funnel_view(name: str, rows: list[dict[str, Any]], description: str) -> View:
    shown = [r for r in rows if r["funnel"] == name and r["split"] in ("all", "channel")]
    steps = [joined(r["step_no"], r["step"], sep=". ") for r in shown]
    view = View("funnel", text("jr.funnel", name=name), same(description) if description else None)
    view.tables.append(
        Table(
            FUNNEL_COLUMNS,
            tuple(
                tuple(step if c.key == "step" else word(r[c.key]) for c in FUNNEL_COLUMNS)
                for r, step in zip(shown, steps, strict=True)
            ),
            text("jr.funnel", name=name),
        )
    )
    by_split: dict[str, list[dict[str, Any]]] = {}
    for r in shown:
        by_split.setdefault(r["split_value"], []).append(r)
    view.charts.append(
        Chart(
            "funnel",
            text("jr.funnel", name=name),
            text("col.conversion"),
            text("col.step"),
            series=tuple(
                Series(
                    joined(split),
                    tuple(word(r["step"]) for r in part),
                    tuple(r["conversion"] for r in part),
                )
                for split, part in by_split.items()
            ),
            value_kind="pct",
        )
    )
    whole = by_split.get("all")
    if whole and whole[0]["entries"]:
        last = whole[-1]
        view.findings.append(
            Finding(
                text(
                    "jr.finding.funnel",
                    name=name,
                    conversion=(last["conversion"], "pct", 1),
                    entries=(last["entries"], "int"),
                ),
                2,
                (last["conversion"], last["entries"]),
            )
        )
    return view


def _paths_view(engine: Engine) -> View:
    rows = table_rows(engine, JOURNEY_PATHS.name, ["rank"])
    view = View("paths", text("jr.paths"))
    view.tables.append(
        Table(
            PATH_COLUMNS,
            tuple(
                tuple(_path(r[c.key]) if c.key == "path" else r[c.key] for c in PATH_COLUMNS)
                for r in rows
            ),
            text("jr.paths"),
        )
    )
    nodes: list[Text] = []
    index: dict[tuple[int, str], int] = {}
    links: dict[tuple[int, int], float] = {}
    for r in rows:
        stages = [s for s in r["path"].split(PATH_SEPARATOR) if s and s != GOES_ON]
        if len(stages) < 2 or r["path"] == "other":
            continue
        # A node per stage and position: a path is drawn left to right, never in a loop.
        ids = []
        for position, name in enumerate(stages):
            key = (position, name.rstrip(GOES_ON).strip())
            if key not in index:
                index[key] = len(nodes)
                nodes.append(joined(key[1]))
            ids.append(index[key])
        for a, b in zip(ids, ids[1:], strict=False):
            links[(a, b)] = links.get((a, b), 0) + r["customers"]
    if links:
        view.charts.append(
            Chart(
                "sankey",
                text("jr.paths"),
                text("col.from_stage"),
                text("col.to_stage"),
                nodes=tuple(nodes),
                links=tuple((a, b, v) for (a, b), v in links.items()),
            )
        )
    return view


def _path(path: str) -> Text:
    """A path of stages with each stage named in the reader's language."""
    stages = path.split(PATH_SEPARATOR)
    marks = [s[len(s.rstrip(GOES_ON)) :] for s in stages]
    named = [joined(s.rstrip(GOES_ON).strip()) for s in stages]
    return Text(
        *(
            PATH_SEPARATOR.join(n(lang) + m for n, m in zip(named, marks, strict=True))
            for lang in LANGS
        )
    )


def _durations_view(engine: Engine) -> View:
    rows = [
        r
        for r in table_rows(engine, JOURNEY_TRANSITIONS.name)
        if r["median_days"] is not None and "(" not in r["from_stage"] + r["to_stage"]
    ]
    # Transitions with a threshold first, then the most frequent ones.
    rows.sort(key=lambda r: (r["threshold_days"] is None, -r["transitions"]))
    rows = rows[:TOP]
    view = View("durations", text("jr.durations"))
    view.tables.append(
        Table(
            DURATION_COLUMNS,
            tuple(tuple(word(r[c.key]) for c in DURATION_COLUMNS) for r in rows),
            text("jr.durations"),
        )
    )
    if rows:
        labels = tuple(joined(r["from_stage"], r["to_stage"]) for r in rows)
        view.charts.append(
            Chart(
                "bar",
                text("jr.durations"),
                text("col.transitions"),
                text("col.days"),
                series=(
                    Series(
                        text("col.median_days"),
                        labels,
                        tuple(r["median_days"] for r in rows),
                        reference=tuple(r["threshold_days"] for r in rows),
                    ),
                ),
                value_kind="days",
            )
        )
    return view


def _friction_view(engine: Engine, funnel: str) -> View:
    rows = table_rows(engine, JOURNEY_FRICTION.name, ["rank"], funnel=funnel)[:TOP]
    view = View("friction", text("jr.friction"))
    view.tables.append(
        Table(
            FRICTION_COLUMNS,
            tuple(
                tuple(
                    joined(r["from_step"], r["to_step"]) if c.key == "step" else word(r[c.key])
                    for c in FRICTION_COLUMNS
                )
                for r in rows
            ),
            text("jr.friction.of", funnel=funnel),
        )
    )
    if rows:
        shown = list(reversed(rows))
        view.charts.append(
            Chart(
                "hbar",
                text("jr.friction"),
                text("col.revenue_lost"),
                text("col.step"),
                series=(
                    Series(
                        text("col.revenue_lost"),
                        tuple(r["revenue_lost"] for r in shown),
                        tuple(
                            joined(r["channel"], joined(r["from_step"], r["to_step"]), sep=": ")
                            for r in shown
                        ),
                    ),
                ),
                value_kind="money",
            )
        )
        top = rows[0]
        view.findings.append(
            Finding(
                text(
                    "jr.finding.friction",
                    channel=joined(top["channel"]),
                    step=joined(top["from_step"], top["to_step"]),
                    lost=(top["lost"], "int"),
                    drop=(top["drop_off"], "pct"),
                    ref=(top["reference_drop_off"], "pct"),
                    revenue=(top["revenue_lost"], "money"),
                ),
                3,
                (top["lost"], top["revenue_lost"]),
            )
        )
    return view


def _moments_view(engine: Engine) -> View:
    rows = table_rows(engine, JOURNEY_MOMENTS.name, ["touchpoint", "outcome"])
    view = View("moments", text("jr.moments"))
    view.tables.append(
        Table(
            MOMENT_COLUMNS,
            tuple(
                (
                    word(r["touchpoint"]),
                    word(r["outcome"]),
                    r["events"],
                    r["rate"],
                    word(r["reference"]),
                    r["reference_rate"],
                    100 * r["difference"],
                    _interval(r),
                )
                for r in rows
            ),
            text("jr.moments"),
        )
    )
    if rows:
        view.charts.append(
            Chart(
                "errorbar",
                text("jr.moments"),
                text("col.outcome"),
                text("col.difference"),
                series=(
                    Series(
                        text("col.difference"),
                        tuple(joined(r["touchpoint"], r["outcome"], sep=": ") for r in rows),
                        tuple(r["difference"] for r in rows),
                        low=tuple(r["difference"] - r["ci_low"] for r in rows),
                        high=tuple(r["ci_high"] - r["difference"] for r in rows),
                    ),
                ),
                value_kind="pct",
            )
        )
        significant = [r for r in rows if r["significant"]]
        if significant:
            top = max(significant, key=lambda r: abs(r["difference"]))
            view.findings.append(
                Finding(
                    text(
                        "jr.finding.moment",
                        touchpoint=joined(top["touchpoint"]),
                        outcome=joined(top["outcome"]),
                        rate=(top["rate"], "pct"),
                        ref=(top["reference_rate"], "pct"),
                    ),
                    2 + 10 * abs(top["difference"]),
                    (top["rate"], top["reference_rate"]),
                )
            )
    return view


def _interval(r: dict[str, Any]) -> Text:
    bounds = f"[{100 * r['ci_low']:+.1f}, {100 * r['ci_high']:+.1f}]"
    if r["significant"]:
        return same(bounds)
    return Text(f"{bounds} (noise)", f"{bounds} (bruit)")


def journey_notes_view(warnings: list[str], notes: list[str]) -> View:
    """What ``write_journeys`` reported: a funnel step not in the data, splits not made."""
    return View(
        "journey-notes",
        text("section.journeys"),
        notes=[Note(same(line), "warn") for line in [*warnings, *notes]],
    )


TIMELINE_COLUMNS = (
    Column("occurred_at", text("col.when")),
    Column("stage", text("col.stage")),
    Column("touchpoint", text("col.touchpoint")),
    Column("outcome", text("col.outcome")),
    Column("channel", text("col.channel")),
    Column("amount", text("col.amount"), "money", 2),
    Column("order_id", text("col.order")),
    Column("url", text("col.page")),
)


def timeline_view(frame: pd.DataFrame, who: str, limit: int = 200) -> View:
    """One person's (or visitor's) touchpoints, the last ``limit`` of them."""
    tail = frame.tail(limit).astype(object)
    shown = tail.where(tail.notna(), None).to_dict("records")
    rows = frame
    title = text("jr.timeline", who=who, count=(len(rows), "int"))
    if len(rows) > limit:
        title = text("jr.timeline.last", who=who, count=(len(rows), "int"), limit=limit)
    return View(
        "timeline",
        title,
        tables=[
            Table(
                TIMELINE_COLUMNS,
                tuple(tuple(word(r.get(c.key)) for c in TIMELINE_COLUMNS) for r in shown),
                title,
            )
        ],
    )
