"""Timelines: every touchpoint of a person (or of an anonymous visitor) in one ordered list.

Events (browsing, e-mails, deliveries, tickets, surveys), orders of every channel and consent
decisions are brought to one shape, given a stage and an outcome, and numbered in time order
per journey. A journey is a person (``customer_key``) or, for a visitor never identified, the
visitor's anonymous id: browsing that a login links to a person is already the person's in
``customer_events``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ibis
import pandas as pd
from ibis.expr.types import StringValue

from parcours.config import StageConfig
from parcours.engine import IBIS_TYPES, Engine, conform
from parcours.errors import MissingInputError, UserInputError
from parcours.journeys.stages import stage_of
from parcours.schema import (
    CONSENTS,
    CUSTOMER_CONSENTS,
    CUSTOMER_EVENTS,
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    IDENTITY_MAP,
    JOURNEY_ID,
    JOURNEY_TIMELINE,
    OCCURRED_AT,
    ORDER_TOUCHPOINT,
    OUTCOME,
    SEQ,
    STAGE,
    STAGE_NO,
    TOUCHPOINT,
)

ANONYMOUS_PREFIX = "anon:"
# Survey scores (1-5) read as an outcome: the usual CSAT cut.
GOOD_SCORE, BAD_SCORE = 4, 2


# The value at a key of a JSON object text, as text (``Engine.json_text``).
JsonText = Callable[[StringValue, str], StringValue]


def _event_outcome(e: ibis.Table, json_text: JsonText) -> ibis.StringValue:
    props = e.properties
    late = json_text(props, "late")
    resolved = json_text(props, "resolved")
    score = json_text(props, "score").cast("float64")
    return ibis.cases(
        (
            (e.type == "order_delivered") & late.notnull(),
            ibis.ifelse(late == "true", "late", "on_time"),
        ),
        (
            (e.type == "ticket_closed") & resolved.notnull(),
            ibis.ifelse(resolved == "true", "resolved", "unresolved"),
        ),
        (
            (e.type == "survey_response") & score.notnull(),
            ibis.cases((score >= GOOD_SCORE, "good"), (score <= BAD_SCORE, "bad"), else_="neutral"),
        ),
        else_=ibis.null(str),
    )


def _journey_id(customer_key: ibis.Value, anonymous_id: ibis.Value) -> ibis.StringValue:
    return ibis.coalesce(customer_key, ibis.literal(ANONYMOUS_PREFIX) + anonymous_id)


def touchpoints(
    events: ibis.Table | None,
    orders: ibis.Table | None,
    consents: ibis.Table | None,
    stages: Sequence[StageConfig],
    json_text: JsonText,
) -> ibis.Table:
    """Events, orders and consent decisions as touchpoints of one shape, with their stage.

    Parameters
    ----------
    events
        ``customer_events``, or None.
    orders
        ``customer_orders``, or None; anonymous sales (no person) have no journey and are
        left out.
    consents
        Keyed consent decisions (``customer_key``, ``channel``, ``granted``,
        ``recorded_at``, ``source``), or None.
    stages
        The stage model.
    json_text
        Reads a key of the events' JSON ``properties`` (``Engine.json_text``).

    Returns
    -------
    ibis.Table
        The columns of ``journey_timeline`` but ``seq``.
    """
    parts = []
    if events is not None:
        parts.append(_event_touchpoints(events, json_text))
    if orders is not None:
        parts.append(_order_touchpoints(orders))
    if consents is not None:
        parts.append(_consent_touchpoints(consents))
    spec = [c for c in JOURNEY_TIMELINE.columns if c.name not in (SEQ, STAGE, STAGE_NO)]
    # Named: a bare cast is called after its expression on Spark, not after the column.
    parts = [
        p.select(*[p[c.name].cast(IBIS_TYPES[c.dtype]).name(c.name) for c in spec]) for p in parts
    ]
    t = ibis.union(*parts)
    stage, stage_no = stage_of(t[TOUCHPOINT], t.channel, stages)
    return t.mutate(**{STAGE: stage, STAGE_NO: stage_no})


def _event_touchpoints(events: ibis.Table, json_text: JsonText) -> ibis.Table:
    e = events.filter(events[CUSTOMER_KEY].notnull() | events.anonymous_id.notnull())
    props = e.properties
    return e.select(
        **{JOURNEY_ID: _journey_id(e[CUSTOMER_KEY], e.anonymous_id)},
        **{CUSTOMER_KEY: e[CUSTOMER_KEY]},
        anonymous_id=e.anonymous_id,
        **{OCCURRED_AT: e.occurred_at},
        **{TOUCHPOINT: e.type},
        **{OUTCOME: _event_outcome(e, json_text)},
        channel=e.channel,
        device=ibis.coalesce(json_text(props, "device"), json_text(props, "os")),
        session_id=e.session_id,
        order_id=json_text(props, "order_id"),
        amount=ibis.ifelse(e.type == "purchase", json_text(props, "revenue").cast("float64"), None),
        url=e.url,
        source=e.source,
        ref=e.event_id,
    )


def _order_touchpoints(orders: ibis.Table) -> ibis.Table:
    o = orders.filter(orders[CUSTOMER_KEY].notnull())
    return o.select(
        **{JOURNEY_ID: o[CUSTOMER_KEY]},
        **{CUSTOMER_KEY: o[CUSTOMER_KEY]},
        anonymous_id=ibis.null(str),
        **{OCCURRED_AT: o.ordered_at},
        **{TOUCHPOINT: ibis.literal(ORDER_TOUCHPOINT)},
        **{OUTCOME: o.status},
        channel=o.channel,
        device=ibis.null(str),
        session_id=ibis.null(str),
        order_id=o.order_id,
        amount=o.total_amount,
        url=ibis.null(str),
        source=o.source,
        ref=o.order_id,
    )


def _consent_touchpoints(c: ibis.Table) -> ibis.Table:
    return c.select(
        **{JOURNEY_ID: c[CUSTOMER_KEY]},
        **{CUSTOMER_KEY: c[CUSTOMER_KEY]},
        anonymous_id=ibis.null(str),
        **{OCCURRED_AT: c.recorded_at},
        **{TOUCHPOINT: ibis.ifelse(c.granted, "consent_granted", "consent_withdrawn")},
        **{OUTCOME: ibis.null(str)},
        channel=c.channel,
        device=ibis.null(str),
        session_id=ibis.null(str),
        order_id=ibis.null(str),
        amount=ibis.null("float64"),
        url=ibis.null(str),
        source=c.source,
        ref=ibis.null(str),
    )


def sequenced(t: ibis.Table) -> ibis.Table:
    """Number the touchpoints of each journey from 0 in time order.

    Ties (the same second) follow the stage order, so that a cart and its checkout logged in
    the same second stay in the order they happen.
    """
    order = [
        t[OCCURRED_AT],
        ibis.coalesce(t[STAGE_NO], 99),
        t[TOUCHPOINT],
        t.ref,
    ]
    return t.mutate(**{SEQ: ibis.row_number().over(group_by=t[JOURNEY_ID], order_by=order)})


def keyed_consents(engine: Engine) -> ibis.Table | None:
    """Every consent decision with its person: the history when identity_map exists."""
    if engine.has_table(CONSENTS.name) and engine.has_table(IDENTITY_MAP.name):
        c, m = engine.table(CONSENTS.name), engine.table(IDENTITY_MAP.name)
        j = c.join(m, [c.source == m.source, c.customer_id == m.source_id])
        return j.select(
            **{CUSTOMER_KEY: j[CUSTOMER_KEY]},
            channel=j.channel,
            granted=j.granted,
            recorded_at=j.recorded_at,
            source=c.source,
        )
    if engine.has_table(CUSTOMER_CONSENTS.name):
        return engine.table(CUSTOMER_CONSENTS.name)
    return None


def _touchpoints_of(engine: Engine, stages: Sequence[StageConfig]) -> ibis.Table:
    """The touchpoints of what exists: events, orders and consents, each optional."""
    events, orders = (
        engine.table(spec.name) if engine.has_table(spec.name) else None
        for spec in (CUSTOMER_EVENTS, CUSTOMER_ORDERS)
    )
    if events is None and orders is None:
        raise MissingInputError(
            "no events or orders resolved to persons",
            hint="ingest events or orders (parcours ingest events FILE), then parcours resolve",
        )
    return touchpoints(events, orders, keyed_consents(engine), stages, engine.json_text)


def journey_timeline(engine: Engine, stages: Sequence[StageConfig]) -> ibis.Table:
    """The whole ``journey_timeline`` from the keyed facts of the workspace."""
    return conform(sequenced(_touchpoints_of(engine, stages)), JOURNEY_TIMELINE)


def timeline(engine: Engine, stages: Sequence[StageConfig], who: str) -> pd.DataFrame:
    """One journey's touchpoints in order: a customer_key, or an anonymous visitor's id.

    Raises
    ------
    UserInputError
        When nobody has this id.
    """
    t = _touchpoints_of(engine, stages)
    owner = t.filter(t.anonymous_id == who).select(t[JOURNEY_ID]).distinct()
    ids = [who, ANONYMOUS_PREFIX + who]
    one = t.filter(t[JOURNEY_ID].isin(ids) | t[JOURNEY_ID].isin(owner[JOURNEY_ID]))
    one = conform(sequenced(one), JOURNEY_TIMELINE)
    rows = engine.to_pyarrow(one.order_by([one[JOURNEY_ID], one[SEQ]])).to_pandas()
    if rows.empty:
        raise UserInputError(
            f"unknown customer {who!r}: no touchpoint has this customer_key or anonymous id",
            hint='list customers with: parcours sql "select customer_key from customers_golden"',
        )
    return rows
