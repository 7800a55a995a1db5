"""The CLV stage (``parcours clv``): per-person predictions and their holdout evaluation.

It fits the purchase-count model of the ``clv`` config (BG/NBD or MBG/NBD) and the Gamma-Gamma
spend model on the workspace's purchases (:mod:`parcours.facts`), and writes

* ``customer_predictions``: expected purchases over 90 and 365 days, P(alive), the date of the
  next purchase, the expected spend, the CLV and a churn-risk band per person, joined onto
  ``customer_profile`` when that table exists;
* ``clv_evaluation``: the same model fitted on the purchases up to ``as_of - holdout_days``,
  its predicted purchases in the holdout period against the actual ones, overall and by
  segment.

A purchase occasion is a calendar day with at least one purchase: several orders of one person
on the same day count once, and their amounts add up (:func:`parcours.models.rfm_summary`).
The summaries are built in the engine; only one row per person reaches Python.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from parcours import facts
from parcours.config import ClvConfig
from parcours.engine import Engine, conform
from parcours.errors import MissingInputError, UserInputError
from parcours.models._estimator import ConvergenceWarning
from parcours.models.bgnbd import BetaGeoModel
from parcours.models.clv import discounted_purchases
from parcours.models.gammagamma import GammaGammaModel
from parcours.models.mbgnbd import ModifiedBetaGeoModel
from parcours.models.summary import (
    AGE,
    FREQUENCY,
    FREQUENCY_HOLDOUT,
    MONETARY_VALUE,
    RECENCY,
    calibration_holdout_summary,
    rfm_summary,
)
from parcours.schema import (
    CHURN_RISK,
    CHURN_RISK_BANDS,
    CLV_EVALUATION,
    CLV_VALUE,
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    CUSTOMER_PREDICTIONS,
    EVAL_ACTUAL,
    EVAL_CALIBRATION_END,
    EVAL_CUSTOMERS,
    EVAL_ERROR,
    EVAL_GROUPING,
    EVAL_GROUPINGS,
    EVAL_HOLDOUT_END,
    EVAL_MEAN_ABSOLUTE_ERROR,
    EVAL_PREDICTED,
    EVAL_SEGMENT,
    EXPECTED_PURCHASES_90D,
    EXPECTED_PURCHASES_365D,
    EXPECTED_SPEND,
    NEXT_PURCHASE_DATE,
    P_ALIVE,
    PREDICTIONS_AS_OF,
    RFM_AGE_DAYS,
    RFM_FREQUENCY,
    RFM_MONETARY_VALUE,
    RFM_RECENCY_DAYS,
)
from parcours.workspace import Workspace

STAGE = "clv"
MODELS: dict[str, type[BetaGeoModel | ModifiedBetaGeoModel]] = {
    "bgnbd": BetaGeoModel,
    "mbgnbd": ModifiedBetaGeoModel,
}
MODEL_NAMES = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD"}
# The groupings of clv_evaluation; the last one is also the customer_profile column it reads.
ALL, FIRST_CHANNEL, LIFECYCLE_SEGMENT = EVAL_GROUPINGS
HIGH, MEDIUM, LOW = CHURN_RISK_BANDS
UNKNOWN_SEGMENT = "unknown"
# A median further away than this is no plan a retailer can act on: reported as no date.
MAX_NEXT_PURCHASE_DAYS = 3652
# The columns the stage adds to customer_profile; the model inputs stay in its own table.
PROFILE_COLUMNS = (
    EXPECTED_PURCHASES_90D,
    EXPECTED_PURCHASES_365D,
    P_ALIVE,
    NEXT_PURCHASE_DATE,
    EXPECTED_SPEND,
    CLV_VALUE,
    CHURN_RISK,
)

_ORDERED_AT = CUSTOMER_ORDERS.column("ordered_at").name
_AMOUNT = CUSTOMER_ORDERS.column("total_amount").name
_CHANNEL = CUSTOMER_ORDERS.column("channel").name
_ORDER_ID = CUSTOMER_ORDERS.column("order_id").name
_CURRENCY = CUSTOMER_ORDERS.column("currency").name
_SEGMENT = "_parcours_segment"
_RANK = "_parcours_rank"


@dataclass(frozen=True)
class SegmentEvaluation:
    """Predicted against actual purchase days in the holdout period, for one segment."""

    grouping: str
    segment: str
    customers: int
    predicted: float
    actual: int
    mean_absolute_error: float

    @property
    def error(self) -> float | None:
        """Relative error ``predicted / actual - 1``; None when nothing was bought."""
        return self.predicted / self.actual - 1 if self.actual else None


@dataclass
class ClvReport:
    """What ``parcours clv`` computed and wrote."""

    as_of: dt.date
    model: str
    params: dict[str, float]
    spend_params: dict[str, float] | None
    customers: int
    churn_risk: dict[str, int]
    expected_purchases_365d: float
    total_clv: float
    horizon_months: int
    profile_updated: bool
    holdout_days: int = 0
    calibration_end: dt.date | None = None
    evaluation: list[SegmentEvaluation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def write_predictions(
    ws: Workspace, as_of: dt.date | None = None, *, holdout_days: int | None = None
) -> ClvReport:
    """Fit the models on the workspace and write ``customer_predictions`` and ``clv_evaluation``.

    Parameters
    ----------
    ws : Workspace
        The workspace; its ``clv`` config section chooses the model, the CLV horizon and
        discount rate, the churn-risk thresholds and the default holdout length.
    as_of : datetime.date, optional
        Prediction date; purchases up to this day (inclusive) are used. Defaults to the day
        of the last order (:func:`parcours.facts.resolve_as_of`).
    holdout_days : int, optional
        Length of the holdout evaluation; ``clv.holdout_days`` when None, 0 to skip it. When
        given explicitly, a holdout that cannot be evaluated is an error; from the config, it
        is only a note in the report.

    Returns
    -------
    ClvReport
        Fitted parameters, counts per churn-risk band, the evaluation rows and notes.

    Raises
    ------
    UserInputError
        When there is no resolved order, no purchase on or before ``as_of``, no repeat
        purchase to fit on, or a negative ``holdout_days``.
    """
    settings = ws.config.clv
    engine = ws.engine
    if holdout_days is not None and holdout_days < 0:
        raise UserInputError(
            f"holdout_days must be >= 0. Got {holdout_days} instead.",
            hint="0 skips the evaluation",
        )
    explicit_holdout = holdout_days is not None
    holdout = settings.holdout_days if holdout_days is None else holdout_days
    as_of = facts.resolve_as_of(engine, as_of)
    bought = facts.purchases(engine, as_of)
    notes: list[str] = []

    summary = _fetch(engine, rfm_summary(bought, CUSTOMER_KEY, _ORDERED_AT, _AMOUNT, as_of=as_of))
    if summary.empty:
        raise MissingInputError(
            f"no completed purchase of a known customer on or before {as_of.isoformat()}",
            hint="choose a later --as-of, or ingest orders and run: parcours resolve",
        )
    model, spend_model = _fit(summary, settings, notes)
    predictions = _predictions(summary, model, spend_model, settings, as_of)
    currencies = engine.execute(bought[_CURRENCY].nunique())
    if currencies and currencies > 1:
        notes.append(
            f"purchases are in {currencies} currencies; amounts were added as they are, "
            "so spend and CLV mix them"
        )

    evaluation: list[SegmentEvaluation] = []
    calibration_end = None
    if holdout:
        calibration_end = as_of - dt.timedelta(days=holdout)
        try:
            evaluation = _evaluate(engine, bought, settings, calibration_end, as_of)
        except UserInputError as e:
            if explicit_holdout:
                raise UserInputError(
                    f"holdout evaluation from {calibration_end.isoformat()}: {e.problem.message}",
                    hint="choose fewer --holdout-days, or 0 to skip the evaluation",
                ) from None
            notes.append(f"holdout evaluation skipped: {e.problem.message}")
            calibration_end = None

    # Everything is computed before the first write, so a failure leaves the old tables.
    table = conform(
        engine.from_arrow(predictions, "_parcours_clv_predictions"), CUSTOMER_PREDICTIONS
    )
    engine.write(CUSTOMER_PREDICTIONS.name, table, stage=STAGE)
    if evaluation:
        rows = _evaluation_table(evaluation, calibration_end, as_of)
        table = conform(engine.from_arrow(rows, "_parcours_clv_evaluation"), CLV_EVALUATION)
        engine.write(CLV_EVALUATION.name, table, stage=STAGE)
    elif engine.has_table(CLV_EVALUATION.name):
        # An evaluation of another as-of date would be read as this one's.
        engine.drop(CLV_EVALUATION.name)

    profile_updated = engine.has_table(facts.PROFILE)
    if profile_updated:
        written = engine.table(CUSTOMER_PREDICTIONS.name)
        facts.add_profile_columns(
            engine, written.select(CUSTOMER_KEY, *PROFILE_COLUMNS), stage=STAGE
        )
    else:
        notes.append(
            f"{facts.PROFILE} does not exist yet: wrote {CUSTOMER_PREDICTIONS.name} alone; "
            "run parcours profile, then parcours clv again to add the columns to it"
        )

    churn = predictions[CHURN_RISK].to_pylist()
    return ClvReport(
        as_of=as_of,
        model=settings.model,
        params=dict(model.params_),
        spend_params=dict(spend_model.params_) if spend_model is not None else None,
        customers=predictions.num_rows,
        churn_risk={band: churn.count(band) for band in CHURN_RISK_BANDS},
        expected_purchases_365d=_total(predictions[EXPECTED_PURCHASES_365D]),
        total_clv=_total(predictions[CLV_VALUE]),
        horizon_months=settings.horizon_months,
        profile_updated=profile_updated,
        holdout_days=holdout if calibration_end else 0,
        calibration_end=calibration_end,
        evaluation=evaluation,
        notes=notes,
    )


def _total(column: pa.ChunkedArray) -> float:
    return float(pc.sum(column).as_py() or 0.0)


def _fetch(engine: Engine, expr: ibis.Table) -> pd.DataFrame:
    # Sorted so that a rerun on the same data fits on the same rows in the same order.
    return engine.to_pyarrow(expr.order_by(CUSTOMER_KEY)).to_pandas()


def _fit(
    summary: pd.DataFrame, settings: ClvConfig, notes: list[str]
) -> tuple[BetaGeoModel | ModifiedBetaGeoModel, GammaGammaModel | None]:
    """The purchase-count model and, when some repeat purchase has a value, the spend model."""
    x, tx, age = summary[FREQUENCY], summary[RECENCY], summary[AGE]
    model = MODELS[settings.model](penalizer=settings.penalizer)
    with _convergence_notes(notes):
        model.fit(x, tx, age)
    m = summary[MONETARY_VALUE].to_numpy()
    valued = (x.to_numpy() > 0) & (m > 0)
    if not valued.any():
        notes.append("no repeat purchase has a value above 0: expected spend and CLV are empty")
        return model, None
    spend_model = GammaGammaModel()
    with _convergence_notes(notes):
        spend_model.fit(x[valued], m[valued])
    return model, spend_model


@contextmanager
def _convergence_notes(notes: list[str]) -> Iterator[None]:
    """Turn the models' ConvergenceWarnings into report notes; other warnings pass through."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        yield
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _predictions(
    summary: pd.DataFrame,
    model: BetaGeoModel | ModifiedBetaGeoModel,
    spend_model: GammaGammaModel | None,
    settings: ClvConfig,
    as_of: dt.date,
) -> pa.Table:
    x = summary[FREQUENCY].to_numpy(np.float64)
    tx = summary[RECENCY].to_numpy(np.float64)
    age = summary[AGE].to_numpy(np.float64)
    m = summary[MONETARY_VALUE].to_numpy(np.float64)
    p_alive = model.p_alive(x, tx, age)
    if spend_model is not None:
        # A repeat buyer whose repeat purchases were all worth 0 tells the spend model
        # nothing it can score: they get the population mean, like a one-time buyer.
        spend = spend_model.expected_spend(np.where(m > 0, x, 0.0), m)
    else:
        spend = np.full(len(x), np.nan)
    value = spend * discounted_purchases(
        model,
        x,
        tx,
        age,
        horizon_months=settings.horizon_months,
        discount_rate_monthly=settings.discount_rate_monthly,
        time_unit_days=1.0,
    )
    median = model.median_time_to_next_purchase(x, tx, age)
    dated = np.isfinite(median) & (median <= MAX_NEXT_PURCHASE_DAYS)
    days = np.where(dated, np.ceil(np.where(dated, median, 0.0)), 0).astype("timedelta64[D]")
    next_date = np.datetime64(as_of, "D") + days
    band = np.select(
        [p_alive < settings.high_risk_below, p_alive < settings.medium_risk_below],
        [HIGH, MEDIUM],
        LOW,
    )
    return pa.table(
        {
            CUSTOMER_KEY: pa.array(summary[CUSTOMER_KEY], pa.string()),
            PREDICTIONS_AS_OF: pa.array([as_of] * len(x), pa.date32()),
            RFM_FREQUENCY: pa.array(x.astype(np.int64)),
            RFM_RECENCY_DAYS: pa.array(np.rint(tx).astype(np.int64)),
            RFM_AGE_DAYS: pa.array(np.rint(age).astype(np.int64)),
            RFM_MONETARY_VALUE: pa.array(m),
            EXPECTED_PURCHASES_90D: pa.array(model.predict_purchases(90.0, x, tx, age)),
            EXPECTED_PURCHASES_365D: pa.array(model.predict_purchases(365.0, x, tx, age)),
            P_ALIVE: pa.array(p_alive),
            NEXT_PURCHASE_DATE: pa.array(next_date, pa.date32(), mask=~dated),
            EXPECTED_SPEND: pa.array(spend, pa.float64(), from_pandas=True),
            CLV_VALUE: pa.array(value, pa.float64(), from_pandas=True),
            CHURN_RISK: pa.array(band, pa.string()),
        }
    )


def _first_channels(bought: ibis.Table) -> ibis.Table:
    """The channel of each person's first purchase (ties broken by order id)."""
    rank = ibis.row_number().over(
        group_by=bought[CUSTOMER_KEY], order_by=[bought[_ORDERED_AT], bought[_ORDER_ID]]
    )
    ranked = bought.mutate(**{_RANK: rank})
    first = ranked.filter(ranked[_RANK] == 0)
    return first.select(CUSTOMER_KEY, **{FIRST_CHANNEL: first[_CHANNEL]})


def _with_column(table: ibis.Table, other: ibis.Table, column: str) -> ibis.Table:
    """``table`` with ``other[column]`` joined on the person (null when absent)."""
    joined = table.left_join(other, table[CUSTOMER_KEY] == other[CUSTOMER_KEY])
    return joined.select(*[table[c] for c in table.columns], other[column])


def _evaluate(
    engine: Engine,
    bought: ibis.Table,
    settings: ClvConfig,
    calibration_end: dt.date,
    as_of: dt.date,
) -> list[SegmentEvaluation]:
    """Fit on the calibration period, predict the holdout period, compare by segment."""
    summary = calibration_holdout_summary(
        bought, CUSTOMER_KEY, _ORDERED_AT, calibration_end=calibration_end, as_of=as_of
    )
    summary = _with_column(summary, _first_channels(bought), FIRST_CHANNEL)
    groupings = [FIRST_CHANNEL]
    if engine.has_table(facts.PROFILE):
        profile = engine.table(facts.PROFILE)
        if LIFECYCLE_SEGMENT in profile.columns:
            summary = _with_column(summary, profile, LIFECYCLE_SEGMENT)
            groupings.append(LIFECYCLE_SEGMENT)
    data = _fetch(engine, summary)
    if data.empty:
        raise UserInputError(f"no purchase on or before {calibration_end.isoformat()}")
    model = MODELS[settings.model](penalizer=settings.penalizer)
    with warnings.catch_warnings():
        # A shaky calibration fit shows in the evaluation's error, which is what it is for.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(data[FREQUENCY], data[RECENCY], data[AGE])
    horizon = float((as_of - calibration_end).days)
    data[EVAL_PREDICTED] = model.predict_purchases(
        horizon, data[FREQUENCY], data[RECENCY], data[AGE]
    )
    data[EVAL_ACTUAL] = data[FREQUENCY_HOLDOUT]
    data[EVAL_MEAN_ABSOLUTE_ERROR] = (data[EVAL_PREDICTED] - data[EVAL_ACTUAL]).abs()
    data[ALL] = ALL
    rows = []
    for grouping in (ALL, *groupings):
        segment = data[grouping].fillna(UNKNOWN_SEGMENT).astype(str).rename(_SEGMENT)
        by = data.groupby(segment, sort=True).agg(
            customers=(EVAL_ACTUAL, "size"),
            predicted=(EVAL_PREDICTED, "sum"),
            actual=(EVAL_ACTUAL, "sum"),
            mae=(EVAL_MEAN_ABSOLUTE_ERROR, "mean"),
        )
        rows += [
            SegmentEvaluation(
                grouping,
                str(name),
                int(r.customers),
                float(r.predicted),
                int(r.actual),
                float(r.mae),
            )
            for name, r in by.iterrows()
        ]
    return rows


def _evaluation_table(
    rows: list[SegmentEvaluation], calibration_end: dt.date | None, as_of: dt.date
) -> pa.Table:
    return pa.table(
        {
            EVAL_GROUPING: pa.array([r.grouping for r in rows], pa.string()),
            EVAL_SEGMENT: pa.array([r.segment for r in rows], pa.string()),
            EVAL_CUSTOMERS: pa.array([r.customers for r in rows], pa.int64()),
            EVAL_PREDICTED: pa.array([r.predicted for r in rows], pa.float64()),
            EVAL_ACTUAL: pa.array([r.actual for r in rows], pa.int64()),
            EVAL_ERROR: pa.array([r.error for r in rows], pa.float64()),
            EVAL_MEAN_ABSOLUTE_ERROR: pa.array([r.mean_absolute_error for r in rows], pa.float64()),
            EVAL_CALIBRATION_END: pa.array([calibration_end] * len(rows), pa.date32()),
            EVAL_HOLDOUT_END: pa.array([as_of] * len(rows), pa.date32()),
        }
    )
