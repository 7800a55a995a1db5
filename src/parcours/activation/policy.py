"""The contact policy, applied in the engine to every plan's candidates at once.

In order: consent (latest decision wins; no record means no consent on the channels of
``plans.consent_required``), festive-only customers left alone off season, the plan's
cooldown, then one plan per person and day chosen by priority, the pressure caps across
plans and per channel, and last the plan's stable holdout. Every candidate leaves with a
status, and a reason when it is not contacted.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import ibis

from parcours.activation.plans import Day
from parcours.config import CapConfig, PlansConfig
from parcours.facts import end_of
from parcours.schema import CUSTOMER_CONSENTS, CUSTOMER_KEY

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Statuses that count as a contact for the pressure caps.
CONTACTS = ("decided", "sent")
HASH_DIGITS = 8


def due_at(as_of: dt.date, config: PlansConfig, timezone: str) -> dt.datetime:
    """The UTC time a day's messages may go: the send hour, moved past quiet hours and days."""
    zone = ZoneInfo(timezone)
    local = dt.datetime.combine(as_of, dt.time(config.send_hour), zone)
    start, end = config.quiet_hours
    for _ in range(24 * 8):
        hour = local.hour
        quiet_hour = (start <= hour < end) if start <= end else (hour >= start or hour < end)
        if not quiet_hour and DAY_NAMES[local.weekday()] not in config.quiet_days:
            break
        local = (local + dt.timedelta(hours=1)).replace(minute=0, second=0)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def holdout_threshold(share: float) -> str:
    """The hex prefix below which an md5 falls with probability ``share``."""
    return f"{round(share * 16**HASH_DIGITS):0{HASH_DIGITS}x}"


def in_holdout(plan: ibis.StringValue, person: ibis.StringValue, share: ibis.Value):
    """A stable draw per plan and person: md5 compared as hex text, the same on every engine."""
    digest = (plan + ":" + person).hexdigest("md5").substr(0, HASH_DIGITS)
    return digest < share


def consent_flags(engine, as_of: dt.date, config: PlansConfig, channels) -> ibis.Table | None:
    """Per person and channel, the latest decision known on ``as_of`` (1 granted, 0 refused).

    A decision recorded after the day is not known then: the person counts as without record.
    """
    if not engine.has_table(CUSTOMER_CONSENTS.name):
        return None
    c = engine.table(CUSTOMER_CONSENTS.name)
    c = c.filter(c.recorded_at < end_of(as_of))
    return c.group_by(CUSTOMER_KEY).aggregate(
        **{f"says_{ch}": c.granted.cast("int8").max(where=c.channel == ch) for ch in channels}
    )


def retried(status: ibis.StringValue, reason: ibis.StringValue) -> ibis.BooleanValue:
    """Suppressed by pressure only: decided again on a later day while the trigger holds."""
    return (status == "suppressed") & (
        reason.isin(["priority", "daily"]) | reason.startswith("cap")
    )


def decide(
    engine,
    found: ibis.Table,
    plans: ibis.Table,
    journal: ibis.Table | None,
    people: ibis.Table,
    day: Day,
    config: PlansConfig,
    festive_lifecycle: bool,
) -> ibis.Table:
    """Apply the policy to ``found`` (plan, customer_key, occurrence, detail).

    ``plans`` holds per plan: priority, cooldown_days, holdout (hex threshold), wanted
    (a channel or ``best``), calendar (bool). Returns one row per new candidate with
    channel, route, status and reason.
    """
    today = ibis.date(day.as_of)
    if journal is not None:
        # An occurrence is decided once, except one held back by pressure on an earlier day
        # (a cap, another plan first): it is decided again while its trigger holds.
        again = retried(journal.status, journal.reason) & (journal.decided_on < today)
        settled = journal.filter(~again)
        found = found.anti_join(
            settled,
            [
                found.plan == settled.plan,
                found[CUSTOMER_KEY] == settled[CUSTOMER_KEY],
                found.occurrence == settled.occurrence,
            ],
        )
    t = found.join(plans, "plan")

    # Consent and the channel.
    channels = sorted({*config.best_order, "email", "sms", "push", "post"})
    flags = consent_flags(engine, day.as_of, config, channels)
    if flags is not None:
        t = t.left_join(flags, CUSTOMER_KEY).drop(f"{CUSTOMER_KEY}_right")
    ok = {}
    for ch in channels:
        said = t[f"says_{ch}"] if flags is not None else ibis.null("int8")
        ok[ch] = (said == 1) if ch in config.consent_required else ibis.coalesce(said, 1) == 1
    best = ibis.cases(*[(ok[ch], ch) for ch in config.best_order], else_=ibis.null("string"))
    chosen = ibis.cases(
        (t.wanted == "best", best),
        *[((t.wanted == ch) & ok[ch], ibis.literal(ch)) for ch in channels],
        else_=ibis.null("string"),
    )
    t = t.mutate(channel=chosen)

    # People: segment and where an offer points.
    p = people.select(
        people[CUSTOMER_KEY],
        p_segment=people.lifecycle_segment if festive_lifecycle else ibis.null("string"),
        p_store=people.main_store,
        p_preferred=people.preferred_channel,
    )
    t = t.left_join(p, CUSTOMER_KEY).drop(f"{CUSTOMER_KEY}_right")
    to_store = ibis.literal(False)
    if config.store_families:
        to_store = t.detail.isin(config.store_families)
    to_store = ibis.ifelse(t.detail.isnull(), t.p_preferred == "store", to_store)
    t = t.mutate(route=ibis.ifelse(to_store & t.p_store.notnull(), "store:" + t.p_store, "web"))

    # Cooldown: the plan reached the person (or held them out) within cooldown_days.
    if journal is not None:
        j = journal.filter(journal.status.isin([*CONTACTS, "holdout"]))
        last = j.group_by([j.plan, j[CUSTOMER_KEY]]).aggregate(last_on=j.decided_on.max())
        t = t.left_join(last, ["plan", CUSTOMER_KEY]).drop(f"{CUSTOMER_KEY}_right", "plan_right")
        cooling = t.last_on.notnull() & ((today - t.last_on).cast("int64") < t.cooldown_days)
    else:
        cooling = ibis.literal(False)
    off_season = ibis.literal(False)
    if festive_lifecycle and not day.in_season:
        off_season = t.p_segment.isin(config.festive_segments) & ~t.calendar
    first_reason = ibis.cases(
        (t.channel.isnull(), "no_consent"),
        (off_season, "off_season"),
        (cooling, "cooldown"),
        else_=ibis.null("string"),
    )
    t = t.mutate(reason=first_reason)

    # One plan a day per person: the highest priority among the eligible.
    t = t.mutate(
        rank=ibis.ifelse(
            t.reason.isnull(),
            ibis.row_number().over(
                group_by=[t[CUSTOMER_KEY], t.reason.isnull()],
                order_by=[t.priority, t.plan],
            ),
            None,
        )
    )
    t = t.mutate(reason=ibis.ifelse(t.reason.isnull() & (t["rank"] > 0), "priority", t.reason))

    # Pressure caps, over the journal's contacts of the window (earlier runs of the day too).
    cap_reasons = []
    if journal is not None:
        j = journal.filter(journal.status.isin(CONTACTS))
        rules = [("daily", None, CapConfig(days=1, max=1))]
        rules += [(f"cap_{c.days}d", None, c) for c in config.caps] + [
            (f"cap_{ch}_{c.days}d", ch, c) for ch, caps in config.channel_caps.items() for c in caps
        ]
        for i, (label, ch, cap) in enumerate(rules):
            since = ibis.date(day.as_of - dt.timedelta(days=cap.days - 1))
            w = j.filter(j.decided_on >= since, j.decided_on <= today)
            if ch is not None:
                w = w.filter(w.channel == ch)
            counted = w.group_by(CUSTOMER_KEY).aggregate(**{f"n{i}": w.count()})
            t = t.left_join(counted, CUSTOMER_KEY).drop(f"{CUSTOMER_KEY}_right")
            over = ibis.coalesce(t[f"n{i}"], 0) + 1 > cap.max
            if ch is not None:
                over = over & (t.channel == ch)
            cap_reasons.append((over, label))
    elif any(c.max < 1 for c in config.caps):
        cap_reasons.append((ibis.literal(True), "cap"))
    if cap_reasons:
        capped = ibis.cases(*cap_reasons, else_=ibis.null("string"))
        t = t.mutate(reason=ibis.ifelse(t.reason.isnull(), capped, t.reason))

    held = in_holdout(t.plan, t[CUSTOMER_KEY], t.holdout)
    status = ibis.cases(
        (t.reason.notnull(), "suppressed"),
        (held, "holdout"),
        else_="decided",
    )
    return t.select(
        CUSTOMER_KEY,
        "plan",
        "occurrence",
        "detail",
        channel=t.channel,
        route=t.route,
        status=status,
        reason=t.reason,
    )
