"""Customer knowledge views: profile counts, KPIs by channel mix, delays, renewal, recruitment."""

from __future__ import annotations

from typing import Any

import ibis

from parcours.engine import Engine
from parcours.schema import (
    CUSTOMER_PROFILE,
    KPI_RECRUITMENT,
    KPI_RENEWAL,
    KPI_SECOND_PURCHASE,
    KPI_SEGMENTS,
    SEGMENT_LABELS,
)
from parcours.views.locale import MESSAGES, joined, text
from parcours.views.model import Chart, Column, Finding, Note, Series, Table, Text, View, same
from parcours.views.source import records, table_rows

KPI_COLUMNS = (
    Column("segment", text("col.segment")),
    Column("label", text("col.label")),
    Column("customers", text("col.customers"), "int"),
    Column("customer_share", text("col.share"), "pct"),
    Column("activity_rate", text("col.activity"), "pct"),
    Column("purchase_frequency", text("col.frequency"), "float"),
    Column("average_basket", text("col.basket"), "money", 2),
    Column("revenue_per_active", text("col.revenue_active"), "money", 2),
    Column("revenue_share", text("col.revenue_share"), "pct"),
)


def profile_view(report: Any) -> View:
    """The profile's counts, as ``parcours profile`` prints them."""
    rate = report.active / report.buyers if report.buyers else None
    view = View("profile", text("kpi.profile", as_of=report.as_of))
    view.tables.append(
        Table(
            (
                Column("customers", text("col.customers"), "int"),
                Column("buyers", text("col.with_purchase"), "int"),
                Column("active", text("col.active"), "int"),
                Column("rate", text("col.activity_rate"), "pct"),
                Column("revenue", text("col.revenue"), "money", 2),
            ),
            ((report.customers, report.buyers, report.active, rate, round(report.revenue, 2)),),
            text("kpi.profile", as_of=report.as_of),
        )
    )
    if report.cleared:
        view.notes.append(
            Note(
                same(
                    "the new profile has none of the later stages' columns "
                    f"({', '.join(report.cleared)}): run parcours segments, personas and clv "
                    "again, or parcours run"
                ),
                "warn",
            )
        )
    return view


def segment_table(engine: Engine, dimension: str, title: str) -> Table:
    """KPIs per segment of one segmentation, largest segment first, with its label."""
    rows = table_rows(engine, KPI_SEGMENTS.name, dimension=dimension)
    labels = segment_labels(engine, dimension)
    rows.sort(key=lambda r: -r["customers"])
    return Table(
        KPI_COLUMNS,
        tuple(
            tuple(
                labels.get(r["segment"], same(r["segment"])) if c.key == "label" else r[c.key]
                for c in KPI_COLUMNS
            )
            for r in rows
        ),
        text(title),
    )


def segment_labels(engine: Engine, dimension: str) -> dict[str, Text]:
    """Segment code -> its name in both languages (segment_labels; channel mixes: catalogue)."""
    labels = {
        r["segment"]: Text(r["label_en"], r["label_fr"])
        for r in table_rows(engine, SEGMENT_LABELS.name, dimension=dimension)
    }
    for key in MESSAGES:
        if key.startswith("segment."):
            labels.setdefault(key.removeprefix("segment."), text(key))
    return labels


SECOND_COLUMNS = (
    Column("first_channel", text("col.first_channel")),
    Column("customers", text("col.customers"), "int"),
    Column("second_buyers", text("col.second_buyers"), "int"),
    Column("median_days", text("col.median"), "days"),
    Column("q1_days", text("col.q1"), "days"),
    Column("q3_days", text("col.q3"), "days"),
    *(Column(f"within_{d}_days", Text(f"≤{d} d", f"≤{d} j"), "pct") for d in (30, 90, 180, 365)),
)
RENEWAL_COLUMNS = (
    Column("category", text("col.category")),
    Column("family", text("col.family")),
    Column("customers", text("col.customers"), "int"),
    Column("median_days", text("col.median"), "days"),
    Column("q1_days", text("col.q1"), "days"),
    Column("q3_days", text("col.q3"), "days"),
)
RECRUITMENT_COLUMNS = (
    Column("first_channel", text("col.first_channel")),
    Column("next_channel", text("col.next_channel")),
    Column("customers", text("col.customers"), "int"),
    Column("share", text("col.share"), "pct"),
    Column("median_days", text("col.median_days"), "days"),
)


def _table(rows: list[dict], columns: tuple[Column, ...], title: str) -> Table:
    return Table(columns, tuple(tuple(r[c.key] for c in columns) for r in rows), text(title))


def knowledge_views(engine: Engine) -> list[View]:
    """The report's customer-knowledge section."""
    return [kpi_view(engine)]


def kpi_view(engine: Engine) -> View:
    """The main KPI tables: overall and channel mix, second purchase, renewal, recruitment."""
    second = table_rows(engine, KPI_SECOND_PURCHASE.name)
    renewal = sorted(table_rows(engine, KPI_RENEWAL.name), key=lambda r: r["category"])
    recruitment = sorted(
        table_rows(engine, KPI_RECRUITMENT.name),
        key=lambda r: (r["first_channel"], -r["customers"]),
    )
    view = View("kpis", text("section.knowledge"))
    view.tables += [
        segment_table(engine, "all", "kpi.all"),
        segment_table(engine, "channel_mix", "kpi.channel_mix"),
        _table(
            [{**r, "first_channel": _channel(r["first_channel"])} for r in second],
            SECOND_COLUMNS,
            "kpi.second",
        ),
        _table(renewal, RENEWAL_COLUMNS, "kpi.renewal"),
        _table(
            [
                {
                    **r,
                    "first_channel": _channel(r["first_channel"]),
                    "next_channel": _channel(r["next_channel"]),
                }
                for r in recruitment
            ],
            RECRUITMENT_COLUMNS,
            "kpi.recruitment",
        ),
    ]
    _charts_and_findings(view, engine, second, renewal, recruitment)
    return view


def _charts_and_findings(view: View, engine: Engine, second, renewal, recruitment) -> None:
    overall = table_rows(engine, KPI_SEGMENTS.name, dimension="all")
    if overall:
        a = overall[0]
        view.findings.append(
            Finding(
                text(
                    "kpi.finding.activity",
                    rate=(a["activity_rate"], "pct"),
                    customers=(a["customers"], "int"),
                    basket=(a["average_basket"], "money", 2),
                ),
                3,
                (a["activity_rate"], a["customers"], a["average_basket"]),
            )
        )
    mix = [
        r
        for r in table_rows(engine, KPI_SEGMENTS.name, dimension="channel_mix")
        if r["revenue_per_active"] is not None
    ]
    if mix:
        mix.sort(key=lambda r: -r["revenue_per_active"])
        mix_labels = segment_labels(engine, "channel_mix")
        view.charts.append(
            Chart(
                "bar",
                text("kpi.chart.mix"),
                text("col.segment"),
                text("col.revenue_active"),
                series=(
                    Series(
                        text("col.revenue_active"),
                        tuple(mix_labels.get(r["segment"], same(r["segment"])) for r in mix),
                        tuple(r["revenue_per_active"] for r in mix),
                    ),
                ),
                value_kind="money",
            )
        )
        multi = next((r for r in mix if r["segment"] == "multichannel"), None)
        mono = [r for r in mix if r["segment"] != "multichannel"]
        if multi and mono:
            active = sum(r["active_customers"] for r in mono)
            if active:
                per = sum(r["period_revenue"] for r in mono) / active
                ratio = multi["revenue_per_active"] / per if per else None
                if ratio:
                    view.findings.append(
                        Finding(
                            text(
                                "kpi.finding.multichannel",
                                ratio=(ratio, "float", 1),
                                multi=(multi["revenue_per_active"], "money"),
                                mono=(per, "money"),
                            ),
                            4 + abs(ratio - 1),
                            (ratio, multi["revenue_per_active"], per),
                        )
                    )
    channels = [r for r in second if r["first_channel"] != "all"]
    distribution = second_purchase_distribution(engine)
    if distribution is not None:
        view.charts.append(distribution)
    if channels:
        days = ("30", "90", "180", "365")
        view.charts.append(
            Chart(
                "line",
                text("kpi.chart.second"),
                text("col.within"),
                text("col.share"),
                series=tuple(
                    Series(
                        _channel(r["first_channel"]),
                        days,
                        tuple(r[f"within_{d}_days"] for d in days),
                    )
                    for r in channels
                ),
                value_kind="pct",
            )
        )
        best = max(
            (r for r in channels if r["median_days"] is not None and r["second_buyers"] >= 10),
            key=lambda r: r["customers"],
            default=None,
        )
        if best:
            view.findings.append(
                Finding(
                    text(
                        "kpi.finding.second",
                        channel=_on(best["first_channel"]),
                        days=(best["median_days"], "days"),
                        within=(best["within_90_days"], "pct"),
                    ),
                    2.5,
                    (best["median_days"], best["within_90_days"]),
                )
            )
    if recruitment:
        firsts = sorted({r["first_channel"] for r in recruitment})
        nexts = sorted({r["next_channel"] for r in recruitment})
        nodes = tuple(_channel(f) for f in firsts) + tuple(_channel(n) for n in nexts)
        view.charts.append(
            Chart(
                "sankey",
                text("kpi.chart.recruitment"),
                text("col.first_channel"),
                text("col.next_channel"),
                nodes=nodes,
                links=tuple(
                    (
                        firsts.index(r["first_channel"]),
                        len(firsts) + nexts.index(r["next_channel"]),
                        r["customers"],
                    )
                    for r in recruitment
                ),
            )
        )
        moved = [r for r in recruitment if r["next_channel"] != "none" and r["customers"] >= 10]
        if moved:
            top = max(moved, key=lambda r: r["customers"])
            view.findings.append(
                Finding(
                    text(
                        "kpi.finding.recruitment",
                        share=(top["share"], "pct"),
                        channel=_on(top["first_channel"]),
                        next=_on(top["next_channel"]),
                    ),
                    2,
                    (top["share"],),
                )
            )
    renew = [r for r in renewal if r["median_days"] is not None and r["customers"] >= 5]
    if renew:
        renew.sort(key=lambda r: r["median_days"])
        view.charts.append(
            Chart(
                "hbar",
                text("kpi.chart.renewal"),
                text("col.days"),
                text("col.category"),
                series=(
                    Series(
                        text("col.median"),
                        tuple(r["median_days"] for r in renew[:20]),
                        tuple(r["category"] for r in renew[:20]),
                    ),
                ),
                value_kind="days",
            )
        )
        view.findings.append(
            Finding(
                text(
                    "kpi.finding.renewal",
                    category=renew[0]["category"],
                    days=(renew[0]["median_days"], "days"),
                ),
                1.5,
                (renew[0]["median_days"],),
            )
        )


def _channel(channel: str) -> Text:
    """A channel named in both languages; ``none`` (no next channel yet) in words."""
    return text("none") if channel == "none" else joined(channel)


def _on(channel: str) -> Text:
    """``in store``, ``on the web``...: a channel after a verb, in both languages."""
    words = {
        "store": ("in store", "en magasin"),
        "web": ("on the web", "sur le web"),
        "app": ("on the app", "sur l'application"),
        "phone": ("by phone", "par téléphone"),
        "marketplace": ("on a marketplace", "sur une place de marché"),
    }
    en, fr = words.get(channel, (f"on {channel}", f"sur {channel}"))
    return Text(en, fr)


# Delay to the second purchase, in days: the bins of its distribution (upper bounds).
DELAY_BINS = (7, 30, 90, 180, 365)


def second_purchase_distribution(engine: Engine) -> Chart | None:
    """Second buyers by delay to their second purchase, per first channel (binned in the engine)."""
    if not engine.has_table(CUSTOMER_PROFILE.name):
        return None
    p = engine.table(CUSTOMER_PROFILE.name)
    if "days_to_second_order" not in p.columns:
        return None
    second = p.filter(p.days_to_second_order.notnull() & p.first_channel.notnull())
    days = second.days_to_second_order
    bin_of = ibis.cases(
        *((days <= bound, i) for i, bound in enumerate(DELAY_BINS)), else_=len(DELAY_BINS)
    )
    binned = second.mutate(bin=bin_of)
    rows = records(
        binned.group_by(["first_channel", "bin"]).aggregate(customers=binned.count()), engine
    )
    if not rows:
        return None
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["first_channel"]] = totals.get(r["first_channel"], 0) + r["customers"]
    share = {
        (r["first_channel"], r["bin"]): r["customers"] / totals[r["first_channel"]] for r in rows
    }
    labels = _bin_labels()
    return Chart(
        "bar",
        text("kpi.chart.delay"),
        text("col.delay"),
        text("col.second_share"),
        series=tuple(
            Series(
                _channel(channel),
                labels,
                tuple(share.get((channel, i), 0.0) for i in range(len(labels))),
            )
            for channel in sorted(totals, key=lambda c: -totals[c])
        ),
        value_kind="pct",
    )


def _bin_labels() -> tuple[Text, ...]:
    lows = (0, *(b + 1 for b in DELAY_BINS))
    labels = [
        text("kpi.bin", low=low, high=high) for low, high in zip(lows, DELAY_BINS, strict=False)
    ]
    return (*labels, text("kpi.bin.more", low=DELAY_BINS[-1]))
