"""Prediction views: CLV by decile and its concentration, churn-risk bands, holdout check."""

from __future__ import annotations

from typing import Any

import ibis

from parcours.engine import Engine
from parcours.facts import PROFILE
from parcours.schema import CHURN_RISK_BANDS, CLV_EVALUATION, CUSTOMER_PREDICTIONS
from parcours.views.locale import text, word
from parcours.views.model import Chart, Column, Finding, Note, Series, Table, View, same
from parcours.views.source import records, table_rows

BAND_COLUMNS = (
    Column("band", text("col.churn_risk")),
    Column("customers", text("col.customers"), "int"),
)
EVALUATION_COLUMNS = (
    Column("grouping", text("col.grouping")),
    Column("segment", text("col.segment")),
    Column("customers", text("col.customers"), "int"),
    Column("predicted", text("col.predicted"), "float", 1),
    Column("actual", text("col.actual"), "int"),
    Column("error", text("col.error"), "pct", 1),
    Column("mean_absolute_error", text("col.mae"), "float", 2),
)


# Predicted value bands, in euros (lower bounds): the bins of the CLV distribution.
CLV_BINS = (0, 10, 50, 100, 250, 500, 1000, 2500)


def clv_distribution(engine: Engine) -> Chart | None:
    """Customers per band of predicted value, binned in the engine."""
    p = engine.table(CUSTOMER_PREDICTIONS.name)
    valued = p.filter(p.clv.notnull())
    band = ibis.cases(*((valued.clv >= low, i) for i, low in reversed(list(enumerate(CLV_BINS)))))
    counts = {
        r["band"]: r["customers"]
        for r in records(
            valued.mutate(band=band).group_by("band").aggregate(customers=ibis._.count()), engine
        )
    }
    if not counts:
        return None
    highs = (*CLV_BINS[1:], None)
    labels = tuple(
        text("clv.band", low=(low, "money"), high=(high, "money"))
        if high is not None
        else text("clv.band.more", low=(low, "money"))
        for low, high in zip(CLV_BINS, highs, strict=True)
    )
    return Chart(
        "bar",
        text("clv.distribution"),
        text("col.clv"),
        text("col.customers"),
        series=(
            Series(
                text("col.customers"),
                labels,
                tuple(counts.get(i, 0) for i in range(len(CLV_BINS))),
            ),
        ),
    )


def clv_view(report: Any) -> View:
    """What a CLV run fitted and wrote, as ``parcours clv`` prints it."""
    from parcours.models.predictions import MODEL_NAMES

    view = View("clv", text("section.prediction"))
    info = view.notes.append
    params = ", ".join(f"{k}={v:.4g}" for k, v in report.params.items())
    info(
        _line(
            f"{MODEL_NAMES[report.model]} fitted on {report.customers:,} customers as of "
            f"{report.as_of.isoformat()} ({params}; alpha in days)"
        )
    )
    if report.spend_params:
        spend = ", ".join(f"{k}={v:.4g}" for k, v in report.spend_params.items())
        info(_line(f"Gamma-Gamma spend model: {spend}"))
    info(
        _line(
            f"expected purchase days in the next year: {report.expected_purchases_365d:,.0f}; "
            f"{report.horizon_months}-month CLV of the base: {report.total_clv:,.2f}"
        )
    )
    written = CUSTOMER_PREDICTIONS.name + (
        f" and its columns in {PROFILE}" if report.profile_updated else ""
    )
    info(_line(f"wrote {written}"))
    view.tables.append(
        Table(
            BAND_COLUMNS,
            tuple((text(f"band.{band}"), report.churn_risk[band]) for band in CHURN_RISK_BANDS),
            text("clv.predictions"),
        )
    )
    if report.evaluation and report.calibration_end is not None:
        view.tables.append(
            Table(
                EVALUATION_COLUMNS,
                tuple(
                    (
                        word(r.grouping),
                        word(r.segment),
                        r.customers,
                        r.predicted,
                        r.actual,
                        r.error,
                        r.mean_absolute_error,
                    )
                    for r in report.evaluation
                ),
                text(
                    "clv.holdout.run",
                    table=CLV_EVALUATION.name,
                    end=report.calibration_end.isoformat(),
                    days=report.holdout_days,
                ),
            )
        )
    for note in report.notes:
        info(_line(f"note: {note}"))
    return view


def _line(line: str) -> Note:
    return Note(same(line))


def prediction_views(engine: Engine) -> list[View]:
    p = engine.table(CUSTOMER_PREDICTIONS.name)
    valued = p.filter(p.clv.notnull())
    # Deciles in the engine: 1 = the tenth of customers with the highest predicted value.
    ranked = valued.mutate(decile=(ibis.ntile(10).over(order_by=ibis.desc(valued.clv)) + 1))
    deciles = records(
        ranked.group_by("decile").aggregate(value=ranked.clv.sum()).order_by("decile"), engine
    )
    bands = {
        r["churn_risk"]: r["customers"]
        for r in records(p.group_by("churn_risk").aggregate(customers=p.count()), engine)
    }
    view = View("prediction", text("section.prediction"))
    total = sum(d["value"] for d in deciles)
    if total > 0:
        view.charts.append(
            Chart(
                "bar",
                text("clv.concentration"),
                text("col.decile"),
                text("col.value_share"),
                series=(
                    Series(
                        text("col.value_share"),
                        tuple(str(d["decile"]) for d in deciles),
                        tuple(d["value"] / total for d in deciles),
                    ),
                ),
                value_kind="pct",
            )
        )
        top = deciles[0]["value"]
        view.findings.append(
            Finding(
                text("clv.finding.top", share=(top / total, "pct"), value=(top, "money")),
                3 + 3 * top / total,
                (top / total, top),
            )
        )
    customers = sum(bands.values())
    view.tables.append(
        Table(
            BAND_COLUMNS,
            tuple((text(f"band.{b}"), bands.get(b, 0)) for b in CHURN_RISK_BANDS),
            text("clv.predictions"),
        )
    )
    if customers and bands.get("high"):
        view.findings.append(
            Finding(
                text(
                    "clv.finding.risk",
                    customers=(bands["high"], "int"),
                    share=(bands["high"] / customers, "pct"),
                ),
                3 + 5 * bands["high"] / customers,
                (bands["high"], bands["high"] / customers),
            )
        )
    distribution = clv_distribution(engine)
    if distribution is not None:
        view.charts.insert(0, distribution)
    recency = p.mutate(months=((p.age_days - p.recency_days) / 30).floor().cast("int64"))
    alive = records(
        recency.filter(recency.p_alive.notnull())
        .group_by("months")
        .aggregate(p=recency.p_alive.mean())
        .order_by("months")
        .limit(36),
        engine,
    )
    if alive:
        view.charts.append(
            Chart(
                "line",
                text("clv.alive"),
                text("col.months_since_last"),
                text("col.p_alive"),
                series=(
                    Series(
                        text("col.p_alive"),
                        tuple(a["months"] for a in alive),
                        tuple(a["p"] for a in alive),
                    ),
                ),
                value_kind="pct",
            )
        )
    evaluation = table_rows(engine, CLV_EVALUATION.name)
    if evaluation:
        view.tables.append(
            Table(
                EVALUATION_COLUMNS,
                tuple(tuple(word(e[c.key]) for c in EVALUATION_COLUMNS) for e in evaluation),
                text("clv.holdout"),
            )
        )
        whole = next((e for e in evaluation if e["grouping"] == "all"), None)
        if whole:
            view.findings.append(
                Finding(
                    text(
                        "clv.finding.holdout",
                        predicted=(whole["predicted"], "int"),
                        actual=(whole["actual"], "int"),
                        error=(whole["error"], "pct", 1),
                    ),
                    1,
                    (whole["predicted"], whole["actual"]),
                )
            )
    return [view]
