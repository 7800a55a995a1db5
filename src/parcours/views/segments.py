"""Segments and personas views: lifecycle and RFM KPIs, the RFM grid, persona cards."""

from __future__ import annotations

from typing import Any

import ibis

from parcours.engine import Engine
from parcours.schema import (
    CUSTOMER_CONSENTS,
    CUSTOMER_KEY,
    CUSTOMER_PROFILE,
    CUSTOMERS_GOLDEN,
    PERSONA_SELECTION,
    PERSONAS,
    SEGMENT_MOVES,
)
from parcours.views.knowledge import segment_labels, segment_table
from parcours.views.locale import both, joined, text
from parcours.views.model import Chart, Column, Finding, Note, Series, Table, Text, View, same
from parcours.views.source import has_rows, records, table_rows

CARD = (Column("field", same("")), Column("value", same("")))
PERSONA_COLUMNS = (
    Column("persona", text("col.persona")),
    Column("name", text("col.name")),
    Column("customers", text("col.customers"), "int"),
    Column("customer_share", text("col.share"), "pct"),
    Column("revenue_share", text("col.revenue_share"), "pct"),
    Column("preferred_channel", text("col.channel")),
    Column("favourite_families", text("col.families")),
    Column("age_band", text("col.age")),
    Column("traits", text("col.traits")),
)


def segment_kpi_view(engine: Engine) -> View:
    """Lifecycle and RFM segments with their KPIs, as ``parcours segments`` prints them."""
    return View(
        "segment-kpis",
        text("section.segments"),
        tables=[
            segment_table(engine, "lifecycle_segment", "seg.lifecycle"),
            segment_table(engine, "rfm_segment", "seg.rfm"),
        ],
    )


def personas_view(engine: Engine) -> View:
    """How many personas and why, then one row per persona, as ``parcours personas`` prints."""
    view = View("personas", text("seg.personas"))
    selection = sorted(
        (r["clusters"], r["value"], r["chosen"]) for r in table_rows(engine, PERSONA_SELECTION.name)
    )
    if selection:
        k = next(n for n, _, chosen in selection if chosen)
        tried = ", ".join(f"{n}: {v:.3f}" for n, v, _ in selection)
        view.notes.append(Note(text("seg.personas.chosen", k=k, tried=tried)))
    rows = table_rows(engine, PERSONAS.name, order=["persona"])
    view.tables.append(
        Table(
            PERSONA_COLUMNS,
            tuple(
                tuple(cells[c.key] for c in PERSONA_COLUMNS) for cells in map(_persona_cells, rows)
            ),
            text("seg.personas"),
        )
    )
    return view


def _persona_cells(r: dict[str, Any]) -> dict[str, Any]:
    """A persona's row with its name and traits in the reader's language."""
    return {
        **r,
        "name": Text(r["name_en"], r["name_fr"]),
        "preferred_channel": joined(r["preferred_channel"]),
        "traits": Text(r["traits_en"], r["traits_fr"]),
    }


def segment_views(engine: Engine) -> list[View]:
    view = View("segments", text("section.segments"))
    lifecycle = segment_table(engine, "lifecycle_segment", "seg.lifecycle")
    rfm = segment_table(engine, "rfm_segment", "seg.rfm")
    view.tables += [lifecycle, rfm]
    if lifecycle.rows:
        view.charts.append(
            Chart(
                "bar",
                text("seg.chart.lifecycle"),
                text("col.segment"),
                text("col.share"),
                series=(
                    Series(
                        text("col.share"),
                        tuple(lifecycle.column("label")),
                        tuple(lifecycle.column("customer_share")),
                    ),
                    Series(
                        text("col.revenue_share"),
                        tuple(lifecycle.column("label")),
                        tuple(lifecycle.column("revenue_share")),
                    ),
                ),
                value_kind="pct",
            )
        )
        for segment, label, share, revenue, customers in zip(
            lifecycle.column("segment"),
            lifecycle.column("label"),
            lifecycle.column("customer_share"),
            lifecycle.column("revenue_share"),
            lifecycle.column("customers"),
            strict=True,
        ):
            if segment in ("lapsing", "vip") and revenue is not None:
                view.findings.append(
                    Finding(
                        text(
                            "seg.finding.risk" if segment == "lapsing" else "seg.finding.top",
                            segment=label,
                            customers=(customers, "int"),
                            share=(share, "pct"),
                            revenue=(revenue, "pct"),
                        ),
                        3 + 5 * revenue,
                        (customers, share, revenue),
                    )
                )
    p = engine.table(CUSTOMER_PROFILE.name)
    if "recency_score" in p.columns:
        scored = p.filter(p.recency_score.notnull() & p.frequency_score.notnull())
        grid = records(
            scored.group_by(["recency_score", "frequency_score"]).aggregate(
                customers=scored.count(), revenue=scored.revenue.sum()
            ),
            engine,
        )
        cells = {(g["recency_score"], g["frequency_score"]): g for g in grid}
        scores = (1, 2, 3, 4, 5)
        for key, title in (("customers", "seg.grid"), ("revenue", "seg.grid.revenue")):
            view.charts.append(
                Chart(
                    "heatmap",
                    text(title),
                    text("col.recency_score"),
                    text("col.frequency_score"),
                    x=scores,
                    y=scores,
                    z=tuple(
                        tuple(cells.get((r, f), {}).get(key, 0) for r in scores) for f in scores
                    ),
                    value_kind="int" if key == "customers" else "money",
                )
            )
    views = [view]
    for extra in (moves_view(engine), seasonal_view(engine)):
        if extra is not None:
            views.append(extra)
    cards = table_rows(engine, PERSONAS.name, order=["persona"])
    if cards:
        personas = View("personas", text("seg.personas"))
        reach = contact_means(engine)
        for c in cards:
            personas.cards.append(
                Table(
                    CARD,
                    (
                        (text("col.customers"), both(c["customers"], "int")),
                        (text("col.share"), both(c["customer_share"], "pct")),
                        (text("col.revenue_share"), both(c["revenue_share"], "pct")),
                        (text("col.channel"), joined(c["preferred_channel"])),
                        (text("col.families"), c["favourite_families"]),
                        (text("col.age"), c["age_band"]),
                        (text("col.traits"), Text(c["traits_en"], c["traits_fr"])),
                        (text("col.contact"), reach.get(c["persona"], text("none"))),
                    ),
                    # Names are data, in both languages.
                    same(c["persona"]) if not c["name_en"] else Text(c["name_en"], c["name_fr"]),
                )
            )
        top = max(cards, key=lambda c: c["revenue_share"])
        personas.findings.append(
            Finding(
                Text(
                    text(
                        "seg.finding.persona",
                        name=top["name_en"],
                        share=(top["customer_share"], "pct"),
                        revenue=(top["revenue_share"], "pct"),
                    ).en,
                    text(
                        "seg.finding.persona",
                        name=top["name_fr"],
                        share=(top["customer_share"], "pct"),
                        revenue=(top["revenue_share"], "pct"),
                    ).fr,
                ),
                2 + 5 * top["revenue_share"],
                (top["customer_share"], top["revenue_share"]),
            )
        )
        views.append(personas)
    return views


# Festive share of spend: the bins of its distribution (lower bounds).
FESTIVE_BINS = (0.0, 0.25, 0.5, 0.75)


def seasonal_view(engine: Engine) -> View | None:
    """Seasonal (festive) and tourist customers: how many, what they bring, from the profile."""
    p = engine.table(CUSTOMER_PROFILE.name)
    needed = {"festive_share", "tourist_store", "lifecycle_segment", "revenue", "orders"}
    if not needed <= set(p.columns):
        return None
    buyers = p.filter(p.orders > 0)
    festive = buyers.festive_share.fill_null(0)
    band = ibis.cases(*((festive >= low, i) for i, low in reversed(list(enumerate(FESTIVE_BINS)))))
    totals = records(
        buyers.aggregate(
            customers=buyers.count(),
            revenue=buyers.revenue.sum(),
            seasonal=(buyers.lifecycle_segment == "seasonal").sum(),
            seasonal_revenue=buyers.revenue.sum(where=buyers.lifecycle_segment == "seasonal"),
            tourist_store=buyers.tourist_store.fill_null(False).sum(),
            tourist_revenue=buyers.revenue.sum(where=buyers.tourist_store.fill_null(False)),
            tourist_once=(buyers.tourist_store.fill_null(False) & (buyers.orders == 1)).sum(),
            tourists=(buyers.lifecycle_segment == "tourist").sum(),
        ),
        engine,
    )[0]
    bands = {
        r["band"]: r["customers"]
        for r in records(
            buyers.mutate(band=band).group_by("band").aggregate(customers=ibis._.count()), engine
        )
    }
    customers, revenue = totals["customers"], totals["revenue"] or 0
    if not customers:
        return None
    view = View("seasonal", text("seg.seasonal"))
    rows = (
        (text("seg.seasonal.festive"), totals["seasonal"], totals["seasonal_revenue"]),
        (text("seg.seasonal.tourist_store"), totals["tourist_store"], totals["tourist_revenue"]),
        (text("seg.seasonal.tourists"), totals["tourists"], None),
    )
    view.tables.append(
        Table(
            (
                Column("group", text("col.segment")),
                Column("customers", text("col.customers"), "int"),
                Column("share", text("col.share"), "pct", 1),
                Column("revenue_share", text("col.revenue_share"), "pct", 1),
            ),
            tuple(
                (name, n, n / customers, (r or 0) / revenue if revenue and r is not None else None)
                for name, n, r in rows
            ),
            text("seg.seasonal"),
        )
    )
    labels = tuple(
        text("seg.festive.bin", low=(low, "pct"), high=(high, "pct"))
        for low, high in zip(FESTIVE_BINS, (*FESTIVE_BINS[1:], 1.0), strict=True)
    )
    view.charts.append(
        Chart(
            "bar",
            text("seg.chart.festive"),
            text("col.seasonal"),
            text("col.customers"),
            series=(
                Series(
                    text("col.customers"),
                    labels,
                    tuple(bands.get(i, 0) for i in range(len(FESTIVE_BINS))),
                ),
            ),
        )
    )
    if totals["seasonal"]:
        view.findings.append(
            Finding(
                text(
                    "seg.finding.seasonal",
                    customers=(totals["seasonal"], "int"),
                    share=(totals["seasonal"] / customers, "pct"),
                    revenue=((totals["seasonal_revenue"] or 0) / revenue if revenue else 0, "pct"),
                ),
                2,
                (totals["seasonal"], totals["seasonal_revenue"] or 0),
            )
        )
    if totals["tourist_store"]:
        view.findings.append(
            Finding(
                text(
                    "seg.finding.tourist",
                    customers=(totals["tourist_store"], "int"),
                    share=(totals["tourist_store"] / customers, "pct"),
                    once=(totals["tourist_once"] / totals["tourist_store"], "pct"),
                ),
                1.5,
                (totals["tourist_store"], totals["tourist_once"]),
            )
        )
    return view


def contact_means(engine: Engine) -> dict[str, Text]:
    """Per persona, the share of its customers reachable by email, by phone, with an opt-in."""
    if not engine.has_table(CUSTOMERS_GOLDEN.name):
        return {}
    p = engine.table(CUSTOMER_PROFILE.name)
    if "persona" not in p.columns:
        return {}
    golden = engine.table(CUSTOMERS_GOLDEN.name)
    people = p.filter(p.persona.notnull()).select(CUSTOMER_KEY, "persona")
    people = people.left_join(golden.select(CUSTOMER_KEY, "email", "phone"), CUSTOMER_KEY).select(
        CUSTOMER_KEY, "persona", "email", "phone"
    )
    measures = {"email": ibis._.email.notnull().mean(), "phone": ibis._.phone.notnull().mean()}
    if has_rows(engine, CUSTOMER_CONSENTS.name):
        c = engine.table(CUSTOMER_CONSENTS.name)
        opted = c.filter(c.granted & (c.channel == "email")).select(CUSTOMER_KEY).distinct()
        people = people.left_join(opted.mutate(opt_in=True), CUSTOMER_KEY).select(
            CUSTOMER_KEY, "persona", "email", "phone", "opt_in"
        )
        measures["opt_in"] = ibis._.opt_in.fill_null(False).mean()
    shares = records(people.group_by("persona").aggregate(**measures), engine)
    return {
        r["persona"]: text(
            "seg.contact.opt_in" if "opt_in" in r else "seg.contact",
            email=(r["email"], "pct"),
            phone=(r["phone"], "pct"),
            opt_in=(r.get("opt_in"), "pct"),
        )
        for r in shares
    }


def moves_view(engine: Engine) -> View | None:
    """How customers moved between lifecycle segments since the previous run, if one exists."""
    if not has_rows(engine, SEGMENT_MOVES.name):
        return None
    moves = table_rows(engine, SEGMENT_MOVES.name)
    moves.sort(key=lambda r: -r["customers"])
    labels = segment_labels(engine, "lifecycle_segment") | {"none": text("seg.moves.none")}
    names = sorted({r["from_segment"] for r in moves} | {r["to_segment"] for r in moves})
    label = {n: labels.get(n, same(n)) for n in names}
    view = View("moves", text("seg.moves"))
    view.charts.append(
        Chart(
            "sankey",
            text("seg.moves"),
            text("col.from_segment"),
            text("col.to_segment"),
            # The previous segments on the left, the current ones on the right.
            nodes=tuple(label[n] for n in names) * 2,
            links=tuple(
                (
                    names.index(r["from_segment"]),
                    len(names) + names.index(r["to_segment"]),
                    r["customers"],
                )
                for r in moves
            ),
        )
    )
    moved = [r for r in moves if r["from_segment"] != r["to_segment"]]
    view.tables.append(
        Table(
            (
                Column("from", text("col.from_segment")),
                Column("to", text("col.to_segment")),
                Column("customers", text("col.customers"), "int"),
            ),
            tuple(
                (label[r["from_segment"]], label[r["to_segment"]], r["customers"])
                for r in moved[:15]
            ),
            text("seg.moves.since", date=(moves[0]["previous_as_of"], "date")),
        )
    )
    total = sum(r["customers"] for r in moves)
    if moved and total:
        top = moved[0]
        changed = sum(r["customers"] for r in moved)
        view.findings.append(
            Finding(
                text(
                    "seg.finding.moves",
                    customers=(changed, "int"),
                    share=(changed / total, "pct"),
                    date=(top["previous_as_of"], "date"),
                    source=label[top["from_segment"]],
                    target=label[top["to_segment"]],
                    count=(top["customers"], "int"),
                ),
                2.5,
                (changed, top["customers"]),
            )
        )
    return view
