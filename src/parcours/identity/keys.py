"""Stable customer keys: clusters inherit the key most of their records had before.

A cluster takes the previous key held by most of its records; when a previous key is claimed
by several clusters (a split), the cluster holding most of its records keeps it. Others get a
new key, the md5 of their smallest record id and the resolution's generation, so that the
same data and history always give the same keys, on DuckDB and on Spark alike.
"""

from __future__ import annotations

import datetime as dt

import ibis

from parcours.identity.records import RID
from parcours.schema import CUSTOMER_KEY

KEY_PREFIX = "C"
KEY_DIGITS = 15


def assign_keys(components: ibis.Table, previous: ibis.Table | None, generation: int) -> ibis.Table:
    """``rid``, ``component`` -> ``rid``, ``customer_key``, ``previous_key``."""
    if previous is None:
        j = components.mutate(previous_key=ibis.null(str))
    else:
        p = previous.select(RID, previous_key=previous[CUSTOMER_KEY])
        j = components.left_join(p, components[RID] == p[RID]).select(
            components[RID], components.component, p.previous_key
        )
    held = (
        j.filter(j.previous_key.notnull())
        .group_by("component", "previous_key")
        .aggregate(n=ibis._.count())
    )
    best = held.mutate(
        rank=ibis.row_number().over(
            group_by=held.component, order_by=[ibis.desc(held.n), held.previous_key]
        )
    ).filter(ibis._["rank"] == 0)
    keeper = best.mutate(
        rank=ibis.row_number().over(
            group_by=best.previous_key, order_by=[ibis.desc(best.n), best.component]
        )
    ).filter(ibis._["rank"] == 0)
    kept = keeper.select("component", kept_key=keeper.previous_key)
    k = j.left_join(kept, j.component == kept.component)
    fresh = ibis.literal(KEY_PREFIX).concat(
        k.component.concat(f"#{generation}").hexdigest("md5").upper().substr(0, KEY_DIGITS)
    )
    return k.select(
        k[RID],
        **{CUSTOMER_KEY: ibis.coalesce(k.kept_key, fresh)},
        previous_key=k.previous_key,
    )


def key_changes(assigned: ibis.Table, resolved_at: dt.datetime) -> ibis.Table:
    """Rows of ``identity_changes``: new keys, merges (keys absorbed), splits (keys left)."""
    a = assigned
    per_key = a.group_by(CUSTOMER_KEY).aggregate(
        records=a[RID].count(),
        kept=(a.previous_key == a[CUSTOMER_KEY]).fill_null(False).any(),
    )
    moved = a.filter(a.previous_key.notnull() & (a.previous_key != a[CUSTOMER_KEY]))
    absorbed = moved.group_by(CUSTOMER_KEY).aggregate(
        other_keys=moved.previous_key.collect(distinct=True).sort().join(",")
    )
    left_for = moved.group_by(moved.previous_key).aggregate(
        other_keys=moved[CUSTOMER_KEY].collect(distinct=True).sort().join(",")
    )
    at = ibis.literal(resolved_at, type="timestamp(6)")
    p = per_key.left_join(absorbed, per_key[CUSTOMER_KEY] == absorbed[CUSTOMER_KEY])
    new = p.filter(~p.kept).select(
        resolved_at=at,
        change=ibis.literal("new"),
        **{CUSTOMER_KEY: p[CUSTOMER_KEY]},
        other_keys=p.other_keys,
        records=p.records,
    )
    merges = p.filter(p.kept & p.other_keys.notnull()).select(
        resolved_at=at,
        change=ibis.literal("merge"),
        **{CUSTOMER_KEY: p[CUSTOMER_KEY]},
        other_keys=p.other_keys,
        records=p.records,
    )
    # A previous key that still exists but lost records was split.
    still = per_key.filter(per_key.kept).select(key=per_key[CUSTOMER_KEY], records=per_key.records)
    s = left_for.join(still, left_for.previous_key == still.key)
    splits = s.select(
        resolved_at=at,
        change=ibis.literal("split"),
        **{CUSTOMER_KEY: s.previous_key},
        other_keys=s.other_keys,
        records=s.records,
    )
    return new.union(merges).union(splits)
