"""What the ``parcours plan`` commands print."""

from __future__ import annotations

from collections import Counter

from parcours import console
from parcours.activation.decisions import PlanRun
from parcours.workspace import Workspace


def print_plan_list(ws: Workspace) -> None:
    rows = []
    for name, p in ws.config.plans.scenarios.items():
        t = p.trigger
        when = t.kind + (f" +{t.days}" + ("" if t.days == "auto" else "d") if t.days else "")
        audience = ", ".join(f"{k}={v}" for k, v in p.audience.items()) or "everyone"
        rows.append(
            (
                name,
                when,
                audience,
                p.channel,
                p.priority,
                p.cooldown_days,
                p.holdout_share,
                "yes" if p.enabled else "no",
            )
        )
    console.table(
        "Plans",
        ["plan", "trigger", "audience", "channel", "priority", "cooldown", "holdout", "enabled"],
        rows,
    )


def print_plan_run(report: PlanRun, *, preview: bool = False) -> None:
    verb = "would decide" if preview else "decided"
    console.out.print(f"as of {report.as_of}: messages due at {report.due_at:%Y-%m-%d %H:%M} UTC")
    for line in report.skipped:
        console.warn(f"plan skipped: {line}")
    per: dict[tuple[str, str, str], int] = Counter()
    reasons: dict[str, int] = Counter()
    for c in report.counts:
        per[(c["plan"], c["status"], c["channel"] or "-")] += c["persons"]
        if c["reason"]:
            reasons[c["reason"]] += c["persons"]
    if report.counts:
        console.table(
            f"Actions {verb}",
            ["plan", "status", "channel", "persons"],
            [(*k, v) for k, v in sorted(per.items())],
        )
    if reasons:
        console.table("Suppressed, by reason", ["reason", "persons"], sorted(reasons.items()))
    if not report.counts:
        console.out.print("nothing new to decide")
    for s in report.samples:
        console.out.rule(f"{s['plan']} · {s['channel']} · {s['language']}")
        console.out.print(f"to: {s['to']}\nsubject: {s['subject']}\n\n{s['body']}")
    if not preview and (report.sent or report.failed):
        console.out.print(f"sent {report.sent}, failed {report.failed}")


def print_evaluation(rows: list[dict]) -> None:
    def pct(v):
        return None if v is None else f"{100 * v:.1f}%"

    console.table(
        "Plan evaluation (treated vs holdout)",
        [
            "plan",
            "source",
            "treated",
            "holdout",
            "conv. treated",
            "conv. holdout",
            "uplift",
            "95% interval",
            "incremental revenue",
        ],
        [
            (
                r["plan"],
                r["source"],
                r["treated"],
                r["holdout"],
                pct(r["treated_conversion"]),
                pct(r["holdout_conversion"]),
                pct(r["uplift"]),
                None
                if r["ci_low"] is None
                else f"{100 * r['ci_low']:+.1f} to {100 * r['ci_high']:+.1f} pts",
                None if r["incremental_revenue"] is None else round(r["incremental_revenue"], 2),
            )
            for r in rows
        ],
    )
