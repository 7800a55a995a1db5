"""A year of daily CRM plan runs on the demo: the policy holds every day, a day costs the same.

The demo retailer (``--customers`` persons) runs the whole pipeline once; then
``run_plans`` decides the seven default plans for each of the last 365 days of its data, in
order, and the last day once more. Checked on the journal at the end: nobody got more
contacts than a cap allows in any window (one a day, the caps across plans, per channel),
nobody was contacted on a channel without a granted consent known that day, holdout shares
are within their 99% binomial interval, and the rerun decided nothing. The baseline, in the
same run, is the cost of the first day (empty journal) against the last (a year of journal).
The test suite runs the same checks on five weeks; a year of daily runs costs minutes of
query compilation, so it runs here.

    python benchmarks/bench_plans_year.py --customers 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
from harness import write_section

TITLE = "## CRM plans: a year of daily runs (`benchmarks/bench_plans_year.py`)"
CONTACTS = ("decided", "sent")


def most_in_window(days: pd.Series, window: int) -> int:
    """The most contacts of one person within ``window`` consecutive days."""
    t = days.sort_values().to_numpy()
    start = t - pd.Timedelta(days=window - 1)
    return int((t.searchsorted(t, side="right") - t.searchsorted(start, side="left")).max())


def cap_excess(journal: pd.DataFrame, plans) -> list[tuple[str, int, int]]:
    """(rule, most seen, cap) for every cap: one a day, across plans, per channel."""
    c = journal[journal.status.isin(CONTACTS)]
    days = pd.to_datetime(c.decided_on)
    rules = [("daily", None, 1, 1)] + [(f"cap_{k.days}d", None, k.days, k.max) for k in plans.caps]
    rules += [
        (f"cap_{ch}_{k.days}d", ch, k.days, k.max)
        for ch, caps in plans.channel_caps.items()
        for k in caps
    ]
    out = []
    for label, channel, window, cap in rules:
        mine = c if channel is None else c[c.channel == channel]
        seen = max(
            (most_in_window(days[g.index], window) for _, g in mine.groupby("customer_key")),
            default=0,
        )
        out.append((label, seen, cap))
    return out


def without_consent(journal: pd.DataFrame, consents: pd.DataFrame) -> int:
    """Contacts whose channel had no granted consent as the latest decision known that day."""
    c = journal[journal.status.isin(CONTACTS)].copy()
    c["at"] = (pd.to_datetime(c.decided_on) + pd.Timedelta(days=1)).astype("datetime64[us]")
    k = consents.assign(at=pd.to_datetime(consents.recorded_at).astype("datetime64[us]"))
    k = k.sort_values("at")
    joined = pd.merge_asof(
        c.sort_values("at"),
        k[["customer_key", "channel", "at", "granted"]],
        on="at",
        by=["customer_key", "channel"],
        allow_exact_matches=False,
    )
    return int((joined.granted != True).sum())  # noqa: E712 (missing is not granted)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--no-write", action="store_true", help="Do not write RESULTS.md.")
    args = parser.parse_args()

    from parcours.activation import run_plans
    from parcours.demo.run import run_demo
    from parcours.facts import resolve_as_of
    from parcours.schema import CRM_ACTIONS, CUSTOMER_CONSENTS
    from parcours.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        run_demo(Path(tmp) / "demo", customers=args.customers, seed=42)
        with Workspace.open(Path(tmp) / "demo") as ws:
            engine = ws.engine
            last = resolve_as_of(engine, None)
            days = [last - dt.timedelta(days=args.days - 1 - i) for i in range(args.days)]
            seconds = []
            for day in days:
                start = time.perf_counter()
                run_plans(ws, day)
                seconds.append(time.perf_counter() - start)
            before = engine.execute(engine.table(CRM_ACTIONS.name).count())
            run_plans(ws, days[-1])
            rerun = engine.execute(engine.table(CRM_ACTIONS.name).count()) - before
            journal = engine.execute(engine.table(CRM_ACTIONS.name))
            consents = engine.execute(engine.table(CUSTOMER_CONSENTS.name))
            plans = ws.config.plans

    caps = cap_excess(journal, plans)
    unconsented = without_consent(journal, consents)
    reached = journal[journal.status.isin([*CONTACTS, "holdout"])]
    holdout = (reached.status == "holdout").mean()
    bound = 2.576 * math.sqrt(0.1 * 0.9 / len(reached))
    reasons = journal.reason.value_counts()
    ok = all(seen <= cap for _, seen, cap in caps) and unconsented == 0 and rerun == 0
    lines = [
        TITLE,
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}; {dt.date.today().isoformat()}; load average "
        f"{os.getloadavg()[0]:.1f} at the end. Demo of {args.customers:,} persons, seven "
        f"default plans run daily from {days[0]} to {days[-1]} ({args.days} runs), then the "
        "last day again.",
        "",
        "| run | seconds |",
        "| --- | --- |",
        f"| first day (empty journal, baseline) | {seconds[0]:.1f} |",
        f"| last day (a year of journal) | {seconds[-1]:.1f} |",
        f"| median day / 95th percentile | {statistics.median(seconds):.1f} / "
        f"{sorted(seconds)[int(0.95 * len(seconds))]:.1f} |",
        "",
        f"Policy held every day: {'yes' if ok else 'NO'}. Journal: {len(journal):,} rows, "
        f"{int(journal.status.isin(CONTACTS).sum()):,} contacts, "
        f"{int((journal.status == 'holdout').sum()):,} held out; suppressions: "
        + ", ".join(f"{r} {n:,}" for r, n in reasons.items())
        + ".",
        "Most contacts of one person in a window against its cap: "
        + ", ".join(f"{label} {seen}/{cap}" for label, seen, cap in caps)
        + f". Contacts without a granted consent: {unconsented}. Rerun of the last day: "
        f"{rerun} new rows. Holdout share {holdout:.3f} (99% interval 0.1 ± {bound:.3f}).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        write_section(TITLE, text)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
