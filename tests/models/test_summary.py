"""RFM summaries built in the engine, against hand-computed answers and the CDNOW files."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from parcours.errors import UserInputError
from parcours.models import calibration_holdout_summary, rfm_summary
from tests.models.conftest import CALIBRATION_END, OBSERVATION_END, round_half_up

ENGINES = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(params=ENGINES)
def load(request):
    """Return a function that turns a pyarrow table into an ibis table on the engine."""
    if request.param == "duckdb":
        con = ibis.duckdb.connect()
        yield lambda name, table: ibis.memtable(table), con
        con.disconnect()
        return
    session = request.getfixturevalue("spark_session")
    con = ibis.pyspark.connect(session)

    def to_spark(name: str, table: pa.Table):
        # Not ibis.memtable: on Spark it goes through pandas, which turns null text into 'NaN'.
        session.createDataFrame(table).createOrReplaceTempView(name)
        return con.table(name)

    yield to_spark, con


def run(load, expr, order_by: str) -> list[dict]:
    _, con = load
    return con.to_pyarrow(expr.order_by(order_by)).to_pylist()


def ts(day: str, hour: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day) + dt.timedelta(hours=hour)


ORDERS = pa.table(
    {
        "customer": ["a", "a", "a", "a", "a", "b", "c", "c", "c", "c", "c", "d", None],
        "ordered_at": [
            ts("2024-01-01", 10),
            ts("2024-01-01", 18),
            ts("2024-01-08"),
            ts("2024-01-22"),
            ts("2024-02-10"),
            ts("2024-01-05"),
            ts("2024-01-20"),
            ts("2024-01-20", 23),
            ts("2024-02-15"),
            ts("2024-02-15", 1),
            ts("2024-03-05"),
            ts("2024-02-05"),
            ts("2024-01-03"),
        ],
        "amount": [10.0, 5.0, 20.0, 40.0, 99.0, 7.0, 3.0, 4.0, 6.0, 4.0, 50.0, 8.0, 1.0],
    },
    schema=pa.schema(
        [("customer", pa.string()), ("ordered_at", pa.timestamp("us")), ("amount", pa.float64())]
    ),
)


def test_rfm_summary_counts_purchase_days_as_of_a_date(load):
    orders = load[0]("orders", ORDERS)

    summary = rfm_summary(orders, "customer", "ordered_at", "amount", as_of="2024-01-31")

    # a: days 01-01 (two orders), 01-08, 01-22; the 02-10 order is after as_of.
    # c: two orders on 01-20 are one purchase day; d bought after as_of; null customer skipped.
    assert run(load, summary, "customer") == [
        {"customer": "a", "frequency": 2, "recency": 21.0, "T": 30.0, "monetary_value": 30.0},
        {"customer": "b", "frequency": 0, "recency": 0.0, "T": 26.0, "monetary_value": 0.0},
        {"customer": "c", "frequency": 0, "recency": 0.0, "T": 11.0, "monetary_value": 0.0},
    ]


def test_rfm_summary_in_weeks_divides_days_by_seven(load):
    orders = load[0]("orders", ORDERS)

    summary = rfm_summary(
        orders, "customer", "ordered_at", as_of=dt.date(2024, 1, 31), time_unit="W"
    )

    rows = run(load, summary, "customer")
    assert [r["customer"] for r in rows] == ["a", "b", "c"]
    assert "monetary_value" not in rows[0]
    np.testing.assert_allclose([r["recency"] for r in rows], [3.0, 0.0, 0.0])
    np.testing.assert_allclose([r["T"] for r in rows], [30 / 7, 26 / 7, 11 / 7])


def test_calibration_holdout_summary_adds_what_happened_after_calibration(load):
    orders = load[0]("orders", ORDERS)

    summary = calibration_holdout_summary(
        orders,
        "customer",
        "ordered_at",
        "amount",
        calibration_end="2024-01-31",
        as_of="2024-02-29",
    )

    # c's two orders on 02-15 are one holdout purchase day worth 10; its 03-05 order is after
    # as_of; d's first purchase is in the holdout period, so d is not a calibration customer.
    holdout = {"duration_holdout": 29.0}
    assert run(load, summary, "customer") == [
        {
            "customer": "a",
            "frequency": 2,
            "recency": 21.0,
            "T": 30.0,
            "monetary_value": 30.0,
            "frequency_holdout": 1,
            "monetary_value_holdout": 99.0,
            **holdout,
        },
        {
            "customer": "b",
            "frequency": 0,
            "recency": 0.0,
            "T": 26.0,
            "monetary_value": 0.0,
            "frequency_holdout": 0,
            "monetary_value_holdout": 0.0,
            **holdout,
        },
        {
            "customer": "c",
            "frequency": 0,
            "recency": 0.0,
            "T": 11.0,
            "monetary_value": 0.0,
            "frequency_holdout": 1,
            "monetary_value_holdout": 10.0,
            **holdout,
        },
    ]


def test_summary_accepts_a_date_column(load):
    table = pa.table(
        {
            "id": [1, 1, 2],
            "day": [dt.date(2024, 1, 1), dt.date(2024, 1, 3), dt.date(2024, 1, 2)],
            "value": [1, 2, 3],
        }
    )
    orders = load[0]("orders_by_day", table)

    summary = rfm_summary(orders, "id", "day", "value", as_of=dt.datetime(2024, 1, 10, 12))

    assert run(load, summary, "id") == [
        {"id": 1, "frequency": 1, "recency": 2.0, "T": 9.0, "monetary_value": 2.0},
        {"id": 2, "frequency": 0, "recency": 0.0, "T": 8.0, "monetary_value": 0.0},
    ]


def cdnow_orders(cdnow_transactions: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(cdnow_transactions, preserve_index=False)


def test_cdnow_weekly_summary_reproduces_fader_hardie_files(
    load, cdnow_transactions, cdnow_summary, cdnow_dir
):
    """cdnow_customers_summary.csv is the calibration summary (per-day purchases, weeks,
    calibration end 1997-09-30) rounded to 2 decimals; the zbar column of
    cdnow_customers_summary_with_transactions.csv is monetary_value rounded half up."""
    orders = load[0]("cdnow", cdnow_orders(cdnow_transactions))

    summary = calibration_holdout_summary(
        orders,
        "id",
        "date",
        "dollars",
        calibration_end=CALIBRATION_END.date(),
        as_of=OBSERVATION_END.date(),
        time_unit="W",
    )

    _, con = load
    got = con.to_pyarrow(summary).to_pandas().set_index("id").sort_index()
    expected = cdnow_summary.sort_index()
    assert list(got.index) == list(expected.index)
    assert (got["frequency"] == expected["frequency"]).all()
    np.testing.assert_array_equal(got["recency"].round(2), expected["recency"])
    np.testing.assert_array_equal(got["T"].round(2), expected["T"])
    with_spend = pd.read_csv(cdnow_dir / "cdnow_customers_summary_with_transactions.csv")
    np.testing.assert_array_equal(
        round_half_up(got["monetary_value"].to_numpy()), with_spend.set_index("ID")["zbar"]
    )
    assert (got["duration_holdout"] == 39.0).all()


def test_cdnow_summary_matches_an_independent_pandas_computation(
    load, cdnow_transactions, cdnow_calibration
):
    orders = load[0]("cdnow", cdnow_orders(cdnow_transactions))

    summary = calibration_holdout_summary(
        orders,
        "id",
        "date",
        "dollars",
        calibration_end=CALIBRATION_END,
        as_of=OBSERVATION_END,
        time_unit="W",
    )

    _, con = load
    got = con.to_pyarrow(summary).to_pandas().set_index("id").sort_index()
    expected = cdnow_calibration.sort_index()
    for column in expected.columns:
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-12, err_msg=column)
    assert got["frequency_holdout"].sum() == 1882


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"customer_col": "client"},
            r"customer_col: unknown column 'client'; available: "
            r"customer, ordered_at, amount",
        ),
        ({"amount_col": "price"}, r"amount_col: unknown column 'price'"),
        (
            {"date_col": "customer"},
            r"date_col 'customer' must be a date or timestamp column\. "
            r"Got string instead\.",
        ),
        ({"amount_col": "customer"}, r"amount_col 'customer' must be a numeric column"),
        ({"time_unit": "M"}, r"time_unit must be one of 'D', 'W'\. Got 'M' instead\."),
        ({"as_of": "31/01/2024"}, r"as_of must be a date, a datetime or an ISO date string"),
    ],
)
def test_rfm_summary_rejects_invalid_arguments(kwargs, message):
    arguments = {
        "customer_col": "customer",
        "date_col": "ordered_at",
        "amount_col": "amount",
        "as_of": "2024-01-31",
        **kwargs,
    }
    with pytest.raises(UserInputError, match=message):
        rfm_summary(ibis.memtable(ORDERS), **arguments)


def test_calibration_holdout_summary_rejects_as_of_before_calibration_end():
    with pytest.raises(
        UserInputError,
        match=r"as_of must be after calibration_end \(2024-01-31\)"
        r"\. Got 2024-01-15 instead\.",
    ):
        calibration_holdout_summary(
            ibis.memtable(ORDERS),
            "customer",
            "ordered_at",
            calibration_end="2024-01-31",
            as_of="2024-01-15",
        )


def test_summary_is_one_engine_query():
    """Builders only build: the expression compiles to SQL and nothing runs until executed."""
    summary = calibration_holdout_summary(
        ibis.memtable(ORDERS),
        "customer",
        "ordered_at",
        "amount",
        calibration_end="2024-01-31",
        as_of="2024-02-29",
    )
    sql = ibis.to_sql(summary, dialect="duckdb")
    assert "GROUP BY" in sql and "LEFT OUTER JOIN" in sql
