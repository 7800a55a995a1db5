"""Customer knowledge at scale: parcours in the engine beside a plain pandas version.

A warehouse of 1,000,000 persons, 5,000,000 orders and 10,000,000 order lines is generated in
DuckDB (never committed). parcours builds ``customer_profile`` and the RFM scores (then, timed
apart, the KPI tables, the segments and the personas); the baseline is what an analyst writes
by hand in pandas for the same profile and RFM, from the same data read from Parquet. Each
side runs in its own process so that peak RSS is its own.

    python benchmarks/bench_profile.py --customers 1000000 --orders 5000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from harness import print_result, run_side

HERE = Path(__file__).parent
AS_OF = dt.date(2025, 12, 31)
LINES_PER_ORDER = 2


def make_workspace(directory: Path, customers: int, orders: int) -> None:
    """Generate the warehouse in a DuckDB workspace, and the same tables as Parquet."""
    import duckdb

    from parcours.workspace import Workspace

    Workspace.init(directory)
    con = duckdb.connect(str(directory / "parcours.duckdb"))
    con.execute("select setseed(0.42)")
    con.execute(
        f"""
        create table customers as
        select 'pos' as source, 'C' || lpad(i::varchar, 8, '0') as source_id,
               null::varchar as email, null::varchar as phone, null::varchar as first_name,
               null::varchar as last_name,
               case when random() < 0.6 then date '1950-01-01' + (random() * 18000)::int end
                 as birth_date,
               null::varchar as gender, null::varchar as address_line1,
               null::varchar as address_line2,
               lpad(((random() * 95)::int + 1)::varchar, 2, '0') || '000' as postal_code,
               null::varchar as city, null::varchar as region, 'FR' as country,
               null::varchar as loyalty_id, null::timestamp as created_at,
               null::varchar as attributes, 'bench' as source_file, i as source_line,
               now()::timestamp as ingested_at
        from range({customers}) t(i);
        create table identity_map as
        select source, source_id, source_id as customer_key, 'single' as method,
               now()::timestamp as resolved_at
        from customers;
        create table stores as
        select 'S' || lpad(i::varchar, 2, '0') as store_id, 'store ' || i as name,
               null::varchar as city, lpad((i * 7 % 95 + 1)::varchar, 2, '0') || '000'
                 as postal_code,
               null::varchar as region, i >= 16 as tourist_area, 'ref' as source,
               'bench' as source_file, i as source_line, now()::timestamp as ingested_at
        from range(20) t(i);
        create table products as
        select 'P' || lpad(i::varchar, 3, '0') as sku, 'product ' || i as name,
               'cat' || (i % 13) as category, 'fam' || (i % 13 % 5) as family,
               10.0 + i as price, 'ref' as source, 'bench' as source_file, i as source_line,
               now()::timestamp as ingested_at
        from range(200) t(i);
        create table customer_orders as
        select 'C' || lpad(floor(pow(random(), 1.5) * {customers})::bigint::varchar, 8, '0')
                 as customer_key,
               'O' || i as order_id, null::varchar as customer_id,
               timestamp '2023-01-01' + to_seconds((random() * 86400 * 1095)::bigint)
                 as ordered_at,
               case when r < 0.55 then 'store' when r < 0.85 then 'web' when r < 0.97
                 then 'app' else 'phone' end as channel,
               case when r < 0.55 then 'S' || lpad((i % 20)::varchar, 2, '0') end as store_id,
               round(10 + random() * 150, 2) as total_amount,
               case when random() < 0.2 then 5.0 else 0.0 end as discount_amount,
               'EUR' as currency,
               case when random() < 0.95 then 'completed' when random() < 0.5
                 then 'cancelled' else 'returned' end as status,
               'pos' as source, 'bench' as source_file, i as source_line,
               now()::timestamp as ingested_at
        from (select i, random() as r from range({orders}) t(i));
        create table order_lines as
        select o.order_id, l.j + 1 as line_no,
               'P' || lpad(((hash(o.order_id, l.j) % 200))::varchar, 3, '0') as sku,
               null::varchar as category, 1.0 as quantity, null::double as unit_price,
               round(o.total_amount / {LINES_PER_ORDER}, 2) as amount, o.source,
               'bench' as source_file, o.source_line as source_line,
               o.ingested_at
        from customer_orders o, range({LINES_PER_ORDER}) l(j);
        """
    )
    for name in ("customer_orders", "order_lines", "products", "stores", "customers"):
        con.execute(f"copy {name} to '{directory / name}.parquet' (format parquet)")
    con.close()


def run_parcours(directory: Path) -> dict:
    from parcours.metrics import write_kpis, write_profile
    from parcours.segments import write_personas, write_segments
    from parcours.workspace import Workspace

    ws = Workspace.open(directory)
    times = {}
    start = time.perf_counter()
    report = write_profile(ws, AS_OF)
    times["profile"] = time.perf_counter() - start
    t = time.perf_counter()
    write_segments(ws)  # RFM scores and segments, lifecycle segments
    times["segments"] = time.perf_counter() - t
    t = time.perf_counter()
    write_kpis(ws)
    times["kpis"] = time.perf_counter() - t
    t = time.perf_counter()
    personas = write_personas(ws)
    times["personas"] = time.perf_counter() - t
    ws.close()
    return {
        "seconds": times["profile"] + times["segments"],
        "times": times,
        "customers": report.customers,
        "personas": personas.clusters,
    }


def run_pandas(directory: Path) -> dict:
    """The profile and RFM as one writes them in pandas."""
    import numpy as np
    import pandas as pd

    start = time.perf_counter()
    orders = pd.read_parquet(directory / "customer_orders.parquet")
    lines = pd.read_parquet(directory / "order_lines.parquet")
    products = pd.read_parquet(directory / "products.parquet")
    stores = pd.read_parquet(directory / "stores.parquet")
    customers = pd.read_parquet(directory / "customers.parquet")
    read = time.perf_counter() - start

    end = pd.Timestamp(AS_OF) + pd.Timedelta(days=1)
    o = orders[
        orders.customer_key.notna() & (orders.status == "completed") & (orders.ordered_at < end)
    ]
    o = o.sort_values(["customer_key", "ordered_at", "order_id"])
    g = o.groupby("customer_key", sort=False)
    gap = g.ordered_at.diff().dt.total_seconds() / 86400
    rank = g.cumcount()
    in_period = o.ordered_at >= end - pd.Timedelta(days=365)
    day = o.ordered_at.dt.date
    festive = np.zeros(len(o), bool)
    for year in range(2022, AS_OF.year + 1):
        festive |= (day >= dt.date(year, 12, 1)) & (day <= dt.date(year, 12, 24))
    o = o.assign(
        gap=gap,
        rank=rank,
        in_period=in_period,
        period_amount=o.total_amount.where(in_period, 0.0),
        discounted=o.discount_amount > 0,
        festive_amount=o.total_amount.where(festive, 0.0),
        festive=festive,
    )
    g = o.groupby("customer_key")
    p = g.agg(
        first_order_at=("ordered_at", "min"),
        last_order_at=("ordered_at", "max"),
        first_channel=("channel", "first"),
        last_channel=("channel", "last"),
        orders=("order_id", "size"),
        revenue=("total_amount", "sum"),
        purchase_frequency=("in_period", "sum"),
        period_revenue=("period_amount", "sum"),
        discount_share=("discounted", "mean"),
        festive_revenue=("festive_amount", "sum"),
        festive_orders=("festive", "sum"),
        usual_interval_days=("gap", "median"),
    )
    p["days_to_second_order"] = o[o["rank"] == 1].set_index("customer_key").gap
    p["average_basket"] = p.revenue / p.orders
    p["festive_share"] = p.festive_revenue / p.revenue
    as_of = pd.Timestamp(AS_OF)
    p["days_since_last_order"] = (as_of - p.last_order_at.dt.normalize()).dt.days
    p["tenure_days"] = (as_of - p.first_order_at.dt.normalize()).dt.days
    p["active"] = p.purchase_frequency > 0
    per_channel = o.groupby(["customer_key", "channel"]).total_amount.agg(["size", "sum"])
    per_channel = per_channel.reset_index().sort_values(
        ["customer_key", "size", "sum"], ascending=[True, False, False]
    )
    p["preferred_channel"] = per_channel.groupby("customer_key").channel.first()
    p["channels_used"] = per_channel.groupby("customer_key").size()
    p["channel_mix"] = np.where(
        p.channels_used > 1, "multichannel", p.first_channel.astype(str) + "_only"
    )
    # customer_categories: purchases, spend, dates and median interval per person and category
    lo = lines.drop(columns="category").merge(
        o[["source", "order_id", "customer_key", "ordered_at"]], on=["source", "order_id"]
    )
    lo = lo.merge(products[["sku", "family", "category"]], on="sku", how="left")
    po = lo.groupby(["customer_key", "category", "source", "order_id"], sort=False).agg(
        ordered_at=("ordered_at", "min"), amount=("amount", "sum"), family=("family", "first")
    )
    po = po.reset_index().sort_values(["customer_key", "category", "ordered_at", "order_id"])
    po["gap"] = po.groupby(["customer_key", "category"]).ordered_at.diff().dt.total_seconds()
    cc = po.groupby(["customer_key", "category"]).agg(
        family=("family", "first"),
        purchases=("order_id", "size"),
        amount=("amount", "sum"),
        first_purchase_at=("ordered_at", "min"),
        last_purchase_at=("ordered_at", "max"),
        usual_interval_days=("gap", "median"),
    )
    cc["usual_interval_days"] /= 86400
    cc = cc.reset_index()
    fam = cc.pivot_table(
        index="customer_key", columns="family", values="amount", aggfunc="sum", fill_value=0
    )
    p = p.join(fam.div(fam.sum(axis=1), axis=0).add_prefix("family_"))
    p["favourite_family"] = fam.idxmax(axis=1)
    cat = cc.sort_values(["customer_key", "amount"], ascending=[True, False])
    p["favourite_category"] = cat.groupby("customer_key").category.first()
    st = o[o.store_id.notna()].groupby(["customer_key", "store_id"]).size().reset_index(name="n")
    st = st.sort_values(["customer_key", "n"], ascending=[True, False])
    p["main_store"] = st.groupby("customer_key").store_id.first()
    p = p.join(stores.set_index("store_id").tourist_area.rename("tourist_store"), on="main_store")
    people = customers.set_index("source_id")[["birth_date", "postal_code"]]
    p = p.join(people, how="left")
    age = (as_of - pd.to_datetime(p.birth_date)).dt.days / 365.25
    p["age_band"] = pd.cut(age, [18, 25, 35, 45, 55, 65, 200], right=False)

    def score(s: pd.Series, ascending: bool = True) -> pd.Series:
        pct = s.rank(method="min", ascending=ascending).sub(1).div(max(len(s) - 1, 1))
        return np.minimum(np.floor(pct * 5) + 1, 5).astype(int)

    p["recency_score"] = score(p.days_since_last_order, ascending=False)
    p["frequency_score"] = score(p.orders)
    p["monetary_score"] = score(p.revenue)
    return {
        "seconds": time.perf_counter() - start,
        "read_seconds": read,
        "customers": len(p),
    }


def child(which: str, directory: Path) -> None:
    result = {"parcours": run_parcours, "pandas": run_pandas}[which](directory)
    print_result(result)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--child", choices=["parcours", "pandas"])
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--no-write", action="store_true", help="Do not append to RESULTS.md.")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.dir)
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "ws"
        start = time.perf_counter()
        make_workspace(directory, args.customers, args.orders)
        print(f"generated in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        results = {}
        for which in ("parcours", "pandas"):
            results[which] = run_side(__file__, which, "--dir", str(directory))
            print(which, results[which], file=sys.stderr)
    par, pds = results["parcours"], results["pandas"]
    t = par["times"]
    lines = [
        f"## Customer knowledge: {args.customers:,} persons, {args.orders:,} orders, "
        f"{args.orders * LINES_PER_ORDER:,} order lines",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}. "
        "parcours on DuckDB, from its warehouse file; pandas from Parquet files of the same "
        "tables (its time includes reading them, shown apart). Both build the same profile: "
        "per-person figures, the per-person-and-category table with its renewal intervals, "
        "family shares and favourites, preferred channel, main store, age band, then the RFM "
        "scores. Generated by `benchmarks/bench_profile.py`.",
        "",
        "| implementation | profile + RFM (s) | of which reading (s) | peak RSS (MiB) "
        "| customers |",
        "| --- | --- | --- | --- | --- |",
        f"| parcours | {par['seconds']:.1f} | | {par['peak_rss_mib']:,.0f} | "
        f"{par['customers']:,} |",
        f"| pandas | {pds['seconds']:.1f} | {pds['read_seconds']:.1f} | "
        f"{pds['peak_rss_mib']:,.0f} | {pds['customers']:,} |",
        "",
        f"Speed-up of profile + RFM over pandas: {pds['seconds'] / par['seconds']:.1f}x. "
        f"parcours, stage by stage: profile {t['profile']:.1f} s, segments (RFM and "
        f"lifecycle) {t['segments']:.1f} s, KPI tables {t['kpis']:.1f} s, personas "
        f"({par['personas']} chosen by silhouette) {t['personas']:.1f} s; all four "
        f"{sum(t.values()):.1f} s.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        with (HERE / "RESULTS.md").open("a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
