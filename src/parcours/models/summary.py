"""Per-customer model inputs (frequency, recency, T, monetary value), built in the engine.

The builders take an orders table and return an Ibis expression, so the summary of millions of
orders is computed by the engine (DuckDB or Spark) and only the per-customer rows reach Python.

Definitions follow lifetimes' ``summary_data_from_transaction_data`` with ``freq="D"``:
orders are first summed per customer and calendar day (same-day orders count as one purchase),
then

* ``frequency``: number of distinct purchase days minus 1 (repeat purchases);
* ``recency``: time between the first and the last purchase day;
* ``T``: time between the first purchase day and ``as_of``;
* ``monetary_value``: mean daily value of the repeat purchase days, 0 when ``frequency`` is 0.

With ``time_unit="W"`` recency and T are day counts divided by 7, which is how Fader and Hardie
built the CDNOW summaries (lifetimes' ``freq="D", freq_multiplier=7``). It is not lifetimes'
``freq="W"``, which also merges purchases made in the same calendar week.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting Your Customers" the Easy
   Way: An Alternative to the Pareto/NBD Model. *Marketing Science*, 24(2), 275-284.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from parcours.errors import UserInputError

FREQUENCY = "frequency"
RECENCY = "recency"
AGE = "T"
MONETARY_VALUE = "monetary_value"
FREQUENCY_HOLDOUT = "frequency_holdout"
MONETARY_VALUE_HOLDOUT = "monetary_value_holdout"
DURATION_HOLDOUT = "duration_holdout"
TIME_UNIT_DAYS = {"D": 1, "W": 7}

_DAY = "_parcours_day"
_AMOUNT = "_parcours_amount"
_FIRST_DAY = "_parcours_first_day"
_OUTPUT_COLUMNS = (
    FREQUENCY,
    RECENCY,
    AGE,
    MONETARY_VALUE,
    FREQUENCY_HOLDOUT,
    MONETARY_VALUE_HOLDOUT,
    DURATION_HOLDOUT,
)


def rfm_summary(
    orders: ir.Table,
    customer_col: str,
    date_col: str,
    amount_col: str | None = None,
    *,
    as_of: dt.date | dt.datetime | str,
    time_unit: str = "D",
) -> ir.Table:
    """Frequency, recency, T and monetary value of each customer as of a date.

    Orders after ``as_of`` are left out; orders with a null customer or date are skipped.

    Parameters
    ----------
    orders : ibis.Table
        One row per order (or order line).
    customer_col : str
        Column identifying the customer; kept under the same name in the result.
    date_col : str
        Date or timestamp of the order; only its calendar day is used.
    amount_col : str, optional
        Order value. Without it the result has no ``monetary_value`` column.
    as_of : date, datetime or ISO date string
        End of the observation period (inclusive).
    time_unit : {"D", "W"}, default "D"
        Unit of ``recency`` and ``T``: days, or weeks of 7 days (fractional).

    Returns
    -------
    ibis.Table
        One row per customer with ``customer_col``, ``frequency`` (int64), ``recency`` and
        ``T`` (float64) and, with ``amount_col``, ``monetary_value`` (float64).

    Raises
    ------
    UserInputError
        If a column is missing or has the wrong type, or ``time_unit`` is unknown.

    Examples
    --------
    >>> import ibis
    >>> import pyarrow as pa
    >>> orders = ibis.memtable(pa.table({
    ...     "customer": ["a", "a", "a", "b"],
    ...     "day": [dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 1, 8),
    ...             dt.date(2024, 1, 5)],
    ...     "amount": [10.0, 5.0, 20.0, 7.0],
    ... }))
    >>> summary = rfm_summary(orders, "customer", "day", "amount", as_of="2024-01-15")
    >>> summary.order_by("customer").to_pyarrow().to_pylist()  # doctest: +NORMALIZE_WHITESPACE
    [{'customer': 'a', 'frequency': 1, 'recency': 7.0, 'T': 14.0, 'monetary_value': 20.0},
     {'customer': 'b', 'frequency': 0, 'recency': 0.0, 'T': 10.0, 'monetary_value': 0.0}]
    """
    unit_days = _check_time_unit(time_unit)
    end = _as_date(as_of, "as_of")
    daily = _daily_purchases(orders, customer_col, date_col, amount_col)
    daily = daily.filter(daily[_DAY] <= end)
    first_day = daily[_DAY].min().over(group_by=daily[customer_col])
    daily = daily.mutate(**{_FIRST_DAY: first_day})
    metrics = {
        "_n_days": daily.count(),
        "_first": daily[_DAY].min(),
        "_last": daily[_DAY].max(),
    }
    if amount_col is not None:
        metrics["_repeat_mean"] = daily[_AMOUNT].mean(where=daily[_DAY] > daily[_FIRST_DAY])
    per_customer = daily.group_by(customer_col).aggregate(**metrics)
    columns = {
        customer_col: per_customer[customer_col],
        FREQUENCY: (per_customer["_n_days"] - 1).cast("int64"),
        RECENCY: per_customer["_last"].delta(per_customer["_first"], unit="day").cast("float64")
        / unit_days,
        AGE: ibis.literal(end).delta(per_customer["_first"], unit="day").cast("float64")
        / unit_days,
    }
    if amount_col is not None:
        columns[MONETARY_VALUE] = per_customer["_repeat_mean"].cast("float64").fill_null(0.0)
    return per_customer.select(**columns)


def calibration_holdout_summary(
    orders: ir.Table,
    customer_col: str,
    date_col: str,
    amount_col: str | None = None,
    *,
    calibration_end: dt.date | dt.datetime | str,
    as_of: dt.date | dt.datetime | str,
    time_unit: str = "D",
) -> ir.Table:
    """Calibration summary up to ``calibration_end`` plus what happened until ``as_of``.

    Customers are those with an order on or before ``calibration_end``; their summary is
    :func:`rfm_summary` as of ``calibration_end``, and the holdout period is
    ``(calibration_end, as_of]``.

    Parameters
    ----------
    orders : ibis.Table
        One row per order (or order line).
    customer_col, date_col, amount_col : str
        As in :func:`rfm_summary`.
    calibration_end : date, datetime or ISO date string
        Last day of the calibration period (inclusive).
    as_of : date, datetime or ISO date string
        Last day of the holdout period (inclusive); after ``calibration_end``.
    time_unit : {"D", "W"}, default "D"
        Unit of ``recency``, ``T`` and ``duration_holdout``.

    Returns
    -------
    ibis.Table
        The columns of :func:`rfm_summary` plus ``frequency_holdout`` (number of purchase
        days in the holdout period, int64), ``monetary_value_holdout`` (their mean daily
        value, 0 without any; only with ``amount_col``) and ``duration_holdout`` (length of
        the holdout period in ``time_unit``).

    Raises
    ------
    UserInputError
        If ``as_of`` is not after ``calibration_end``, or as :func:`rfm_summary`.

    Notes
    -----
    lifetimes' ``calibration_and_holdout_data`` averages the raw holdout transactions for
    ``monetary_value_holdout``; here, as in the calibration period, same-day orders are
    summed first, so both monetary columns mean the same thing.
    """
    unit_days = _check_time_unit(time_unit)
    start = _as_date(calibration_end, "calibration_end")
    end = _as_date(as_of, "as_of")
    if end <= start:
        raise UserInputError(
            f"as_of must be after calibration_end ({start.isoformat()}). "
            f"Got {end.isoformat()} instead."
        )
    calibration = rfm_summary(
        orders, customer_col, date_col, amount_col, as_of=start, time_unit=time_unit
    )
    daily = _daily_purchases(orders, customer_col, date_col, amount_col)
    daily = daily.filter((daily[_DAY] > start) & (daily[_DAY] <= end))
    metrics = {FREQUENCY_HOLDOUT: daily.count()}
    if amount_col is not None:
        metrics[MONETARY_VALUE_HOLDOUT] = daily[_AMOUNT].mean()
    holdout = daily.group_by(customer_col).aggregate(**metrics)
    joined = calibration.left_join(holdout, customer_col)
    columns = {name: joined[name] for name in calibration.columns}
    columns[FREQUENCY_HOLDOUT] = joined[FREQUENCY_HOLDOUT].fill_null(0).cast("int64")
    if amount_col is not None:
        columns[MONETARY_VALUE_HOLDOUT] = (
            joined[MONETARY_VALUE_HOLDOUT].cast("float64").fill_null(0.0)
        )
    columns[DURATION_HOLDOUT] = ibis.literal((end - start).days / unit_days, type="float64")
    return joined.select(**columns)


def _daily_purchases(
    orders: ir.Table, customer_col: str, date_col: str, amount_col: str | None
) -> ir.Table:
    """One row per customer and purchase day, with the day's total amount."""
    _check_columns(orders, customer_col, date_col, amount_col)
    date = orders[date_col]
    selected = {
        customer_col: orders[customer_col],
        _DAY: date.date() if date.type().is_timestamp() else date,
    }
    if amount_col is not None:
        selected[_AMOUNT] = orders[amount_col].cast("float64")
    rows = orders.select(**selected)
    rows = rows.filter(rows[customer_col].notnull() & rows[_DAY].notnull())
    aggregates = {_AMOUNT: rows[_AMOUNT].sum()} if amount_col is not None else {}
    if not aggregates:
        return rows.select(customer_col, _DAY).distinct()
    return rows.group_by([customer_col, _DAY]).aggregate(**aggregates)


def _check_columns(
    orders: ir.Table, customer_col: str, date_col: str, amount_col: str | None
) -> None:
    schema = orders.schema()
    available = ", ".join(schema.names)
    problems = []
    for role, name in (
        ("customer_col", customer_col),
        ("date_col", date_col),
        ("amount_col", amount_col),
    ):
        if name is not None and name not in schema:
            problems.append(f"{role}: unknown column {name!r}; available: {available}")
    if not problems:
        if customer_col in _OUTPUT_COLUMNS:
            problems.append(
                f"customer_col must not be named like an output column "
                f"({', '.join(_OUTPUT_COLUMNS)}). Got {customer_col!r} instead."
            )
        date_type = schema[date_col]
        if not (date_type.is_date() or date_type.is_timestamp()):
            problems.append(
                f"date_col {date_col!r} must be a date or timestamp column. "
                f"Got {date_type} instead."
            )
        if amount_col is not None and not schema[amount_col].is_numeric():
            problems.append(
                f"amount_col {amount_col!r} must be a numeric column. "
                f"Got {schema[amount_col]} instead."
            )
    if problems:
        raise UserInputError("; ".join(problems))


def _check_time_unit(time_unit: str) -> int:
    if time_unit not in TIME_UNIT_DAYS:
        raise UserInputError(
            f"time_unit must be one of {', '.join(map(repr, TIME_UNIT_DAYS))}. "
            f"Got {time_unit!r} instead."
        )
    return TIME_UNIT_DAYS[time_unit]


def _as_date(value: dt.date | dt.datetime | str, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise UserInputError(
        f"{name} must be a date, a datetime or an ISO date string (YYYY-MM-DD). "
        f"Got {value!r} instead."
    )
