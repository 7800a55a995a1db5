"""A day of CRM plans: candidates of every plan, the policy, the journal, the deliveries.

The decisions are one engine query over the profile, KPI, category, consent, event and
journal tables; Python only renders and sends the messages of those who receive one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import pyarrow as pa

from parcours.activation import journal as jr
from parcours.activation.channels import Message, transport
from parcours.activation.plans import Day, candidates
from parcours.activation.policy import decide, due_at, holdout_threshold
from parcours.activation.render import language, render
from parcours.errors import MissingInputError
from parcours.facts import resolve_as_of
from parcours.schema import (
    CRM_ACTIONS,
    CUSTOMER_KEY,
    CUSTOMER_PROFILE,
    CUSTOMERS_GOLDEN,
    STORES,
)
from parcours.workspace import Workspace

SEND_BATCH = 500
CONTACT_FIELDS = ("first_name", "email", "phone", "country")


@dataclass
class PlanRun:
    """What a run decided: counts per plan, status, channel and reason; what it sent."""

    as_of: dt.date
    due_at: dt.datetime
    counts: list[dict]
    sent: int = 0
    failed: int = 0
    samples: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def people(ws: Workspace) -> ibis.Table:
    """The profile with the contact fields of the golden record and the CLV decile."""
    engine = ws.engine
    if not engine.has_table(CUSTOMER_PROFILE.name):
        raise MissingInputError("no customer profile", hint="parcours profile")
    p = engine.table(CUSTOMER_PROFILE.name)
    if "clv" in p.columns:
        p = p.mutate(clv_decile=(ibis.ntile(10).over(order_by=p.clv) + 1).cast("int64"))
    if engine.has_table(CUSTOMERS_GOLDEN.name):
        g = engine.table(CUSTOMERS_GOLDEN.name)
        g = g.select(g[CUSTOMER_KEY], *[g[c] for c in CONTACT_FIELDS if c in g.columns])
        p = p.left_join(g, CUSTOMER_KEY).drop(f"{CUSTOMER_KEY}_right")
    return p


def _plans_table(ws: Workspace, names: list[str]) -> ibis.Table:
    plans = ws.config.plans.scenarios
    rows = pa.Table.from_pylist(
        [
            {
                "plan": n,
                "priority": plans[n].priority,
                "cooldown_days": plans[n].cooldown_days,
                "holdout": holdout_threshold(plans[n].holdout_share),
                "wanted": plans[n].channel,
                "calendar": plans[n].trigger.kind == "calendar",
            }
            for n in names
        ],
        schema=pa.schema(
            [
                ("plan", pa.string()),
                ("priority", pa.int64()),
                ("cooldown_days", pa.int64()),
                ("holdout", pa.string()),
                ("wanted", pa.string()),
                ("calendar", pa.bool_()),
            ]
        ),
    )
    return ws.engine.from_arrow(rows, "crm_plan_settings")


def decisions(ws: Workspace, as_of: dt.date | None) -> tuple[ibis.Table, Day, list[str]]:
    """Today's new decisions (not yet journaled), the day, and the plans skipped and why."""
    engine, config = ws.engine, ws.config
    as_of = resolve_as_of(engine, as_of)
    day = Day.of(as_of, config)
    folks = people(ws)
    found, names, skipped = [], [], []
    for name, plan in config.plans.scenarios.items():
        if not plan.enabled:
            continue
        try:
            found.append(candidates(engine, name, plan, day, config, folks))
            names.append(name)
        except MissingInputError as e:
            skipped.append(f"{name}: {e.problem.message} ({e.hint})")
    if not found:
        raise MissingInputError(
            "no plan can run: " + "; ".join(skipped) if skipped else "no plan enabled",
            hint="see docs/activation.md",
        )
    union = found[0]
    for f in found[1:]:
        union = union.union(f)
    decided = decide(
        engine,
        union,
        _plans_table(ws, names),
        jr.journal_or_none(engine),
        folks,
        day,
        config.plans,
        festive_lifecycle="lifecycle_segment" in folks.columns,
    )
    return decided, day, skipped


def _counts(engine, rows: ibis.Table) -> list[dict]:
    c = rows.group_by(["plan", "status", "channel", "reason"]).aggregate(persons=rows.count())
    return engine.to_pyarrow(c.order_by(["plan", "status", "channel", "reason"])).to_pylist()


def run_plans(ws: Workspace, as_of: dt.date | None = None, *, send: bool = False) -> PlanRun:
    """Decide the day's actions and journal them; with ``send``, deliver those due."""
    engine = ws.engine
    with engine.batch():
        decided, day, skipped = decisions(ws, as_of)
        due = due_at(day.as_of, ws.config.plans, ws.config.defaults.timezone)
        rows = jr.journal_rows(decided, day.as_of, due)
        # Materialised once: the counts and the journal read the same rows.
        engine.write("_staged_crm_new", rows, stage=jr.STAGE)
        new = engine.table("_staged_crm_new")
        counts = _counts(engine, new)
        jr.append(engine, new)
        engine.drop("_staged_crm_new")
    report = PlanRun(day.as_of, due, counts, skipped=skipped)
    if send:
        report.sent, report.failed = deliver(ws)
    return report


def preview_plans(ws: Workspace, as_of: dt.date | None = None, sample: int = 3) -> PlanRun:
    """What ``run`` would decide, without writing: counts and a few rendered messages."""
    engine = ws.engine
    decided, day, skipped = decisions(ws, as_of)
    due = due_at(day.as_of, ws.config.plans, ws.config.defaults.timezone)
    rows = jr.journal_rows(decided, day.as_of, due)
    report = PlanRun(day.as_of, due, _counts(engine, rows), skipped=skipped)
    picked = rows.filter(rows.status == "decided")
    picked = picked.mutate(
        k=ibis.row_number().over(group_by=picked.plan, order_by=picked.action_id)
    ).filter(lambda t: t.k < sample)
    for m in messages(ws, picked.drop("k")):
        report.samples.append(
            {
                "plan": m.data["plan"],
                "channel": m.channel,
                "to": m.to,
                "subject": m.subject,
                "body": m.body,
                "language": m.language,
            }
        )
    return report


def messages(ws: Workspace, rows: ibis.Table) -> list[Message]:
    """Render the messages of journal ``rows``, with each person's contact fields."""
    engine, config = ws.engine, ws.config
    folks = people(ws)
    keep = [c for c in CONTACT_FIELDS if c in folks.columns]
    f = folks.select(folks[CUSTOMER_KEY], *[folks[c] for c in keep])
    t = rows.left_join(f, CUSTOMER_KEY).drop(f"{CUSTOMER_KEY}_right")
    if engine.has_table(STORES.name):
        s = engine.table(STORES.name)
        s = s.group_by(s.store_id).aggregate(store_name=s["name"].min())
        t = t.left_join(s, t.route == "store:" + s.store_id).drop("store_id")
    else:
        t = t.mutate(store_name=ibis.null("string"))
    out = []
    for r in engine.to_pyarrow(t).to_pylist():
        plan = config.plans.scenarios.get(r["plan"])
        if plan is None:  # a plan removed from the config since it decided
            continue
        lang = language(r.get("country"), config.plans, config.defaults.country)
        store = r["store_name"] or (r["route"] or "").removeprefix("store:") or None
        fields = {
            "first_name": r.get("first_name"),
            "store": store if (r["route"] or "").startswith("store:") else None,
            "category": r["detail"],
            "offer_family": r["detail"],
            "plan": r["plan"],
        }
        text = render(plan, lang, fields)
        to = {"email": r.get("email"), "sms": r.get("phone")}.get(r["channel"])
        if r["channel"] in ("push", "post"):
            to = r[CUSTOMER_KEY]
        out.append(
            Message(
                r["action_id"],
                r["channel"],
                to,
                text.subject,
                text.body,
                lang,
                {"plan": r["plan"], "route": r["route"], "customer_key": r[CUSTOMER_KEY]},
            )
        )
    return out


def deliver(ws: Workspace, now: dt.datetime | None = None) -> tuple[int, int]:
    """Send every decided action that is due, channel by channel, journaling as it goes.

    A kill between two batches leaves the sent ones journaled as sent; a message of the
    batch in flight may go twice, with the same id, which providers use to drop the copy.
    """
    engine, config = ws.engine, ws.config
    if not engine.has_table(CRM_ACTIONS.name):
        return 0, 0
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    j = engine.table(CRM_ACTIONS.name)
    due = j.filter(j.status == "decided", j.due_at <= now).order_by("action_id")
    sent = failed = 0
    todo = messages(ws, due)
    by_channel: dict[str, list[Message]] = {}
    for m in todo:
        by_channel.setdefault(m.channel, []).append(m)
    for channel, items in sorted(by_channel.items()):
        way = transport(channel, config.plans.transports[channel], ws.dir)
        for start in range(0, len(items), SEND_BATCH):
            chunk = items[start : start + SEND_BATCH]
            subjects = {m.message_id: m.subject for m in chunk}
            outcomes = way.send(chunk)
            jr.record_outcomes(
                engine,
                [
                    {
                        "action_id": o.message_id,
                        "status": o.status,
                        "reason": o.reason,
                        "subject": subjects[o.message_id],
                        "sent_at": o.sent_at,
                        "attempts": o.attempts,
                    }
                    for o in outcomes
                ],
            )
            sent += sum(o.status == "sent" for o in outcomes)
            failed += sum(o.status == "failed" for o in outcomes)
    return sent, failed
