"""Orders, events and consents keyed by the person (``customer_key``).

A fact names its customer by the source's customer id, so it joins the record of that source.
Anonymous browsing is stitched to a person once a login or identify event of the same
anonymous id names them; an anonymous id identified as several persons (a shared device)
goes to the one it was identified as most often, the earliest on a tie.
"""

from __future__ import annotations

import ibis

from parcours.schema import (
    CUSTOMER_CONSENTS,
    CUSTOMER_EVENTS,
    CUSTOMER_KEY,
    CUSTOMER_ORDERS,
    SOURCE,
)


def _keyed(facts: ibis.Table, identity_map: ibis.Table) -> ibis.Table:
    m = identity_map.select(
        map_source=identity_map[SOURCE],
        map_id=identity_map.source_id,
        key=identity_map[CUSTOMER_KEY],
    )
    j = facts.left_join(m, [facts[SOURCE] == m.map_source, facts.customer_id == m.map_id])
    return j.select(**{CUSTOMER_KEY: j.key}, **{c: j[c] for c in facts.columns})


def customer_orders(orders: ibis.Table, identity_map: ibis.Table) -> ibis.Table:
    return _keyed(orders, identity_map).select(*CUSTOMER_ORDERS.column_names)


def customer_events(events: ibis.Table, identity_map: ibis.Table) -> ibis.Table:
    e = _keyed(events, identity_map)
    seen = e.filter(e.anonymous_id.notnull() & e[CUSTOMER_KEY].notnull())
    counts = seen.group_by(visitor=seen.anonymous_id, person=seen[CUSTOMER_KEY]).aggregate(
        n=seen.count(), first=seen.occurred_at.min()
    )
    best = counts.mutate(
        rank=ibis.row_number().over(
            group_by=counts.visitor, order_by=[ibis.desc(counts.n), counts.first, counts.person]
        )
    )
    best = best.filter(best["rank"] == 0).select("visitor", "person")
    s = e.left_join(best, e.anonymous_id == best.visitor)
    return s.select(
        **{CUSTOMER_KEY: ibis.coalesce(s[CUSTOMER_KEY], s.person)},
        **{c: s[c] for c in events.columns},
    ).select(*CUSTOMER_EVENTS.column_names)


def customer_consents(consents: ibis.Table, identity_map: ibis.Table) -> ibis.Table:
    """Per person and channel the latest decision of any source; an opt-out wins a tie."""
    k = _keyed(consents, identity_map)
    k = k.filter(k[CUSTOMER_KEY].notnull())
    ranked = k.mutate(
        rank=ibis.row_number().over(
            group_by=[k[CUSTOMER_KEY], k.channel],
            order_by=[ibis.desc(k.recorded_at), k.granted, k[SOURCE], k.customer_id],
        )
    )
    return ranked.filter(ranked["rank"] == 0).select(*CUSTOMER_CONSENTS.column_names)
