"""``parcours monitor`` over 1M customers and 10M order lines on two years: time and memory.

The warehouse is generated inside DuckDB (never through Python): 50 stores in 10 regions,
400 products in 8 families, 1,000,000 golden records, 5,000,000 orders over two years
(store, web, app) with a weekly pattern, and two lines per order. parcours runs the whole
stage: the KPI series in the engine, every baseline, incidents, explanation, abnormal
customers. The baseline beside it, in the same run, is the same daily KPI series (revenue,
orders, customers per dimension value) computed by pandas from Parquet files of the same
tables, the way a notebook would: only the aggregation, not the fitting. Each side runs in
its own process, so that peak RSS is its own.

    python benchmarks/bench_monitor.py --customers 1000000 --orders 5000000
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from harness import print_result, run_side

HERE = Path(__file__).parent
TITLE = "## Monitoring: KPI series, baselines and incidents"

DATA_SQL = """
SELECT setseed(0.17);
CREATE TABLE stores AS
SELECT 'S' || lpad(CAST(i AS VARCHAR), 2, '0') AS store_id, 'Store ' || i AS name,
    'City' AS city, '75000' AS postal_code, 'Region ' || (i % 10) AS region,
    false AS tourist_area, 'bench' AS source, 'stores.csv' AS source_file,
    CAST(i AS BIGINT) AS source_line, now()::TIMESTAMP AS ingested_at
FROM range(50) r(i);
CREATE TABLE products AS
SELECT 'P' || i AS sku, 'Product ' || i AS name, 'cat' || (i % 40) AS category,
    'family' || (i % 8) AS family, 10.0 + i % 90 AS price, 'bench' AS source,
    'products.csv' AS source_file, CAST(i AS BIGINT) AS source_line,
    now()::TIMESTAMP AS ingested_at
FROM range(400) r(i);
CREATE TABLE customers_golden AS
SELECT 'K' || i AS customer_key, NULL::VARCHAR AS first_name, NULL::VARCHAR AS last_name,
    NULL::VARCHAR AS email, '+336' || lpad(CAST(i AS VARCHAR), 8, '0') AS phone,
    NULL::DATE AS birth_date, NULL::VARCHAR AS gender, i || ' rue de la Paix' AS address_line1,
    NULL::VARCHAR AS address_line2, '75000' AS postal_code, 'Paris' AS city,
    'Region ' || (i % 10) AS region, 'FR' AS country, NULL::VARCHAR AS loyalty_id,
    TIMESTAMP '2024-01-01' AS created_at, 1::BIGINT AS records, 'bench' AS sources
FROM range({customers}) r(i);
CREATE TABLE customer_orders AS
WITH o AS (
    SELECT i, random() AS u, random() AS w,
        TIMESTAMP '2024-11-01' + to_seconds(CAST(floor(random() * 63072000) AS BIGINT)) AS t
    FROM range({orders}) r(i)
)
SELECT 'K' || (hash(i) % {customers}) AS customer_key,
    'O' || i AS order_id, 'K' || (hash(i) % {customers}) AS customer_id,
    -- Saturdays busier, Sundays quieter: orders moved between days keep the total.
    CASE WHEN dayofweek(t) = 0 AND w < 0.5 THEN t - INTERVAL 1 DAY ELSE t END AS ordered_at,
    CASE WHEN u < 0.6 THEN 'store' WHEN u < 0.9 THEN 'web' ELSE 'app' END AS channel,
    CASE WHEN u < 0.6 THEN 'S' || lpad(CAST(i % 50 AS VARCHAR), 2, '0') END AS store_id,
    round(20 + 80 * random(), 2) AS total_amount, 0.0 AS discount_amount, 'EUR' AS currency,
    CASE WHEN random() < 0.04 THEN 'returned' ELSE 'completed' END AS status,
    CASE WHEN u < 0.6 THEN 'store' ELSE 'web' END AS source,
    'orders.csv' AS source_file, CAST(i AS BIGINT) AS source_line,
    now()::TIMESTAMP AS ingested_at
FROM o;
CREATE TABLE order_lines AS
SELECT o.order_id, CAST(k AS BIGINT) AS line_no, 'P' || (hash(o.order_id || k) % 400) AS sku,
    NULL::VARCHAR AS category, 1.0 AS quantity, o.total_amount / 2 AS unit_price,
    o.total_amount / 2 AS amount, o.source, 'lines.csv' AS source_file,
    CAST(0 AS BIGINT) AS source_line, o.ingested_at
FROM customer_orders o, range(2) r(k);
"""


def make_warehouse(path: Path, customers: int, orders: int) -> dict:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("SET threads = 2")
    for statement in DATA_SQL.format(customers=customers, orders=orders).split(";"):
        if statement.strip():
            con.execute(statement)
    counts = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("customers_golden", "customer_orders", "order_lines")
    }
    for t in ("customer_orders", "order_lines", "stores", "products"):
        con.execute(f"COPY {t} TO '{path.parent / t}.parquet' (FORMAT parquet)")
    con.close()
    return counts


def run_parcours(directory: Path) -> dict:
    from parcours.monitor import write_monitor
    from parcours.workspace import Workspace

    ws = Workspace.open(directory)
    start = time.perf_counter()
    with ws.engine.batch():
        report = write_monitor(ws)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "series": report.series,
        "incidents": report.incidents,
        "methods": report.methods,
        "customers_flagged": report.customers,
    }


def run_series_only(directory: Path) -> dict:
    from parcours.monitor.series import kpi_series
    from parcours.workspace import Workspace

    ws = Workspace.open(directory)
    from parcours.facts import resolve_as_of

    as_of = resolve_as_of(ws.engine, None)
    start = time.perf_counter()
    series = kpi_series(ws.engine, ws.config.monitor, as_of)
    return {"seconds": time.perf_counter() - start, "points": len(series)}


def run_pandas(directory: Path) -> dict:
    import pandas as pd

    start = time.perf_counter()
    o = pd.read_parquet(directory / "customer_orders.parquet")
    stores = pd.read_parquet(directory / "stores.parquet")[["store_id", "region"]]
    read = time.perf_counter() - start
    o = o[o.status == "completed"].merge(stores, on="store_id", how="left")
    o["day"] = o.ordered_at.dt.normalize()
    points = 0
    for dim in (None, "channel", "store_id", "region", "source"):
        keys = ["day"] if dim is None else ["day", dim]
        g = o.groupby(keys).agg(
            revenue=("total_amount", "sum"),
            orders=("order_id", "size"),
            customers=("customer_key", "nunique"),
        )
        points += len(g)
    return {"seconds": time.perf_counter() - start, "reading_seconds": read, "points": points}


SIDES = {"parcours": run_parcours, "series": run_series_only, "pandas": run_pandas}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("side", nargs="?")
    parser.add_argument("directory", nargs="?")
    args = parser.parse_args()
    if args.child:
        print_result(SIDES[args.side](Path(args.directory)))
        return

    from parcours.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "ws"
        Workspace.init(directory).close()
        start = time.perf_counter()
        counts = make_warehouse(directory / "parcours.duckdb", args.customers, args.orders)
        made = time.perf_counter() - start
        results = {side: run_side(__file__, side, str(directory)) for side in SIDES}
    print(json.dumps({"counts": counts, "generate_seconds": made, **results}, indent=2))
    print(
        f"{TITLE}\n\nMachine: {platform.machine()}, Python {sys.version.split()[0]}; "
        f"{counts['customers_golden']:,} persons, {counts['customer_orders']:,} orders, "
        f"{counts['order_lines']:,} order lines over two years."
    )


if __name__ == "__main__":
    main()
