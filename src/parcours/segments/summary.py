"""What the knowledge stages print: profile counts, KPIs by segment, segments, persona cards.

The CLI commands and the demo call these; they read the written tables, never recompute.
"""

from __future__ import annotations

from parcours import console
from parcours.engine import Engine
from parcours.metrics import KpiReport, ProfileReport
from parcours.schema import (
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
    from parcours.terminal import show
    from parcours.views.knowledge import profile_view

    show(profile_view(report))


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
    from parcours.terminal import draw_table
    from parcours.views.knowledge import kpi_view

    for table in kpi_view(ws.engine).tables:
        draw_table(table)


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
