"""Funnels and paths over tens of millions of events: time and peak memory, beside SQL by hand.

The events are generated inside DuckDB as a ``journey_timeline`` (never committed): browsing
sessions page_view -> product_view(s) -> add_to_cart -> checkout_start -> purchase that stop
early at fixed rates, five sessions per journey, web or app. parcours computes the checkout
funnel (session scope, split by channel), the browse-to-buy funnel (customer scope, 5 steps,
split by channel), the top paths of stages and the directly-follows graph. The baseline is
the browse-to-buy funnel written by hand in DuckDB SQL (``journeys_funnel_baseline.sql``):
same funnel, same rules, same events, in the same run; the counts of both sides are compared.
Each side runs in its own process, so that peak RSS is its own.

    python benchmarks/bench_journeys.py --events 50000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import print_result, write_section

HERE = Path(__file__).parent
TITLE = "## Journeys: funnels and paths"
MEMORY_LIMIT = "6GB"

STEPS_SQL = """
SELECT setseed(0.42);
CREATE TABLE sessions AS
SELECT
    i AS sid,
    i // 5 AS jid,
    TIMESTAMP '2025-01-01' + to_seconds(CAST(floor(random() * 63072000) AS BIGINT)) AS t0,
    1 + CAST(floor(random() * 3) AS INT) AS views,
    random() AS u,
    CASE WHEN random() < 0.3 THEN 'app' ELSE 'web' END AS channel
FROM range({sessions}) r(i);
CREATE TABLE journey_timeline AS
WITH ev AS (
    SELECT s.sid, s.jid, s.channel, s.t0, k,
        CASE WHEN k = 0 THEN 'page_view'
             WHEN k <= s.views THEN 'product_view'
             WHEN k = s.views + 1 THEN 'add_to_cart'
             WHEN k = s.views + 2 THEN 'checkout_start'
             ELSE 'purchase' END AS touchpoint
    FROM sessions s,
    LATERAL generate_series(0, s.views + CASE
        WHEN s.u < 0.336 THEN 3 WHEN s.u < 0.42 THEN 2 WHEN s.u < 0.6 THEN 1 ELSE 0 END) g(k)
)
SELECT
    'J' || jid AS journey_id,
    'J' || jid AS customer_key,
    CAST(NULL AS VARCHAR) AS anonymous_id,
    CAST(row_number() OVER (PARTITION BY jid ORDER BY t0, k) - 1 AS BIGINT) AS seq,
    t0 + to_seconds(k * 30) AS occurred_at,
    touchpoint,
    CAST(NULL AS VARCHAR) AS outcome,
    CASE touchpoint WHEN 'page_view' THEN 'information_search'
        WHEN 'product_view' THEN 'evaluation_of_options'
        WHEN 'purchase' THEN 'purchase' ELSE 'purchase_decision' END AS stage,
    CAST(CASE touchpoint WHEN 'page_view' THEN 2 WHEN 'product_view' THEN 3
        WHEN 'purchase' THEN 5 ELSE 4 END AS BIGINT) AS stage_no,
    channel,
    CAST(NULL AS VARCHAR) AS device,
    'S' || sid AS session_id,
    CAST(NULL AS VARCHAR) AS order_id,
    CASE WHEN touchpoint = 'purchase' THEN 60.0 END AS amount,
    '/' || touchpoint AS url,
    channel AS source,
    CAST(sid * 10 + k AS VARCHAR) AS ref
FROM ev;
DROP TABLE sessions;
"""


def cpu_seconds() -> float:
    """CPU time of this process (all threads): steadier than wall time on a shared machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make_events(path: Path, events: int) -> int:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("SET threads = 2")
    sessions = int(events / 4.36)  # 1 + 2 views + 0.6 + 0.42 + 0.336 events per session
    for statement in STEPS_SQL.format(sessions=sessions).split(";"):
        if statement.strip():
            con.execute(statement)
    n = con.execute("SELECT count(*) FROM journey_timeline").fetchone()[0]
    con.close()
    return n


def run_parcours(path: Path) -> dict:
    import dataclasses

    import ibis

    from parcours.config import JourneysConfig
    from parcours.engine import Engine
    from parcours.journeys.funnels import funnel, funnel_entries, funnel_spec
    from parcours.journeys.paths import journey_paths, runs, top_paths, transition_graph
    from parcours.journeys.paths import transitions as moves_of
    from parcours.journeys.stages import stage_names

    cfg = JourneysConfig()
    # A memory limit leaves room to the other processes of a shared machine; DuckDB spills.
    engine = Engine(ibis.duckdb.connect(str(path), threads=2, memory_limit=MEMORY_LIMIT))
    tl = engine.table("journey_timeline")
    names = stage_names(cfg.stages)
    out = {}
    start = time.perf_counter()
    checkout = funnel_spec("checkout", cfg.funnels["checkout"], names)
    f = engine.execute(funnel(funnel_entries(tl, checkout), checkout, ["channel"]))
    out["checkout_seconds"] = time.perf_counter() - start
    out["checkout"] = f[f.split == "all"].sort_values("step_no").reached.tolist()

    t, cpu = time.perf_counter(), cpu_seconds()
    browse = funnel_spec("browse_to_buy", cfg.funnels["browse_to_buy"], names)
    browse = dataclasses.replace(browse, scope="customer")
    f = engine.execute(funnel(funnel_entries(tl, browse), browse, ["channel"]))
    out["browse_seconds"] = time.perf_counter() - t
    out["browse_cpu"] = cpu_seconds() - cpu
    out["browse"] = {
        value: g.sort_values("step_no").reached.tolist() for value, g in f.groupby("split_value")
    }

    t = time.perf_counter()
    r = runs(tl).cache()
    top = engine.execute(top_paths(journey_paths(r, 5), 10))
    graph = engine.execute(transition_graph(moves_of(r)))
    out["paths_seconds"] = time.perf_counter() - t
    out["top_path_customers"] = int(top.customers.max())
    out["edges"] = len(graph)
    out["seconds"] = time.perf_counter() - start
    return out


def run_sql(path: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET threads = 2")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    start, cpu = time.perf_counter(), cpu_seconds()
    rows = con.execute((HERE / "journeys_funnel_baseline.sql").read_text()).fetchall()
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu
    con.close()
    browse = {channel: [int(x) for x in counts] for channel, *counts in rows}
    return {"browse_seconds": seconds, "browse_cpu": cpu, "browse": browse, "seconds": seconds}


def child(which: str, path: Path) -> None:
    result = {"parcours": run_parcours, "sql": run_sql}[which](path)
    print_result(result)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--child", choices=["parcours", "sql", "events"])
    parser.add_argument("--file", type=Path)
    parser.add_argument(
        "--events-file", type=Path, help="Reuse events generated by an earlier run (DuckDB file)."
    )
    args = parser.parse_args()
    if args.child == "events":
        print(make_events(args.file, args.events))
        return
    if args.child:
        child(args.child, args.file)
        return
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        path = Path(tmp) / "events.duckdb"
        t = time.perf_counter()
        if args.events_file:
            import duckdb

            path = args.events_file
            with duckdb.connect(str(path), read_only=True) as con:
                n = con.execute("SELECT count(*) FROM journey_timeline").fetchone()[0]
        else:
            # In a process of its own: a child forked from a big parent inherits its peak RSS.
            n = int(
                subprocess.run(
                    [sys.executable, __file__, "--child", "events", "--file", str(path)]
                    + ["--events", str(args.events)],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()[-1]
            )
        made = time.perf_counter() - t
        print(f"{n:,} events generated in {made:.0f} s", flush=True)
        results = {}
        for which in ("sql", "parcours"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", which, "--file", str(path)],
                capture_output=True,
                text=True,
            )
            if out.returncode < 0:
                results[which] = {"error": f"killed by signal {-out.returncode} (out of memory?)"}
            elif out.returncode:
                results[which] = {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
            else:
                results[which] = json.loads(out.stdout.strip().splitlines()[-1])
            print(which, results[which], flush=True)
    lines = [
        f"{TITLE} over {n:,} events",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}; load average "
        f"{os.getloadavg()[0]:.1f} at the end. "
        f"Events generated in DuckDB ({'reused' if args.events_file else f'{made:.0f} s'}, "
        f"not counted). Both sides: DuckDB, 2 threads, memory limit {MEMORY_LIMIT}. parcours "
        "(through Ibis): checkout funnel (session scope, split by channel), browse-to-buy "
        "funnel (customer scope, 5 steps, window 4d, within 1d, best attempt, split by "
        "channel), top paths of 5 stages and the directly-follows graph. SQL by hand "
        "(`journeys_funnel_baseline.sql`): the same browse-to-buy funnel.",
        "",
        "| implementation | checkout funnel (s) | browse-to-buy funnel (s) | paths + graph (s) "
        "| total (s) | peak RSS (MiB) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for which, r in results.items():
        if "error" in r:
            lines.append(f"| {which} | failed: {r['error']} | | | | |")
            continue
        cells = [f"{r[k]:.1f}" if k in r else "-" for k in ("checkout_seconds", "browse_seconds")]
        paths = f"{r['paths_seconds']:.1f}" if "paths_seconds" in r else "-"
        lines.append(
            f"| {which} | {cells[0]} | {cells[1]} | {paths} | {r['seconds']:.1f} "
            f"| {r['peak_rss_mib']:,.0f} |"
        )
    ok = all("browse" in r for r in results.values())
    if ok:
        p, q = results["parcours"], results["sql"]
        same = p["browse"] == q["browse"]
        ratio = p["browse_seconds"] / q["browse_seconds"]
        cpu = p["browse_cpu"] / q["browse_cpu"]
        lines += [
            "",
            f"browse-to-buy, parcours / SQL by hand: {ratio:.2f}x in wall time, {cpu:.2f}x in CPU "
            f"time ({p['browse_cpu']:.1f} s / {q['browse_cpu']:.1f} s); "
            f"counts per channel {'identical' if same else 'DIFFERENT'}: "
            + "; ".join(f"{c} {', '.join(f'{x:,}' for x in v)}" for c, v in p["browse"].items()),
            f"checkout reached per step (parcours): {', '.join(f'{x:,}' for x in p['checkout'])}",
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    write_section(f"{TITLE} over {n:,} events", text)


if __name__ == "__main__":
    main()
