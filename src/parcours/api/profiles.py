"""What the profile and audience API reads: one person's record, timeline and segments.

Everything is an Ibis expression filtered to one person or one page, run on a read-only
connection; nothing scans a table into Python.
"""

from __future__ import annotations

from typing import Any

import ibis

from parcours.api.errors import NotFoundError
from parcours.engine import Engine
from parcours.schema import (
    CUSTOMER_CONSENTS,
    CUSTOMER_EVENTS,
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    CUSTOMER_PREDICTIONS,
    CUSTOMER_PROFILE,
    CUSTOMERS,
    CUSTOMERS_GOLDEN,
    IDENTITY_MAP,
    JOURNEY_TIMELINE,
    OCCURRED_AT,
    SOURCE,
)

# Segmentations of the profile served as audiences: the name's prefix -> column.
SEGMENTATIONS = {
    "lifecycle": "lifecycle_segment",
    "rfm": "rfm_segment",
    "persona": "persona",
    "marketing": "marketing_persona",
}
MEMBER_FIELDS = ("first_name", "last_name", "email", "phone")


def _rows(engine: Engine, expr: ibis.Table) -> list[dict[str, Any]]:
    return engine.to_pyarrow(expr).to_pylist()


def _need_identity(engine: Engine) -> None:
    if not engine.has_table(IDENTITY_MAP.name):
        raise NotFoundError(
            "no single customer view yet", hint="run: parcours resolve (or parcours run)"
        )


def profile(engine: Engine, key: str) -> dict[str, Any]:
    """Golden record, identifiers and sources, KPIs, segments, predictions and consents."""
    _need_identity(engine)
    ids = engine.table(IDENTITY_MAP.name)
    identifiers = _rows(
        engine,
        ids.filter(ids[CUSTOMER_KEY] == key)
        .select(SOURCE, "source_id", "method")
        .order_by([SOURCE, "source_id"]),
    )
    if not identifiers:
        raise NotFoundError(f"no person with customer_key {key!r}")
    out: dict[str, Any] = {CUSTOMER_KEY: key, "identifiers": identifiers}
    for name, field in (
        (CUSTOMERS_GOLDEN.name, "golden_record"),
        (CUSTOMER_PROFILE.name, "profile"),
        (CUSTOMER_PREDICTIONS.name, "predictions"),
    ):
        out[field] = None
        if engine.has_table(name):
            t = engine.table(name)
            found = t.filter(t[CUSTOMER_KEY] == key)
            if "as_of" in t.columns:
                found = found.order_by(ibis.desc("as_of"))
            rows = _rows(engine, found.limit(1))
            out[field] = {k: v for k, v in rows[0].items() if k != CUSTOMER_KEY} if rows else None
    out["consents"] = []
    if engine.has_table(CUSTOMER_CONSENTS.name):
        c = engine.table(CUSTOMER_CONSENTS.name)
        out["consents"] = _rows(
            engine, c.filter(c[CUSTOMER_KEY] == key).drop(CUSTOMER_KEY).order_by("channel")
        )
    return out


def key_of(engine: Engine, *, email: str | None = None, source_id: str | None = None) -> str:
    """The customer_key of the person an identifier (email or ``SOURCE:ID``) belongs to."""
    _need_identity(engine)
    ids = engine.table(IDENTITY_MAP.name)
    if source_id is not None:
        source, _, sid = source_id.partition(":")
        found = ids.filter((ids[SOURCE] == source) & (ids.source_id == sid))
    else:
        normalized = (email or "").strip().lower()
        if "@" not in normalized:
            raise NotFoundError(f"{email!r} is not an email address")
        customers = engine.table(CUSTOMERS.name)
        match = customers.filter(customers.email == normalized).select(SOURCE, "source_id")
        found = ids.semi_join(
            match, (ids[SOURCE] == match[SOURCE]) & (ids.source_id == match.source_id)
        )
    rows = _rows(engine, found.select(CUSTOMER_KEY).distinct().limit(2))
    if not rows:
        raise NotFoundError("no person with this identifier")
    return rows[0][CUSTOMER_KEY]


def timeline(engine: Engine, key: str, limit: int, offset: int) -> list[dict[str, Any]]:
    """The person's touchpoints, oldest first; from the journeys or, before them, the facts."""
    _need_identity(engine)
    if engine.has_table(JOURNEY_TIMELINE.name):
        t = engine.table(JOURNEY_TIMELINE.name)
        t = t.filter(t[CUSTOMER_KEY] == key)
    else:
        parts = []
        if engine.has_table(CUSTOMER_EVENTS.name):
            e = engine.table(CUSTOMER_EVENTS.name)
            parts.append(
                e.filter(e[CUSTOMER_KEY] == key).select(
                    occurred_at=e.occurred_at.cast("timestamp"),
                    touchpoint=e.type,
                    channel=e.channel,
                    url=e.url,
                    amount=ibis.null("float64"),
                    ref=e.event_id,
                )
            )
        if engine.has_table(CUSTOMER_ORDERS.name):
            o = engine.table(CUSTOMER_ORDERS.name)
            parts.append(
                o.filter(o[CUSTOMER_KEY] == key).select(
                    occurred_at=o.ordered_at.cast("timestamp"),
                    touchpoint=ibis.literal("order"),
                    channel=o.channel,
                    url=ibis.null(str),
                    amount=o.total_amount.cast("float64"),
                    ref=o.order_id,
                )
            )
        if not parts:
            return []
        t = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
    return _rows(engine, t.order_by([OCCURRED_AT, "ref"]).limit(limit, offset=offset))


def segments(engine: Engine) -> list[dict[str, Any]]:
    """Every audience of the latest profile: ``lifecycle.vip``, ``rfm.champions``..."""
    if not engine.has_table(CUSTOMER_PROFILE.name):
        return []
    p = _latest_profile(engine)
    out = []
    for prefix, column in SEGMENTATIONS.items():
        if column not in p.columns:
            continue
        named = p.filter(p[column].notnull())
        counts = named.group_by(value=named[column]).aggregate(members=named.count())
        for r in _rows(engine, counts.order_by("value")):
            out.append({"name": f"{prefix}.{r['value']}", "members": r["members"]})
    return out


def _latest_profile(engine: Engine) -> ibis.Table:
    p = engine.table(CUSTOMER_PROFILE.name)
    return p.filter(p.as_of == p.as_of.max())


def members(engine: Engine, name: str, limit: int, offset: int) -> tuple[list[dict], int]:
    """One page of an audience's members with their contact fields, and the audience's size."""
    prefix, _, value = name.partition(".")
    column = SEGMENTATIONS.get(prefix)
    if column is None or not value or not engine.has_table(CUSTOMER_PROFILE.name):
        raise NotFoundError(f"no segment {name!r}", hint="list them with GET /v1/segments")
    p = _latest_profile(engine)
    if column not in p.columns:
        raise NotFoundError(f"no segment {name!r}", hint="list them with GET /v1/segments")
    chosen = p.filter(p[column] == value).select(CUSTOMER_KEY)
    total = int(engine.execute(chosen.count()))
    if total == 0:
        raise NotFoundError(f"no segment {name!r}", hint="list them with GET /v1/segments")
    if engine.has_table(CUSTOMERS_GOLDEN.name):
        g = engine.table(CUSTOMERS_GOLDEN.name)
        chosen = chosen.left_join(g, chosen[CUSTOMER_KEY] == g[CUSTOMER_KEY]).select(
            chosen[CUSTOMER_KEY], *[g[f] for f in MEMBER_FIELDS]
        )
    page = chosen.order_by(CUSTOMER_KEY).limit(limit, offset=offset)
    return _rows(engine, page), total
