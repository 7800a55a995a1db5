"""What the knowledge stages print: profile counts, KPIs by segment, segments, persona cards.

The CLI commands and the demo call these; they read the written tables, never recompute.
"""

from __future__ import annotations

from parcours import console
from parcours.engine import Engine
from parcours.metrics import KpiReport, ProfileReport
from parcours.schema import (
    KPI_RECRUITMENT,
    KPI_RENEWAL,
    KPI_SECOND_PURCHASE,
    KPI_SEGMENTS,
    PERSONA_SELECTION,
    PERSONAS,
    SEGMENT_LABELS,
)
from parcours.workspace import Workspace


def _rows(engine: Engine, name: str, columns: list[str], **filters: str) -> list[list]:
    if not engine.has_table(name):
        return []
    t = engine.table(name)
    for column, value in filters.items():
        t = t.filter(t[column] == value)
    return [list(r.values()) for r in engine.to_pyarrow(t.select(*columns)).to_pylist()]


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.0%}"


def print_profile(report: ProfileReport) -> None:
    """The profile's counts."""
    console.table(
        f"Customer profile as of {report.as_of}",
        ["customers", "with a purchase", "active", "activity rate", "revenue"],
        [
            [
                report.customers,
                report.buyers,
                report.active,
                _pct(report.active / report.buyers if report.buyers else None),
                round(report.revenue, 2),
            ]
        ],
    )
    if report.cleared:
        console.warn(
            f"the new profile has none of the later stages' columns ({', '.join(report.cleared)}): "
            "run parcours segments, personas and clv again, or parcours run"
        )


def print_segment_kpis(engine: Engine, dimension: str, title: str) -> None:
    """KPIs per segment of one segmentation, largest segment first, with French labels."""
    rows = _rows(
        engine,
        KPI_SEGMENTS.name,
        [
            "segment",
            "customers",
            "customer_share",
            "activity_rate",
            "purchase_frequency",
            "average_basket",
            "revenue_per_active",
            "revenue_share",
        ],
        dimension=dimension,
    )
    labels = {
        r[0]: r[1]
        for r in _rows(engine, SEGMENT_LABELS.name, ["segment", "label_fr"], dimension=dimension)
    }
    rows.sort(key=lambda r: -r[1])
    console.table(
        title,
        [
            "segment",
            "libellé",
            "customers",
            "share",
            "activity",
            "purchases/active",
            "avg basket",
            "revenue/active",
            "revenue share",
        ],
        [
            [r[0], labels.get(r[0], ""), r[1], _pct(r[2]), _pct(r[3]), r[4], r[5], r[6], _pct(r[7])]
            for r in rows
        ],
    )


def print_kpis(ws: Workspace, report: KpiReport | None = None) -> None:
    """The main KPI tables: overall and channel mix, second purchase, renewal, recruitment."""
    engine = ws.engine
    print_segment_kpis(engine, "all", "KPIs, all customers with a purchase")
    print_segment_kpis(engine, "channel_mix", "KPIs by channel mix")
    console.table(
        "Delay before the second purchase (days), by first channel",
        [
            "first channel",
            "customers",
            "second buyers",
            "median",
            "q1",
            "q3",
            "≤30 d",
            "≤90 d",
            "≤180 d",
            "≤365 d",
        ],
        [
            [*r[:6], *(_pct(x) for x in r[6:])]
            for r in _rows(
                engine,
                KPI_SECOND_PURCHASE.name,
                [
                    "first_channel",
                    "customers",
                    "second_buyers",
                    "median_days",
                    "q1_days",
                    "q3_days",
                    "within_30_days",
                    "within_90_days",
                    "within_180_days",
                    "within_365_days",
                ],
            )
        ],
    )
    console.table(
        "Renewal time per category (days)",
        ["category", "family", "customers", "median", "q1", "q3"],
        sorted(
            _rows(
                engine,
                KPI_RENEWAL.name,
                ["category", "family", "customers", "median_days", "q1_days", "q3_days"],
            ),
            key=lambda r: r[0],
        ),
    )
    console.table(
        "Recruitment: first channel, then the next one",
        ["first channel", "next channel", "customers", "share", "median days"],
        [
            [r[0], r[1], r[2], _pct(r[3]), r[4]]
            for r in sorted(
                _rows(
                    engine,
                    KPI_RECRUITMENT.name,
                    ["first_channel", "next_channel", "customers", "share", "median_days"],
                ),
                key=lambda r: (r[0], -r[2]),
            )
        ],
    )


def print_segments(ws: Workspace) -> None:
    """Lifecycle and RFM segments with their KPIs."""
    print_segment_kpis(ws.engine, "lifecycle_segment", "Lifecycle segments")
    print_segment_kpis(ws.engine, "rfm_segment", "RFM segments")


def print_personas(ws: Workspace) -> None:
    """How many personas and why, then one card per persona."""
    engine = ws.engine
    selection = sorted(_rows(engine, PERSONA_SELECTION.name, ["clusters", "value", "chosen"]))
    if selection:
        k = next(n for n, _, chosen in selection if chosen)
        tried = ", ".join(f"{n}: {v:.3f}" for n, v, _ in selection)
        console.out.print(
            f"{k} personas, best silhouette (tried {tried})",
            markup=False,
            soft_wrap=True,
        )
    console.table(
        "Personas",
        [
            "persona",
            "name",
            "nom",
            "customers",
            "share",
            "revenue share",
            "channel",
            "families",
            "age",
            "traits",
        ],
        [
            [r[0], r[1], r[2], r[3], _pct(r[4]), _pct(r[5]), r[6], r[7], r[8], r[9]]
            for r in _rows(
                engine,
                PERSONAS.name,
                [
                    "persona",
                    "name_en",
                    "name_fr",
                    "customers",
                    "customer_share",
                    "revenue_share",
                    "preferred_channel",
                    "favourite_families",
                    "age_band",
                    "traits_en",
                ],
            )
        ],
    )


def print_knowledge(ws: Workspace) -> None:
    """The customer-knowledge summary: KPIs, segments and persona cards.

    Parameters
    ----------
    ws : Workspace
        A workspace where profile, KPIs, segments and personas have run.
    """
    engine = ws.engine
    print_segment_kpis(engine, "all", "Customer KPIs")
    print_segment_kpis(engine, "channel_mix", "Store-only, web-only, app-only, multichannel")
    print_segments(ws)
    print_personas(ws)
