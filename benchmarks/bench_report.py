"""Benchmark ``parcours report`` on 1,000,000 customers: time, peak memory and file size.

The demo retailer runs the whole pipeline at a small size (``--demo-customers``); its
per-customer tables (profile, predictions, identity map, golden records, consents) and its
orders are then replicated in DuckDB, each copy under new keys, up to ``--customers``
persons. The aggregate tables (KPIs, cohorts, journeys) keep the demo's rows: their size does
not grow with customers. The baseline is the same report on the demo workspace, in the same
run. Each side renders both languages in a process of its own.

Targets (issue 14): under 60 s and under 15 MB for 1,000,000 customers.

Run: ``.venv/bin/python benchmarks/bench_report.py`` (about 5 minutes on 2 cores); it
writes its section of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import tempfile
import time
from pathlib import Path

from harness import peak_rss_mib, run_side, write_section

TITLE = "## Report: 1,000,000 customers (`benchmarks/bench_report.py`)"
# Per-customer tables, with the column holding the person; orders hold the source's id.
SCALED = {
    "customer_profile": "customer_key",
    "customer_predictions": "customer_key",
    "identity_map": "customer_key",
    "customers_golden": "customer_key",
    "customer_consents": "customer_key",
    "orders": "customer_id",
}
ORDERS_PER_CUSTOMER = 5


def child(workspace: str) -> None:
    """Render the report of ``workspace`` in both languages; time, sizes, chart contents."""
    from parcours.report import write_report
    from parcours.workspace import Workspace

    out = {}
    start = time.perf_counter()
    with Workspace.open(Path(workspace)) as ws:
        for lang in ("en", "fr"):
            path = write_report(ws, Path(workspace) / f"bench-report-{lang}.html", lang)
            html = path.read_text("utf-8")
            figures = [json.loads(f) for f in re.findall(r"var f=(\{.*?\});Plotly", html)]
            points = [_values(f["data"]) for f in figures]
            out[lang] = {
                "bytes": path.stat().st_size,
                "charts": len(points),
                "largest_chart_values": max(points, default=0),
            }
    out["seconds"] = (time.perf_counter() - start) / 2
    with Workspace.open(Path(workspace)) as ws:
        out["customers"] = int(ws.engine.execute(ws.engine.table("customer_profile").count()))
    out["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(out))


def _values(traces: list[dict]) -> int:
    """How many values a figure's traces hold (points, cells, links)."""
    n = 0
    for t in traces:
        for key in ("x", "y", "z"):
            n += sum(len(v) if isinstance(v, list) else 1 for v in t.get(key) or [])
        n += len((t.get("link") or {}).get("value", []))
    return n


def scale(source: Path, target: Path, customers: int) -> None:
    """Copy the workspace and replicate its per-customer tables up to ``customers`` persons."""
    import duckdb

    shutil.copytree(source, target)
    con = duckdb.connect(str(target / "parcours.duckdb"))
    persons = con.sql("select count(*) from customer_profile").fetchone()[0]
    for table, key in SCALED.items():
        rows = con.sql(f"select count(*) from {table}").fetchone()[0]
        # Orders: five per customer, as in the customer-knowledge benchmark.
        wanted = (
            ORDERS_PER_CUSTOMER * customers if table == "orders" else customers * rows / persons
        )
        copies = math.ceil(wanted / rows)
        con.execute(
            f"create or replace table {table} as "
            f"select * replace (case when {key} is null then null "
            f"else {key} || '~' || i::varchar end as {key}) "
            f"from {table}, range({copies}) t(i)"
        )
    con.execute(
        f"delete from customer_profile where rowid in (select rowid from customer_profile "
        f"offset {customers})"
    )
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--demo-customers", type=int, default=1_000)
    parser.add_argument("--demo", type=Path, help="an existing demo workspace to start from")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        demo = args.demo
        if demo is None:
            from parcours.cli import main as cli

            demo = Path(tmp) / "demo"
            assert cli(["demo", "--customers", str(args.demo_customers), "-w", str(demo)]) == 0
        scaled = Path(tmp) / "scaled"
        scale(demo, scaled, args.customers)
        script = str(Path(__file__).resolve())
        base = run_side(script, str(demo))
        big = run_side(script, str(scaled))
    write_results(base, big)
    print(json.dumps({"baseline": base, "scaled": big}, indent=2))


def write_results(base: dict, big: dict) -> None:
    def row(name: str, r: dict) -> str:
        return (
            f"| {name} | {r['customers']:,} | {r['seconds']:.1f} | {r['peak_rss_mib']:,.0f} | "
            f"{r['en']['bytes'] / 1e6:.2f} | {r['fr']['bytes'] / 1e6:.2f} | {r['en']['charts']} "
            f"| {r['en']['largest_chart_values']:,} |"
        )

    load = os.getloadavg()[0]
    section = "\n".join(
        [
            TITLE,
            "",
            f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
            f"{platform.python_version()}; {dt.date.today().isoformat()}; load average "
            f"{load:.1f} at the end of the run. Time to build the views and render one "
            "language (mean of English and French), peak RSS of the process rendering both, "
            "size of each file (Plotly's JavaScript, about 4.7 MB, is inlined). The demo's "
            "per-customer tables are replicated to the customer count (orders: five per "
            "customer); aggregate tables keep the demo's rows. Targets: under 60 s and 15 MB "
            "at 1,000,000 customers.",
            "",
            "| workspace | customers | seconds per language | peak RSS (MiB) | EN (MB) | FR (MB) "
            "| charts | largest chart (values) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            row("demo (baseline)", base),
            row("demo scaled", big),
            "",
        ]
    )
    write_section(TITLE, section)


if __name__ == "__main__":
    main()
