"""CRM plans at scale: one day of the seven default plans on 1,000,000 customers.

The warehouse of ``bench_profile.py`` (1,000,000 persons, 5,000,000 orders over three years)
gets consents (e-mail for 70% of persons, SMS for 30%, a tenth of them refused) and a delivery
event per web order; the profile, segments and KPI tables are built first (not timed). Timed:
``run_plans`` for the last day, which decides every plan and the policy in the engine and
appends the journal; then the same day again (a rerun: nothing new to decide). The baseline
is the win-back plan alone written by hand in pandas from Parquet files of the same tables
(median gap per person, lapsing, e-mail or SMS consent, stable holdout): one plan of the seven, and
no caps, priority or journal. Each side runs in its own process so that peak RSS is its own.

    python benchmarks/bench_plans.py --customers 1000000 --orders 5000000
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench_profile import AS_OF, make_workspace
from harness import print_result, run_side, write_section

HERE = Path(__file__).parent
TITLE = "## CRM plans: one day of the seven default plans (`bench_plans.py`)"


def add_contact_data(directory: Path) -> None:
    """Consents and delivery events; then the knowledge stages the plans read."""
    import duckdb

    from parcours.engine import conform
    from parcours.metrics import write_kpis, write_profile
    from parcours.schema import CUSTOMER_CONSENTS, CUSTOMER_EVENTS
    from parcours.segments import write_segments
    from parcours.workspace import Workspace

    con = duckdb.connect(str(directory / "parcours.duckdb"))
    con.execute("select setseed(0.7)")
    con.execute(
        """
        create table bench_consents as
        select customer_key, channel, random() >= 0.1 as granted,
               timestamp '2023-01-01' + to_seconds((random() * 86400 * 700)::bigint)
                 as recorded_at,
               'pos' as source, customer_key as customer_id
        from (select source_id as customer_key, random() as r from customers) p,
             (values ('email', 0.7), ('sms', 0.3)) c(channel, share)
        where p.r < c.share;
        create table bench_events as
        select 'D' || order_id as event_id, ordered_at + interval 3 day as occurred_at,
               'order_delivered' as type, 'web' as channel, customer_key as customer_id,
               null::varchar as anonymous_id, null::varchar as session_id, null::varchar as url,
               null::varchar as sku, '{}' as properties, 'web' as source,
               'bench' as source_file, source_line, ingested_at, customer_key
        from customer_orders where channel = 'web' and status = 'completed';
        copy bench_consents to 'customer_consents.parquet' (format parquet);
        """.replace("'customer_consents.parquet'", f"'{directory / 'customer_consents.parquet'}'")
    )
    con.close()
    ws = Workspace.open(directory)
    e = ws.engine
    e.write(
        CUSTOMER_CONSENTS.name, conform(e.table("bench_consents"), CUSTOMER_CONSENTS), stage="b"
    )
    e.write(CUSTOMER_EVENTS.name, conform(e.table("bench_events"), CUSTOMER_EVENTS), stage="b")
    e.drop("bench_consents")
    e.drop("bench_events")
    write_profile(ws, AS_OF)
    write_segments(ws)
    write_kpis(ws)
    ws.close()


def run_parcours(directory: Path) -> dict:
    from parcours.activation import run_plans
    from parcours.schema import CRM_ACTIONS
    from parcours.workspace import Workspace

    ws = Workspace.open(directory)
    start = time.perf_counter()
    report = run_plans(ws, AS_OF)
    first = time.perf_counter() - start
    t = time.perf_counter()
    rerun = run_plans(ws, AS_OF)
    again = time.perf_counter() - t
    decided = {}
    for c in report.counts:
        key = f"{c['plan']}:{c['status']}"
        decided[key] = decided.get(key, 0) + c["persons"]
    journal = int(ws.engine.execute(ws.engine.table(CRM_ACTIONS.name).count()))
    winback = sum(
        c["persons"]
        for c in report.counts
        if c["plan"] == "winback" and c["status"] in ("decided", "holdout")
    )
    ws.close()
    return {
        "seconds": first,
        "rerun_seconds": again,
        "journal_rows": journal,
        "rerun_rows": sum(c["persons"] for c in rerun.counts),
        "decided": decided,
        "winback": winback,
    }


def run_pandas(directory: Path) -> dict:
    """The win-back plan alone, as one writes it in pandas."""
    import numpy as np
    import pandas as pd

    start = time.perf_counter()
    orders = pd.read_parquet(
        directory / "customer_orders.parquet",
        columns=["customer_key", "order_id", "ordered_at", "status"],
    )
    consents = pd.read_parquet(directory / "customer_consents.parquet")
    end = pd.Timestamp(AS_OF) + pd.Timedelta(days=1)
    o = orders[(orders.status == "completed") & (orders.ordered_at < end)]
    o = o.sort_values(["customer_key", "ordered_at", "order_id"])
    gap = o.groupby("customer_key").ordered_at.diff().dt.total_seconds() / 86400
    p = (
        o.assign(gap=gap)
        .groupby("customer_key")
        .agg(last_at=("ordered_at", "max"), interval=("gap", "median"))
    )
    silence = (end - p.last_at).dt.total_seconds() / 86400
    limit = np.maximum(2.0 * p.interval.fillna(p.interval.median()), 60)
    lapsing = p[(silence > limit) & (silence <= 720)]
    ok = consents[consents.channel.isin(["email", "sms"]) & consents.granted].customer_key
    lapsing = lapsing[lapsing.index.isin(ok)]
    held = [
        hashlib.md5(f"winback:{k}".encode()).hexdigest()[:8] < "1999999a" for k in lapsing.index
    ]
    return {
        "seconds": time.perf_counter() - start,
        "winback": int(len(lapsing)),
        "holdout": int(sum(held)),
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
        add_contact_data(directory)
        print(f"prepared in {time.perf_counter() - start:.0f} s", file=sys.stderr)
        results = {}
        for which in ("parcours", "pandas"):
            results[which] = run_side(__file__, which, "--dir", str(directory))
            print(which, results[which], file=sys.stderr)
    par, pds = results["parcours"], results["pandas"]
    per_plan = ", ".join(f"{k} {v:,}" for k, v in sorted(par["decided"].items()))
    lines = [
        TITLE,
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}; load average "
        f"{os.getloadavg()[0]:.1f} at the end. {args.customers:,} persons, {args.orders:,} "
        "orders. Target: under 60 s. parcours on DuckDB decides "
        "every plan and the whole policy (consent, caps, priority, cooldown, holdout) in the "
        "engine and appends the journal; the baseline is the win-back plan alone in pandas "
        "from Parquet (reading included), without caps, priority or journal. Generated by "
        "`benchmarks/bench_plans.py`.",
        "",
        "| implementation | time (s) | peak RSS (MiB) | win-back contacts and holdouts |",
        "| --- | --- | --- | --- |",
        f"| parcours plan run (7 plans) | {par['seconds']:.1f} | {par['peak_rss_mib']:,.0f} | "
        f"{par['winback']:,} |",
        f"| pandas, win-back only | {pds['seconds']:.1f} | {pds['peak_rss_mib']:,.0f} | "
        f"{pds['winback']:,} |",
        "",
        f"Rerun of the same day: {par['rerun_seconds']:.1f} s, {par['rerun_rows']} new rows. "
        f"Journal: {par['journal_rows']:,} rows ({per_plan}).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        write_section(TITLE, text)


if __name__ == "__main__":
    main()
